/**
 * The one sanitiser for text shown to a person (a terminal, a report, an e-mail): every character
 * a terminal would act on or a reader could not see is written as a visible escape instead.
 * Untrusted text is cleaned here, where it leaves for a person, never where it is stored.
 */

/**
 * Controls (C0, DEL, C1: ESC starts every CSI, OSC and OSC-8 sequence, so escaping it disarms them
 * all), format characters (the bidi embeddings, overrides, isolates and marks, zero-width and other
 * invisible ones), line and paragraph separators, and lone surrogates.
 */
export const HIDDEN_CHARACTER = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/u;
const HIDDEN_CHARACTERS = new RegExp(HIDDEN_CHARACTER.source, 'gu');

const NAMED_ESCAPES: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * `text` with each hidden character as a visible escape: `\t`, `\n`, `\r`, `\x1b` (up to U+00FF),
 * `\u202e` (the rest of the BMP), `\u{e0041}` (beyond). The result is one line of printable text;
 * printable text (any script, emoji, backslashes) passes unchanged.
 */
export function visibleText(text: string): string {
  return text.replace(HIDDEN_CHARACTERS, (character) => NAMED_ESCAPES[character] ?? codeEscape(character.codePointAt(0)!));
}

function codeEscape(code: number): string {
  const hex = code.toString(16);
  if (code <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  return code <= 0xffff ? `\\u${hex.padStart(4, '0')}` : `\\u{${hex}}`;
}
