/**
 * What the docs state as fact, held to the code: the deploy guide's resource table, alarm table,
 * costs and manual run against the DEFAULT synthesized stack (opt-in parts may add rows, never
 * hide one); every scripted `npm run` example quiet (`-s`), so stdout carries only the data; the
 * analysts' guide's word on the simulator against the account it serves. One synth, no bundling.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeReplicas } from '../local/tavus-simulator.js';
import { finetuneClass } from '../functions/engine/model/finetune.js';
import { buildApp } from './support/cdk-app.js';

type Resource = { Type: string; Properties: Record<string, any> };

const read = (relative: string) => readFileSync(new URL(`../${relative}`, import.meta.url), 'utf8');
const guide = read('docs/deploying.md');

let resources: Array<[string, Resource]>;
const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);

beforeAll(() => {
  resources = Object.entries(buildApp({ bundle: false }).template.toJSON().Resources as Record<string, Resource>);
}, 300_000); // a synth is slow on a loaded machine

/** The text of a `## heading` section, up to the next heading of the same level. */
function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const end = markdown.indexOf('\n## ', start + 1);
  return markdown.slice(start, end === -1 ? undefined : end);
}

/** The body rows of the first table in `text`, each as its cells (outer pipes dropped). */
function tableRows(text: string): string[][] {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith('| '));
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('| '));
  return lines.slice(start + 2, end === -1 ? undefined : end).map((line) => line.slice(2, -2).split(' | '));
}

/** Each resource type in the stack, and the first words of its row(s) in "What the stack creates". */
const ROW_LABELS: Record<string, string> = {
  'AWS::DynamoDB::GlobalTable': 'DynamoDB table',
  'AWS::SecretsManager::Secret': 'Secrets Manager secret',
  'AWS::Lambda::Function': 'Lambda function',
  'AWS::Lambda::EventSourceMapping': 'Event source mapping',
  'AWS::Scheduler::Schedule': 'EventBridge Scheduler schedule',
  'AWS::SQS::Queue': 'SQS',
  'AWS::SNS::Topic': 'SNS topic',
};
/** Types told within other rows: each is named in as many rows as the stack has of it. */
const NAMED_IN_ROWS: Record<string, string> = {
  'AWS::KMS::Key': 'KMS key',
  'AWS::Logs::LogGroup': 'log group',
};
/** Types one row covers however many there are. */
const ONE_ROW: Record<string, string> = {
  'AWS::CloudWatch::Alarm': 'alarms',
  'AWS::CloudWatch::CompositeAlarm': 'alarms',
  'AWS::CloudWatch::Dashboard': 'dashboard',
};
/** Plumbing a reader need not be told about: roles, policies, invoke settings, CDK's own. */
const PLUMBING = new Set([
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::SQS::QueuePolicy',
  'AWS::SNS::TopicPolicy',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::Lambda::Permission',
  'AWS::CDK::Metadata',
]);

describe('the deploy guide, "What the stack creates"', () => {
  const rows = () => tableRows(guide.slice(guide.indexOf('What the stack (`TavusReplicaSync`) creates:')));

  it('has a row for every resource a reader would look for, as many rows as the stack has of each', () => {
    const types = new Set(resources.map(([, r]) => r.Type));
    for (const type of types) {
      const known = type in ROW_LABELS || type in NAMED_IN_ROWS || type in ONE_ROW || PLUMBING.has(type) || type.startsWith('Custom::');
      expect(known, `${type}: add it to the deploy guide's table (and to this test's lists)`).toBe(true);
    }
    for (const [type, label] of Object.entries(ROW_LABELS)) {
      expect(rows().filter(([first]) => first!.startsWith(label)).length, type).toBe(ofType(type).length);
    }
    for (const [type, words] of Object.entries(NAMED_IN_ROWS)) {
      expect(rows().filter((row) => row.join(' ').includes(words)).length, type).toBe(ofType(type).length);
    }
    for (const [type, word] of Object.entries(ONE_ROW)) {
      if (ofType(type).length > 0) expect(rows().some(([first]) => first!.includes(word)), type).toBe(true);
    }
  });

  it('names each table, and says which one has a stream', () => {
    for (const [, table] of ofType('AWS::DynamoDB::GlobalTable')) {
      const row = rows().find(([first]) => first === `DynamoDB table \`${table.Properties.TableName}\``);
      expect(row, table.Properties.TableName).toBeDefined();
      expect(row!.join(' ').includes('stream'), table.Properties.TableName).toBe(table.Properties.StreamSpecification !== undefined);
    }
  });

  it('gives each function the memory and timeout it deploys with', () => {
    const stated = rows()
      .filter(([first]) => first!.startsWith('Lambda function'))
      .map((row) => /(\d+) MB, (\d+)-minute timeout/.exec(row.join(' '))?.slice(1).join(' MB, ') ?? row.join(' '));
    const deployed = ofType('AWS::Lambda::Function').map(([, fn]) => `${fn.Properties.MemorySize} MB, ${fn.Properties.Timeout / 60}`);
    expect(stated.sort()).toEqual(deployed.sort());
  });
});

describe('the deploy guide, "Alarms"', () => {
  const alarmRows = () => tableRows(section(guide, 'Alarms'));

  it('has a row for every alarm that notifies, and names the alarms a composite combines in its row', () => {
    const alarms = [...ofType('AWS::CloudWatch::Alarm'), ...ofType('AWS::CloudWatch::CompositeAlarm')];
    expect(alarms.length).toBeGreaterThan(0);
    const rowOf = (name: string) => alarmRows().find(([first]) => first === `\`${name}\``);
    for (const [id, alarm] of alarms) {
      const name = String(alarm.Properties.AlarmName);
      if (alarm.Properties.AlarmActions !== undefined) {
        expect(rowOf(name), `${name}: add a row to the alarm table`).toBeDefined();
        continue;
      }
      const composite = ofType('AWS::CloudWatch::CompositeAlarm').find(([, c]) => JSON.stringify(c.Properties.AlarmRule).includes(id));
      expect(composite, `${name} notifies nobody and feeds no composite`).toBeDefined();
      const row = rowOf(String(composite![1].Properties.AlarmName));
      expect(row?.join(' '), name).toContain(`\`${name.replace(/^TavusReplicaSync/, '')}\``);
    }
  });
});

describe('the deploy guide, "Costs"', () => {
  it('counts the KMS keys the stack has', () => {
    const words = ['zero', 'one', 'two', 'three', 'four', 'five'];
    const stated = /\b(\w+) KMS keys?\b/.exec(section(guide, 'Costs'))?.[1];
    expect(stated, 'the Costs section names no count of KMS keys').toBeDefined();
    const count = words.includes(stated!) ? words.indexOf(stated!) : Number(stated);
    expect(count).toBe(ofType('AWS::KMS::Key').length);
  });
});

describe('the deploy guide, "Run it once by hand"', () => {
  it('says what Lambda answers to an invoke during a run when the function has reserved concurrency 1', () => {
    const [[, fn]] = ofType('AWS::Lambda::Function').filter(([, f]) => f.Properties.ReservedConcurrentExecutions !== undefined) as [[string, Resource]];
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(1);
    const text = section(guide, 'Run it once by hand');
    expect(text).toContain('TooManyRequestsException');
    expect(text).toContain('reserveConcurrency=false');
  });
});

// ---- every guide -----------------------------------------------------------------------------

/** README.md and every docs/*.md, by name. */
function guides(): Array<[string, string]> {
  const docs = readdirSync(new URL('../docs/', import.meta.url)).filter((name) => name.endsWith('.md'));
  return [['README.md', read('README.md')], ...docs.map((name): [string, string] => [`docs/${name}`, read(`docs/${name}`)])];
}

/** Every `npm run` command the guides show: in code blocks (after an optional `$ `) and inline code. */
function npmRunCommands(markdown: string): string[] {
  const commands: string[] = [];
  let inBlock = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) inBlock = !inBlock;
    else if (inBlock && /^(\$ )?npm run /.test(line)) commands.push(line.replace(/^\$ /, '').replace(/\s+#.*$/, ''));
    if (!inBlock) for (const [, code] of line.matchAll(/`(npm run [^`]+)`/g)) commands.push(code!);
  }
  return commands;
}

describe('the examples in README.md and docs/', () => {
  it('run npm quietly (npm run -s) wherever stdout is data: --json, --format json or csv, a pipe, a redirect', () => {
    let scripted = 0;
    for (const [name, markdown] of guides()) {
      for (const command of npmRunCommands(markdown)) {
        if (!/--json\b|--format (json|csv)\b|\s[|>]\s/.test(command)) continue;
        // `query export` writes its files under --out: its stdout is a message, not data.
        if (/\bquery -- export\b/.test(command) && !/\s[|>]\s/.test(command)) continue;
        scripted += 1;
        expect(command.startsWith('npm run -s '), `${name}: ${command}`).toBe(true);
      }
    }
    expect(scripted).toBeGreaterThan(3); // the check found the examples it is about
  });
});

describe("the analysts' guide on the simulator", () => {
  it('names only fine-tune states the simulated account really serves', () => {
    const analysts = read('docs/analysts.md');
    const claim = /the simulator\s+serves by default has fine-tunes too: ([^)]*)\)/.exec(analysts)?.[1];
    expect(claim, 'the guide says what fine-tunes the simulator serves').toBeDefined();
    // The account `npm run simulator` serves: 250 replicas, seed 7 (cli/simulator-command.ts).
    const served = new Set(makeReplicas(250, { seed: 7 }).map((replica) => replica.finetune_status).filter(Boolean));
    const named = [...claim!.matchAll(/`(\w+)`/g)].map((match) => match[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const state of named) expect(served.has(state), state).toBe(true);
    for (const kind of ['in_progress', 'failed', 'done']) {
      expect(named.some((state) => finetuneClass(state) === kind), kind).toBe(true);
    }
  });
});
