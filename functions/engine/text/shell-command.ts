/**
 * The one shell quoting: commands printed for a person to paste (the CLI's hints, the report, the
 * alerts) are built here, so every argument reaches the program exactly as it is, whatever it
 * holds. POSIX sh rules, so they paste into sh, dash, bash and zsh alike.
 */
import { HIDDEN_CHARACTER } from './visible-text.js';

/** Characters a POSIX shell reads as themselves anywhere in a word. */
const PLAIN_WORD = /^[A-Za-z0-9._\-/:=@%+,]+$/;

/**
 * A word the shell reads as itself: plain ones as they are, anything else in single quotes (a
 * quote inside written as '\''). Only for printable text: `shellLine` handles the rest.
 */
export function shellWord(value: string): string {
  return PLAIN_WORD.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

export interface ShellLine {
  /** Variables for the command (`AWS_REGION=us-east-1 npm ...`), names plain, values any text. */
  env?: ReadonlyArray<readonly [string, string]>;
  /** The program and its arguments, each passed exactly as given. */
  words: readonly string[];
}

/**
 * One line of printable text that runs the command with exactly these arguments. A value with a
 * control, bidi or other invisible character (a newline in an id) cannot be shown raw on one line,
 * so it is first spelled out to printf in octal and held in a variable:
 * `arg1="$(printf 'a\012b_')"; npm run query -- history "${arg1%_}"` (the `_` keeps trailing newlines,
 * which command substitution would drop). A NUL cannot travel in an argument at all and is lost.
 */
export function shellLine({ env = [], words }: ShellLine): string {
  const setup: string[] = [];
  const quote = (value: string): string => {
    if (!HIDDEN_CHARACTER.test(value)) return shellWord(value);
    const name = `arg${setup.length + 1}`;
    setup.push(`${name}="$(printf '${printfFormat(value)}_')"; `);
    return `"\${${name}%_}"`;
  };
  const assignments = env.map(([name, value]) => `${name}=${quote(value)} `);
  const command = words.map(quote).join(' ');
  return `${setup.join('')}${assignments.join('')}${command}`;
}

/** `value` as a printf format in single quotes: hidden characters as octal UTF-8 bytes, `\` and `%` doubled. */
function printfFormat(value: string): string {
  let format = '';
  for (const character of value) {
    if (character === "'") format += `'\\''`;
    else if (character === '\\') format += '\\\\';
    else if (character === '%') format += '%%';
    else if (HIDDEN_CHARACTER.test(character)) {
      for (const byte of Buffer.from(character, 'utf8')) format += `\\${byte.toString(8).padStart(3, '0')}`;
    } else format += character;
  }
  return format;
}
