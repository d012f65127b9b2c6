/**
 * The one CSV writer: every CSV the project writes (query listings, history, exports) goes through
 * here. RFC 4180 (CRLF record ends; a field holding a comma, a double quote, CR or LF is quoted, its
 * quotes doubled), and OWASP's defence against formula injection: a cell that begins with `=`, `+`,
 * `-`, `@`, a tab or a CR gets a leading `'`, so a spreadsheet shows it as text instead of running
 * it. Nothing else is changed: the cells keep the stored text exactly.
 */

/** What a spreadsheet may read as the start of a formula (OWASP "CSV Injection"). */
const FORMULA_LEADS = new Set(['=', '+', '-', '@', '\t', '\r']);

/** One field, ready to join with commas: defused if it could start a formula, then quoted if needed. */
export function csvCell(text: string): string {
  const defused = FORMULA_LEADS.has(text.charAt(0)) ? `'${text}` : text;
  return /[",\r\n]/.test(defused) ? `"${defused.replaceAll('"', '""')}"` : defused;
}

/** One record: the cells joined with commas, ended by CRLF. */
export function csvRecord(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/** A header record, then one record per row. */
export function csvDocument(header: readonly string[], rows: Iterable<readonly string[]>): string {
  let out = csvRecord(header);
  for (const row of rows) out += csvRecord(row);
  return out;
}

/**
 * A stored value as the text of a cell: strings as they are, absent or null as empty, numbers,
 * booleans and nested values as their JSON.
 */
export function cellText(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
