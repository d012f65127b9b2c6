/** The one sanitiser for people's text, and the text report's cut sections, unit by unit. */
import { describe, expect, it } from 'vitest';
import { formatReportText } from '../cli/query/report-text.js';
import type { Report } from '../cli/query/report.js';
import { textTable } from '../cli/text-table.js';
import { visibleText } from '../functions/engine/text/visible-text.js';
import { BIDI_CONTROLS, CONTROL_CHARACTERS, ESCAPE_SEQUENCES, hostileTexts, INVISIBLE_CHARACTERS, rawControlsIn } from './support/hostile-text.js';

describe('visibleText', () => {
  it('shows every control, bidi and invisible character as an escape, never raw', () => {
    for (const character of [...CONTROL_CHARACTERS, ...BIDI_CONTROLS, ...INVISIBLE_CHARACTERS]) {
      const shown = visibleText(`a${character}b`);
      expect(rawControlsIn(shown), JSON.stringify(character)).toEqual([]);
      expect(shown, JSON.stringify(character)).toMatch(/^a\\(t|n|r|x[0-9a-f]{2}|u[0-9a-f]{4}|u\{[0-9a-f]+\})b$/);
    }
    for (const sequence of ESCAPE_SEQUENCES) expect(visibleText(sequence)).not.toMatch(/[\x1b\x9b\x07\r\n]/);
    expect(visibleText('\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\')).toBe('\\x1b]8;;https://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\');
    expect(visibleText('abc\u202edef')).toBe('abc\\u202edef');
  });

  it('leaves printable text alone: any script, emoji, backslashes, quotes', () => {
    for (const text of ['Anna - studio intro', 'Zoë — naïve', '名前 🚀', 'C:\\path\\x1b', `"quoted" 'single'`]) expect(visibleText(text)).toBe(text);
  });

  it('keeps a text table aligned, one line per row, whatever the cells hold', () => {
    const rows = hostileTexts().map((text) => [text, 'end']);
    const lines = textTable(rows);
    expect(lines).toHaveLength(rows.length);
    expect(rawControlsIn(lines.join('\n'))).toEqual([]);
    expect(new Set(lines.map((line) => line.indexOf(' end'))).size).toBe(1);
  });
});

describe('the text report', () => {
  const stuck = (i: number): Report['stuck'][number] => ({
    replica_id: `r${i}`, replica_name: `Name ${i}`, stuck_reason: 'training', training_progress: '10/100', finetune_status: '',
    stuck_since: '2026-11-29T00:00:00.000Z', stuck_ms: 3_600_000 * 7,
  });
  const report = (count: number): Report => ({
    generated_at: '2026-11-29T10:00:00.000Z',
    replicas: { live: count, deleted: 0 },
    types: ['user'],
    by_status: [{ status: 'started', total: count, by_type: { user: count } }],
    by_type: { user: count },
    stuck: Array.from({ length: count }, (_, i) => stuck(i)),
    training: { count: 0, durations: [] },
    finetune: { in_progress: [], failed: [], durations: [], completed: 0 },
    failures: { days: 30, since: '2026-10-31T00:00:00.000Z', count: 0, by_day: [], events: [] },
  });

  it('lists at most 20 stuck replicas, then how many more and the command, with the flags of the run', () => {
    const text = formatReportText(report(150), { local: true, replicasTable: 'my table' });
    expect(text.split('\n').filter((line) => /^ {2}r\d+ /.test(line))).toHaveLength(20);
    expect(text).toContain("  and 130 more: npm run query -- --stuck --local --table 'my table'\n");
    expect(text.split('\n').length).toBeLessThan(40);
    const all = formatReportText(report(20));
    expect(all.split('\n').filter((line) => /^ {2}r\d+ /.test(line))).toHaveLength(20);
    expect(all).not.toContain('more:');
  });
});
