/**
 * Rows of text as aligned columns, two spaces apart: the one renderer behind every plain-text table
 * (query listings, the report, the sync summary, "Needs attention", the benchmark record). Every
 * cell goes through the one sanitiser, so data can neither break the layout (a tab, a newline) nor
 * reach the terminal raw (escape sequences, bidi controls).
 */
import { visibleText } from '../functions/engine/text/visible-text.js';

export interface TextTableOptions {
  /** Put before every line, e.g. two spaces to set a table inside a section. */
  indent?: string;
  /** Columns whose cells are padded on the left (counts), by index; the rest are left-aligned. */
  rightAligned?: (column: number) => boolean;
  /** A line of dashes under the first row, the header. */
  rule?: boolean;
}

/** The lines of the table, each without trailing spaces and without a line end. */
export function textTable(rows: string[][], options: TextTableOptions = {}): string[] {
  const { indent = '', rightAligned = () => false, rule = false } = options;
  rows = rows.map((row) => row.map(visibleText));
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const render = (row: string[]): string =>
    `${indent}${row.map((cell, column) => (rightAligned(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ')}`.trimEnd();
  const lines = rows.map(render);
  if (rule && lines.length > 0) lines.splice(1, 0, render(widths.map((width) => '-'.repeat(width))));
  return lines;
}

/** `text` made visible and cut to at most `maxWidth` characters, with an ellipsis when cut. */
export function fitWidth(text: string, maxWidth: number | undefined): string {
  const shown = visibleText(text);
  return maxWidth !== undefined && shown.length > maxWidth ? `${shown.slice(0, maxWidth - 1)}…` : shown;
}
