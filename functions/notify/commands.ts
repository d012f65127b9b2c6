/**
 * What an alert tells a person to run or open: the exact `npm run query` commands that list the
 * replicas behind it, and the CloudWatch dashboard. Values that come from the API (a replica id,
 * a fine-tune status) are shell-quoted when they are anything but plain words, since people
 * paste these lines into a terminal.
 */
import { DEFAULT_TABLE_NAMES } from '../engine/contract/tables.js';
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
  const query = (args: string) => `AWS_REGION=${shellWord(context.region)} npm run query -- ${args}`;
  const table = context.replicasTable === DEFAULT_TABLE_NAMES.replicas ? '' : ` --table ${shellWord(context.replicasTable)}`;
  const kinds = new Set(alerts.map((alert) => alert.kind));
  const commands: string[] = [];
  if (kinds.has('stuck')) commands.push(query(`--stuck${table}`));
  if (kinds.has('error')) commands.push(query(`--status error${table}`));
  if (kinds.has('finetune_failed')) {
    const statuses = new Set(alerts.filter((alert) => alert.kind === 'finetune_failed').map((alert) => alert.finetune_status ?? FAILED_FINETUNE_STATUSES[0]!));
    for (const status of [...statuses].sort()) commands.push(query(`--finetune ${shellWord(status)}${table}`));
  }
  const first = alerts[0];
  if (first !== undefined) {
    const events = context.eventsTable === DEFAULT_TABLE_NAMES.events ? '' : ` --events-table ${shellWord(context.eventsTable)}`;
    commands.push(query(`history ${shellWord(first.replica_id)}${events}`));
  }
  return commands;
}

/** The dashboard in the AWS console, as the stack's DashboardUrl output gives it. */
export function dashboardUrl(context: AlertContext): string | undefined {
  if (!context.dashboardName) return undefined;
  const region = encodeURIComponent(context.region);
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards:name=${encodeURIComponent(context.dashboardName)}`;
}

/** A word the shell reads as itself: plain ones as they are, anything else in single quotes. */
export function shellWord(value: string): string {
  return /^[A-Za-z0-9._\-/:=@]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
