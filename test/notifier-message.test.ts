/**
 * The notifier's messages, unit by unit: subjects that count within SNS's rules, bodies that name
 * every listed replica and stop at 20, commands a shell reads as written, chat markdown that no
 * value can break, and a Publish input that never exceeds SNS's 256 KB whatever the values.
 */
import { readFileSync } from 'node:fs';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { alertsFromRecords, type Alert } from '../functions/notify/alert.js';
import { queryCommands, type AlertContext } from '../functions/notify/commands.js';
import { shellWord } from '../functions/engine/text/shell-command.js';
import { alertContext } from '../functions/notify/handler.js';
import { alertMessage, SNS_MAX_BYTES, snsMessage, subjectLine } from '../functions/notify/message.js';
import { alertEventItem, manyAlerts } from './support/alert-events.js';
import { EXAMPLE_ALERTS, EXAMPLE_CONTEXT } from './support/alert-example.js';
import { hostileTexts, rawControlsIn } from './support/hostile-text.js';

const context: AlertContext = { region: 'eu-west-1', replicasTable: 'tavus-replicas', eventsTable: 'tavus-replica-events', dashboardName: 'TavusReplicaSync-eu-west-1' };
const alert = (fields: Partial<Alert> & Pick<Alert, 'replica_id' | 'kind'>): Alert => ({ replica_name: `Name of ${fields.replica_id}`, ...fields });

/** A stream record as Lambda sends it, from an item (strings and numbers only, as events hold). */
function record(item: Record<string, unknown>, eventName: DynamoDBRecord['eventName'] = 'INSERT'): DynamoDBRecord {
  const image = Object.fromEntries(
    Object.entries(item).flatMap(([name, value]): Array<[string, unknown]> =>
      typeof value === 'string' ? [[name, { S: value }]] : typeof value === 'number' ? [[name, { N: String(value) }]] : value === null ? [[name, { NULL: true }]] : [],
    ),
  );
  return { eventName, dynamodb: { NewImage: image as never, SequenceNumber: '1' } };
}

describe('reading alerts from stream records', () => {
  it('takes inserted alert events with their snapshot, and skips everything else', () => {
    const stuck = alertEventItem({ replica_id: 'r1', kind: 'stuck', replica_name: 'One', training_progress: '10/100', since: '2026-11-29T01:00:00.000Z' });
    const plain = { replica_id: 'r2', event_key: '0000000001#created', at: '2026-11-29T10:00:00.000Z', type: 'created', from: null, to: 'started', run_id: 'x' };
    const alerts = alertsFromRecords([record(stuck), record(plain), record(stuck, 'MODIFY'), record(stuck, 'REMOVE'), { eventName: 'INSERT' }]);
    expect(alerts).toEqual([
      { replica_id: 'r1', kind: 'stuck', at: '2026-11-29T10:00:00.000Z', run_id: 'run-alerts-test', replica_name: 'One', training_progress: '10/100', since: '2026-11-29T01:00:00.000Z' },
    ]);
  });

  it('lists a replica once per kind, with its latest event', () => {
    const older = alertEventItem({ replica_id: 'r1', kind: 'error', at: '2026-11-29T01:00:00.000Z', error_message: 'old' });
    const newer = alertEventItem({ replica_id: 'r1', kind: 'error', at: '2026-11-29T02:00:00.000Z', error_message: 'new', version: 2 });
    const stuck = alertEventItem({ replica_id: 'r1', kind: 'stuck' });
    const alerts = alertsFromRecords([newer, older, stuck].map((item) => record(item)));
    expect(alerts.map((a) => `${a.kind}:${a.error_message ?? ''}`).sort()).toEqual(['error:new', 'stuck:']);
  });
});

describe('the subject', () => {
  it('counts replicas by kind, the first phrase naming them', () => {
    const counts = (entries: Array<[string, number]>) => subjectLine(new Map(entries));
    expect(counts([['stuck', 2], ['error', 1]])).toBe('Tavus: 2 replicas stuck, 1 failed');
    expect(counts([['error', 1]])).toBe('Tavus: 1 replica failed');
    expect(counts([['finetune_failed', 3]])).toBe('Tavus: 3 replica fine-tunes failed');
    expect(counts([['stuck', 1], ['finetune_failed', 1], ['quota', 2]])).toBe('Tavus: 1 replica stuck, 1 fine-tune failed, 2 other alerts');
  });

  it('is printable ASCII of at most 100 characters, whatever the kinds', () => {
    const kinds = new Map(Array.from({ length: 40 }, (_, i): [string, number] => [i % 2 ? `kïnd\n${i}` : ['stuck', 'error', 'finetune_failed'][i % 3]!, 123_456 + i]));
    const subject = subjectLine(kinds);
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('the plain-text body', () => {
  it('names each replica by name and id with kind, state, since and error message, then what to run and the dashboard', () => {
    const message = alertMessage(
      [
        alert({ replica_id: 'rerr', kind: 'error', replica_name: 'Sales pitch', status: 'error', error_message: 'Video too short:\r\nneeds a minute', since: '2026-11-29T09:55:12.000Z' }),
        alert({ replica_id: 'rstk', kind: 'stuck', replica_name: 'Studio intro', status: 'started', training_progress: '40/100', since: '2026-11-29T04:00:00.000Z' }),
        alert({ replica_id: 'rft', kind: 'finetune_failed', replica_name: undefined, status: 'completed', finetune_status: 'failed' }),
      ],
      context,
    );
    expect(message.subject).toBe('Tavus: 1 replica stuck, 1 failed, 1 fine-tune failed');
    expect(message.kinds).toEqual(['stuck', 'error', 'finetune_failed']);
    expect(message.text).toBe(
      [
        '3 Tavus replicas need attention: 1 stuck, 1 in error, 1 fine-tune failed.',
        '',
        '- Studio intro (rstk): stuck since 2026-11-29 04:00 UTC',
        '    status started, progress 40/100',
        '- Sales pitch (rerr): in error since 2026-11-29 09:55 UTC',
        '    status error',
        '    error message: Video too short: needs a minute',
        '- (no name) (rft): fine-tune failed',
        '    status completed, fine-tune failed',
        '',
        'What to do:',
        '  AWS_REGION=eu-west-1 npm run query -- --stuck',
        '  AWS_REGION=eu-west-1 npm run query -- --status error',
        '  AWS_REGION=eu-west-1 npm run query -- --finetune failed',
        '  AWS_REGION=eu-west-1 npm run query -- history rstk',
        'Dashboard: https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=TavusReplicaSync-eu-west-1',
        '',
      ].join('\n'),
    );
  });

  it('lists at most 20 replicas, then says how many more, for any batch size', () => {
    for (const size of [1, 19, 20, 21, 500]) {
      const alerts = manyAlerts(size).map(({ kind, ...rest }) => ({ ...rest, kind }));
      const { text } = alertMessage(alerts, context);
      const listed = text.split('\n').filter((line) => line.startsWith('- '));
      expect(listed, String(size)).toHaveLength(Math.min(size, 20));
      for (const line of listed) expect(line).toMatch(/^- Replica \d{4} \(rmany\d{4}\): /);
      if (size > 20) expect(text).toContain(`and ${size - 20} more (${size} in all): the commands below list them.`);
      else expect(text).not.toContain(' more (');
    }
  });
});

describe('the commands', () => {
  it('name non-default tables and quote values a shell would read differently', () => {
    const custom = { ...context, replicasTable: 'acme-replicas', eventsTable: 'acme-events' };
    expect(queryCommands([alert({ replica_id: "r'; rm -rf ~", kind: 'finetune_failed', finetune_status: 'errored now' })], custom)).toEqual([
      "AWS_REGION=eu-west-1 npm run query -- --finetune 'errored now' --table acme-replicas --events-table acme-events",
      "AWS_REGION=eu-west-1 npm run query -- history 'r'\\''; rm -rf ~' --table acme-replicas --events-table acme-events",
    ]);
    expect(shellWord('r79e1c033f')).toBe('r79e1c033f');
  });

  it('take the region, tables and dashboard from the environment the stack sets', () => {
    expect(alertContext({ AWS_REGION: 'ap-south-1', REPLICAS_TABLE: 't1', REPLICA_EVENTS_TABLE: 't2', DASHBOARD_NAME: 'd' })).toEqual({
      region: 'ap-south-1',
      replicasTable: 't1',
      eventsTable: 't2',
      dashboardName: 'd',
    });
    expect(alertContext({}).dashboardName).toBeUndefined();
  });
});

describe('the chat notification', () => {
  it('is an AWS Chatbot custom notification whose values cannot mention a channel or break out of code', () => {
    const { chat } = alertMessage([alert({ replica_id: 'r<@U1>', kind: 'error', replica_name: '`x` <!here> *bold*', error_message: 'bad <https://evil|link>' })], context);
    expect(chat).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown', title: ':rotating_light: Tavus: 1 replica failed', keywords: ['error'] } });
    expect(chat.content.description).toBe('• `\u02cbx\u02cb &lt;!here&gt; *bold*` `r&lt;@U1&gt;`: *in error*\n    > `bad &lt;https://evil|link&gt;`');
    expect(chat.metadata).toEqual({ summary: 'Tavus: 1 replica failed', eventType: 'TavusReplicaAlert', relatedResources: ['r&lt;@U1&gt;'], additionalContext: { kinds: 'error', replicas: '1' } });
  });

  it('keeps the description within 8,000 characters and the title within 250, counting what it leaves out', () => {
    const huge = manyAlerts(60).map((a) => ({ ...a, replica_name: 'N'.repeat(5_000), error_message: 'E'.repeat(50_000) }));
    const { chat } = alertMessage(huge, context);
    expect(chat.content.description.length).toBeLessThanOrEqual(8_000);
    expect(chat.content.title.length).toBeLessThanOrEqual(250);
    const shown = chat.content.description.split('\n').filter((line) => line.startsWith('• ')).length;
    expect(shown).toBeGreaterThan(0);
    expect(chat.content.description).toContain(`_and ${60 - shown} more (60 in all)`);
  });
});

describe('the SNS Publish input', () => {
  it('carries default and email text and the chat JSON, with the kinds as a String.Array attribute', () => {
    const message = alertMessage([alert({ replica_id: 'r1', kind: 'stuck' })], context);
    const input = snsMessage(message);
    expect(input.MessageStructure).toBe('json');
    expect(input.MessageAttributes).toEqual({ kinds: { DataType: 'String.Array', StringValue: '["stuck"]' } });
    const bodies = JSON.parse(input.Message) as Record<string, string>;
    expect(Object.keys(bodies)).toEqual(['default', 'email', 'https']);
    expect(bodies.default).toBe(message.text);
    expect(bodies.email).toBe(message.text);
    expect(JSON.parse(bodies.https!)).toEqual(message.chat);
  });

  it('stays within 256 KB with the largest values, and cuts the text at a character boundary when a limit demands it', () => {
    const huge = manyAlerts(300).map((a) => ({ ...a, replica_name: '名'.repeat(20_000), error_message: '😀'.repeat(20_000) }));
    const full = snsMessage(alertMessage(huge, context));
    expect(Buffer.byteLength(full.Message) + Buffer.byteLength(JSON.stringify(full.MessageAttributes))).toBeLessThanOrEqual(SNS_MAX_BYTES);
    const cut = snsMessage(alertMessage(huge, context), 20_000);
    expect(Buffer.byteLength(cut.Message) + Buffer.byteLength(JSON.stringify(cut.MessageAttributes))).toBeLessThanOrEqual(20_000);
    const text = (JSON.parse(cut.Message) as { default: string }).default;
    expect(text).toContain('[Cut to fit the 256 KB limit of an SNS message');
    expect(text).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});

describe('the deploy guide (docs/deploying.md, "Alerts")', () => {
  const guide = readFileSync(new URL('../docs/deploying.md', import.meta.url), 'utf8');

  it('shows the e-mail and the chat message exactly as the formatter writes them', () => {
    const message = alertMessage(EXAMPLE_ALERTS, EXAMPLE_CONTEXT);
    expect(guide).toContain(`\`\`\`text\n${message.subject}\n\`\`\``);
    expect(guide).toContain(`\`\`\`text\n${message.text}\`\`\``);
    expect(guide).toContain(`\`\`\`json\n${JSON.stringify(message.chat, null, 2)}\n\`\`\``);
  });
});

describe('hostile text in alerts, class by class', () => {
  const texts = hostileTexts();
  const fields = ['replica_id', 'replica_name', 'error_message', 'status', 'training_progress', 'finetune_status', 'since'] as const;
  const messages = fields.flatMap((field) =>
    texts.map((text) => ({ field, text, message: alertMessage([alert({ replica_id: 'r1', kind: 'error', error_message: 'plain', [field]: text })], context) })),
  );

  it('leaves the chat message no raw markup: no <, no link brackets, no way out of a code span', () => {
    for (const { field, text, message } of messages) {
      const why = `${field} ${JSON.stringify(text)}`;
      const { description, nextSteps, title, keywords } = message.chat.content;
      for (const part of [description, title, ...nextSteps, ...keywords, ...message.chat.metadata.relatedResources]) {
        // `>` only as the template's quote marker, checked with the line shapes below.
        expect(part.replace(/^ {4}> /gm, ''), why).not.toMatch(/[<>[\]]/);
        expect(rawControlsIn(part), why).toEqual([]);
      }
      // Every value sits inside a code span; outside them only the template's own words remain.
      const lines = description.split('\n');
      expect(lines, why).toHaveLength(2);
      for (const line of lines) expect(line.replace(/`[^`\n]*`/g, '§'), why).toMatch(/^(• § §: \*in error\*( since §)?( \(§\))?| {4}> §)$/);
      for (const step of nextSteps) expect(step, why).toMatch(/^(`[^`]+`|Dashboard: https:\/\/\S+)$/);
    }
  });

  it('keeps the e-mail plain text, one line per value, and the subject one printable line', () => {
    for (const { field, text, message } of messages) {
      const why = `${field} ${JSON.stringify(text)}`;
      expect(rawControlsIn(message.text), why).toEqual([]);
      const lines = message.text.split('\n');
      expect(lines.filter((line) => line.startsWith('- ')), why).toHaveLength(1);
      expect(lines.filter((line) => /^(error|info|touch) /.test(line)), why).toEqual([]);
      expect(message.subject, why).toMatch(/^[\x20-\x7e]{1,100}$/);
      expect(snsMessage(message).Subject, why).toMatch(/^[\x20-\x7e]{1,100}$/);
    }
  });
});
