/**
 * Commands printed for pasting (the CLI's hints, the report, the alerts): pasted into a real POSIX
 * shell (`sh -c`, dash here), each runs exactly one program with exactly the printed arguments,
 * whatever an id holds, and runs nothing else. `npm` is a stub on PATH that writes its arguments
 * back, NUL-separated, so the test sees what npm would have received.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { npmCommand, parseFlags, SYNC_FLAGS, tableFlagsGiven } from '../cli/args.js';
import { QUERY_FLAGS } from '../cli/query-command.js';
import { flagWords, historyQueryHint, listQueryHint } from '../functions/engine/text/query-hint.js';
import { queryCommands } from '../functions/notify/commands.js';
import { hostileTexts, rawControlsIn, SHELL_TEXTS } from './support/hostile-text.js';

const sandbox = mkdtempSync(path.join(tmpdir(), 'paste-'));
writeFileSync(path.join(sandbox, 'npm'), `#!/bin/sh\nprintf 'AWS_REGION=%s\\0' "$AWS_REGION"\nprintf '%s\\0' "$@"\n`);
chmodSync(path.join(sandbox, 'npm'), 0o755);
afterAll(() => rmSync(sandbox, { recursive: true, force: true }));

const END = '@@end of one paste@@';

/**
 * What npm receives when each line is pasted into sh: its environment's region, then its
 * arguments. One shell reads all the lines, one after another (a shell per line is slow here).
 */
function paste(lines: string[]): Array<{ region: string; args: string[] }> {
  const script = lines.map((line) => `${line}\nprintf '%s\\0' '${END}'\n`).join('');
  const out = execFileSync('sh', ['-c', script], { cwd: sandbox, env: { PATH: `${sandbox}:/usr/bin:/bin`, HOME: sandbox }, encoding: 'utf8' });
  const runs: Array<{ region: string; args: string[] }> = [];
  let fields: string[] = [];
  for (const field of out.split('\0').slice(0, -1)) {
    if (field !== END) fields.push(field);
    else {
      const [region = '', ...args] = fields;
      runs.push({ region: region.slice('AWS_REGION='.length), args });
      fields = [];
    }
  }
  expect(runs).toHaveLength(lines.length);
  return runs;
}

/** A NUL cannot travel in an argument (C strings end there); every other character must arrive. */
const ids = [...hostileTexts(), ...SHELL_TEXTS].filter((id) => !id.includes('\0'));

describe('commands printed for pasting', () => {
  it('repeat the table flags a person typed so the CLI reads them back, even a name that looks like a flag', () => {
    const typed = { table: '-odd.replicas', 'events-table': 'events.2', 'runs-table': 'runs_3' };
    const [pasted] = paste([npmCommand('sync', [...tableFlagsGiven(typed), '--release-lease'])]);
    const { values } = parseFlags(pasted!.args.slice(3), SYNC_FLAGS, 'sync');
    expect({ table: values.table, 'events-table': values['events-table'], 'runs-table': values['runs-table'] }).toEqual(typed);
    expect(values['release-lease']).toBe(true);
  });

  it('are one line of printable text for every hostile id', () => {
    for (const id of [...ids, 'with\0nul']) {
      const line = historyQueryHint(id, { local: true, replicasTable: 'other-table' });
      expect(rawControlsIn(line), JSON.stringify(id)).toEqual([]);
      expect(line.includes('\n'), JSON.stringify(id)).toBe(false);
    }
  });

  it('pass every hostile id to npm intact, with the flags of the run, and run nothing else', () => {
    const target = { endpoint: 'http://127.0.0.1:8000/?a=1&b=2', replicasTable: 'other-table', eventsTable: 'other-events' };
    const pasted = paste(ids.map((id) => historyQueryHint(id, target)));
    ids.forEach((id, i) => {
      const { args } = pasted[i]!;
      const flags = ['--endpoint', target.endpoint, '--table', 'other-table', '--events-table', 'other-events'];
      expect(args, JSON.stringify(id)).toEqual(['run', 'query', '--', 'history', ...(id.startsWith('-') ? [...flags, '--', id] : [id, ...flags])]);
      // The query CLI reads it back as history of exactly this id, even when the id looks like a flag.
      const { positionals, values } = parseFlags(args.slice(3), QUERY_FLAGS, 'query');
      expect(positionals, JSON.stringify(id)).toEqual(['history', id]);
      expect(values.table).toBe('other-table');
    });
    expect(readdirSync(sandbox)).toEqual(['npm']);
  });

  it('pass data in flag values intact too (a fine-tune status, a region), in the alerts as on a terminal', () => {
    const lists = paste(ids.map((value) => listQueryHint(flagWords('--finetune', value), { local: true })));
    ids.forEach((value, i) => expect(lists[i]!.args, JSON.stringify(value)).toEqual(['run', 'query', '--', ...flagWords('--finetune', value), '--local']));
    // The alert's commands: the finetune listing, then the history of the replica.
    const alerts = ids.map((value) => queryCommands([{ replica_id: value, kind: 'finetune_failed', finetune_status: value }], { region: value, replicasTable: 't-r', eventsTable: 't-e' }));
    for (const commands of alerts) expect(commands).toHaveLength(2);
    const pasted = paste(alerts.flat());
    ids.forEach((value, i) => {
      const [finetune, history] = [pasted[2 * i]!, pasted[2 * i + 1]!];
      expect([finetune.region, history.region], JSON.stringify(value)).toEqual([value, value]);
      expect(finetune.args.slice(3, -4), JSON.stringify(value)).toEqual(flagWords('--finetune', value));
      expect(history.args.filter((arg) => arg === value), JSON.stringify(value)).toEqual([value]);
    });
    expect(existsSync(path.join(sandbox, 'pwned'))).toBe(false);
  });
});
