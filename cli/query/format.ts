/** Rows out: an aligned table for a person, RFC 4180 CSV for a spreadsheet, JSON lines for a program. */
import { SYNC_ATTRIBUTES } from '../../functions/engine/model/replica.js';
import { InputError } from '../../functions/engine/errors.js';
import { cellText, csvDocument } from '../csv.js';
import { fitWidth, textTable } from '../text-table.js';
import type { Item } from './types.js';

export const FORMATS = ['table', 'csv', 'json'] as const;
export type Format = (typeof FORMATS)[number];

/** `table` on a terminal; piped or redirected, CSV, which any spreadsheet or script reads. */
export function parseFormat(text: string | undefined, isTerminal: boolean): Format {
  if (text === undefined) return isTerminal ? 'table' : 'csv';
  if (!(FORMATS as readonly string[]).includes(text)) {
    throw new InputError(`--format must be table, csv or json, not "${text}".`);
  }
  return text as Format;
}

export interface Column {
  name: string;
  /** Widest a table cell gets before it is cut with an ellipsis; CSV is never cut. */
  maxWidth?: number;
}

/** What an analyst reads first about a replica, in a terminal. */
export const REPLICA_TABLE_COLUMNS: Column[] = [
  { name: 'replica_id' },
  { name: 'replica_name', maxWidth: 32 },
  { name: 'replica_type' },
  { name: 'status' },
  { name: 'training_progress' },
  { name: 'finetune_status' },
  { name: 'created_at' },
  { name: 'stuck_since' },
  { name: 'stuck_reason' },
  { name: 'deleted_at' },
];

/**
 * The same, plus what a spreadsheet has room for; `--format json` has every attribute. Columns
 * added later go last, so a spreadsheet that reads columns by position keeps working.
 */
export const REPLICA_CSV_COLUMNS: Column[] = [
  'replica_id', 'replica_name', 'replica_type', 'status', 'training_progress', 'created_at', 'stuck_since', 'deleted_at',
  'training_progress_pct', 'updated_at', 'status_changed_at', 'model_name', 'error_message',
  'finetune_status', 'finetune_status_changed_at', 'stuck_reason',
].map((name) => REPLICA_TABLE_COLUMNS.find((column) => column.name === name) ?? { name });

export const EVENT_COLUMNS: Column[] = [
  { name: 'replica_id' },
  { name: 'at' },
  { name: 'type' },
  { name: 'from', maxWidth: 32 },
  { name: 'to', maxWidth: 32 },
  { name: 'run_id' },
];

/** The API's fields in the order the API lists them; fields it adds later follow by name. */
const API_FIELD_ORDER = [
  'replica_id',
  'replica_name',
  'thumbnail_video_url',
  'training_progress',
  'status',
  'created_at',
  'updated_at',
  'replica_type',
  'model_name',
  'error_message',
  'finetune_status',
];


/**
 * A stored item with its attributes in a stable, readable order (DynamoDB returns them in any
 * order): the API's fields first, then the sync's own, so successive exports diff cleanly.
 */
export function orderReplicaAttributes(item: Item): Item {
  const names = Object.keys(item);
  const signature = names.join('\u0000');
  let order = ATTRIBUTE_ORDERS.get(signature);
  if (order === undefined) {
    order = names.sort((a, b) => attributeRank(a) - attributeRank(b) || a.localeCompare(b));
    ATTRIBUTE_ORDERS.set(signature, order);
  }
  return Object.fromEntries(order.map((name) => [name, item[name]]));
}

/**
 * Each set of attribute names (as DynamoDB happened to list them) and its order: a listing's items
 * share a handful of sets, so 20,000 items sort their names a handful of times, not 20,000.
 */
const ATTRIBUTE_ORDERS = new Map<string, string[]>();

function attributeRank(name: string): number {
  const api = API_FIELD_ORDER.indexOf(name);
  if (api >= 0) return api;
  const own = (SYNC_ATTRIBUTES as readonly string[]).indexOf(name);
  return own >= 0 ? 2000 + own : 1000;
}

export function formatRows(rows: Item[], format: Format, columns: { table: Column[]; csv: Column[] }): string {
  if (format === 'json') return rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  if (format === 'csv') return formatCsv(rows, columns.csv);
  return formatTable(rows, columns.table);
}

/** Through the one CSV writer (cli/csv.ts): RFC 4180, formula leads defused. */
export function formatCsv(rows: Item[], columns: Column[]): string {
  return csvDocument(
    columns.map((column) => column.name),
    rows.map((row) => columns.map((column) => cellText(row[column.name]))),
  );
}

export function formatTable(rows: Item[], columns: Column[]): string {
  const cells = rows.map((row) => columns.map((column) => fitWidth(tableText(row[column.name]), column.maxWidth)));
  return textTable([columns.map((column) => column.name), ...cells], { rule: true }).map((line) => `${line}\n`).join('');
}

/**
 * UTC timestamps to the minute ("2024-05-01 09:30"), as a person scans them. Line breaks and other
 * hidden characters show escaped (`\n`), by the table itself, so one row stays one line.
 */
function tableText(value: unknown): string {
  const text = cellText(value);
  const utc = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?(Z|\+00:00)$/.exec(text);
  return utc ? `${utc[1]} ${utc[2]}` : text;
}

