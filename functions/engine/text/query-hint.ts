/**
 * `npm run query` commands printed for a person to paste: by the CLI after a sync and in the
 * report, and by the alerts. Each carries the flags that point it at the same tables as the run
 * that printed it, so it works as printed; every value is shell-quoted (shell-command.ts).
 */
import { DEFAULT_TABLE_NAMES } from '../contract/tables.js';
import { shellLine } from './shell-command.js';

/** Where the tables the command should read are: what the printing run itself used. */
export interface QueryTarget {
  /** The run used the embedded DynamoDB Local (`--local`). */
  local?: boolean;
  /** A DynamoDB endpoint other than AWS's (`--endpoint URL`). */
  endpoint?: string;
  /** The tables' names; flags are added only for names that are not the defaults. */
  replicasTable?: string;
  eventsTable?: string;
  /** Variables the command needs first, e.g. the region for a deployed stack's tables. */
  env?: ReadonlyArray<readonly [string, string]>;
}

/** `npm run query -- --stuck --local`: a listing with these filter words (flags and their values). */
export function listQueryHint(filters: readonly string[], target: QueryTarget): string {
  return shellLine({ env: target.env, words: ['npm', 'run', 'query', '--', ...filters, ...targetFlags(target)] });
}

/** `npm run query -- history ID --local`; an id that looks like a flag comes after `--`. */
export function historyQueryHint(replicaId: string, target: QueryTarget): string {
  const id = replicaId.startsWith('-') ? [...targetFlags(target), '--', replicaId] : [replicaId, ...targetFlags(target)];
  return shellLine({ env: target.env, words: ['npm', 'run', 'query', '--', 'history', ...id] });
}

/** A flag with a value from data: `--finetune errored`, or `--finetune=-x` when the value looks like a flag. */
export function flagWords(flag: string, value: string): string[] {
  return value.startsWith('-') ? [`${flag}=${value}`] : [flag, value];
}

function targetFlags({ local, endpoint, replicasTable, eventsTable }: QueryTarget): string[] {
  return [
    ...(local ? ['--local'] : []),
    ...(endpoint !== undefined && !local ? flagWords('--endpoint', endpoint) : []),
    ...(replicasTable !== undefined && replicasTable !== DEFAULT_TABLE_NAMES.replicas ? flagWords('--table', replicasTable) : []),
    ...(eventsTable !== undefined && eventsTable !== DEFAULT_TABLE_NAMES.events ? flagWords('--events-table', eventsTable) : []),
  ];
}
