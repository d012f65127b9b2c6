/**
 * What an alert tells a person to run or open: the exact `npm run query` commands that list the
 * replicas behind it, and the CloudWatch dashboard. People paste these lines into a terminal, so
 * they are built by the one shell quoting the CLI uses too (functions/engine/text/).
 */
import { flagWords, historyQueryHint, listQueryHint, type QueryTarget } from '../engine/text/query-hint.js';
import type { Alert } from './alert.js';

/** Where the notifier runs and what it may name: from its environment (see handler.ts). */
export interface AlertContext {
  region: string;
  replicasTable: string;
  eventsTable: string;
  /** The CloudWatch dashboard's name; no link without it. */
  dashboardName?: string;
}

/** Fine-tune statuses the engine classes as failed; the first is what to ask for when none is known. */
const FAILED_FINETUNE_STATUSES = ['failed', 'errored', 'error'];

/** The commands that list the alerts' replicas, then the history of the first one. */
export function queryCommands(alerts: readonly Alert[], context: AlertContext): string[] {
  const target: QueryTarget = { env: [['AWS_REGION', context.region]], replicasTable: context.replicasTable, eventsTable: context.eventsTable };
  const kinds = new Set(alerts.map((alert) => alert.kind));
  const commands: string[] = [];
  if (kinds.has('stuck')) commands.push(listQueryHint(['--stuck'], target));
  if (kinds.has('error')) commands.push(listQueryHint(['--status', 'error'], target));
  if (kinds.has('finetune_failed')) {
    const statuses = new Set(alerts.filter((alert) => alert.kind === 'finetune_failed').map((alert) => alert.finetune_status ?? FAILED_FINETUNE_STATUSES[0]!));
    for (const status of [...statuses].sort()) commands.push(listQueryHint(flagWords('--finetune', status), target));
  }
  const first = alerts[0];
  if (first !== undefined) commands.push(historyQueryHint(first.replica_id, target));
  return commands;
}

/** The dashboard in the AWS console, as the stack's DashboardUrl output gives it. */
export function dashboardUrl(context: AlertContext): string | undefined {
  if (!context.dashboardName) return undefined;
  const region = encodeURIComponent(context.region);
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${encodeURIComponent(context.dashboardName)}`;
}
