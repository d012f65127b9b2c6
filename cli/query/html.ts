/**
 * The report as one self-contained HTML page: inline CSS and SVG, no scripts, fonts or requests,
 * so it can be mailed, archived or opened offline and shows the same thing forever.
 */
import { listQueryHint, type QueryTarget } from '../../functions/engine/text/query-hint.js';
import { visibleText } from '../../functions/engine/text/visible-text.js';
import type { Report } from './report.js';
import { formatDuration, SECTION_FILTERS } from './report-text.js';

const TYPE_COLORS: Record<string, string> = { user: '#2563eb', system: '#f59e0b' };
const OTHER_COLOR = '#94a3b8';
const MAX_LISTED_FAILURES = 50;

export function renderReportHtml(report: Report, source: { replicasTable: string; eventsTable: string; where: string; target?: QueryTarget }): string {
  const { training, finetune, failures } = report;
  const cards: Array<[string, string, string?]> = [
    ['Live replicas', String(report.replicas.live)],
    ['Deleted', String(report.replicas.deleted)],
    ['Stuck', String(report.stuck.length), report.stuck.length > 0 ? 'warn' : undefined],
    ['Training, median', training.median_ms === undefined ? '–' : formatDuration(training.median_ms)],
    ['Training, p90', training.p90_ms === undefined ? '–' : formatDuration(training.p90_ms)],
    ['Fine-tunes running', String(finetune.in_progress.length)],
    ['Fine-tunes failed', String(finetune.failed.length), finetune.failed.length > 0 ? 'bad' : undefined],
    ['Fine-tune, median', finetune.median_ms === undefined ? '–' : formatDuration(finetune.median_ms)],
    [`Failures, ${failures.days} days`, String(failures.count), failures.count > 0 ? 'bad' : undefined],
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Tavus replicas report, ${esc(report.generated_at.slice(0, 10))}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>Tavus replicas</h1>
  <p class="meta">As of <time datetime="${esc(report.generated_at)}">${esc(utc(report.generated_at))}</time> from
  <code>${esc(source.replicasTable)}</code> and <code>${esc(source.eventsTable)}</code> on ${esc(source.where)}.</p>
</header>
<section class="cards">
${cards.map(([label, value, tone]) => `  <div class="card${tone ? ` ${tone}` : ''}" data-kpi="${esc(label)}"><div class="value">${esc(value)}</div><div class="label">${esc(label)}</div></div>`).join('\n')}
</section>
<section>
  <h2>Live replicas by status</h2>
  ${statusChart(report)}
</section>
<section>
  <h2>Failures per day, last ${failures.days} days</h2>
  <p class="note">Replicas that turned <code>error</code> (or were first seen in error), by UTC day since ${esc(failures.since.slice(0, 10))}.</p>
  ${failureChart(report)}
</section>
<section>
  <h2>Training durations</h2>
  <p class="note">From the first sync that saw a replica training to the first that saw it completed (${training.count} training${training.count === 1 ? '' : 's'}); accurate to the sync interval.</p>
  ${durationChart(report)}
</section>
<section>
  <h2>Stuck in training or fine-tune (${report.stuck.length})</h2>
  ${table(
    ['replica_id', 'replica_name', 'reason', 'progress', 'no progress since', 'for'],
    report.stuck.map((s) => [s.replica_id, s.replica_name, s.stuck_reason, s.stuck_reason === 'finetune' ? s.finetune_status : s.training_progress, utc(s.stuck_since), formatDuration(s.stuck_ms)]),
    'No replica is stuck.',
  )}
</section>
${finetuneSection(report)}
<section>
  <h2>Failures in the last ${failures.days} days (${failures.count})</h2>
  ${table(
    ['at', 'replica_id', 'replica_name', 'how', 'error_message'],
    failures.events.slice(0, MAX_LISTED_FAILURES).map((f) => [utc(f.at), f.replica_id, f.replica_name, f.from === null ? 'new, in error' : `${f.from} → error`, f.error_message]),
    'No failures.',
  )}
  ${failures.events.length > MAX_LISTED_FAILURES ? `<p class="note">…and ${failures.events.length - MAX_LISTED_FAILURES} earlier ones (<code>${esc(listQueryHint(SECTION_FILTERS.failures, source.target ?? {}))}</code> lists them all).</p>` : ''}
</section>
</body>
</html>
`;
}

/** Phoenix-4.5's second phase: what runs, what failed, and how long finished fine-tunes took. */
function finetuneSection({ finetune }: Report): string {
  const failedOnes = finetune.durations.length - finetune.completed;
  const durations = finetune.median_ms === undefined
    ? 'No fine-tune seen from start to completion yet.'
    : `${finetune.completed} fine-tune${finetune.completed === 1 ? '' : 's'} seen from start to completion: median ${formatDuration(finetune.median_ms)}, 90th percentile ${formatDuration(finetune.p90_ms as number)}${failedOnes > 0 ? `; ${failedOnes} failed on the way` : ''}.`;
  return `<section>
  <h2>Fine-tunes (${finetune.in_progress.length} running, ${finetune.failed.length} failed)</h2>
  <p class="note">Phoenix-4.5 trains twice: <code>status</code> completes with a preview within minutes, then the fine-tune runs on for hours in <code>finetune_status</code>. ${esc(durations)}</p>
  ${table(
    ['replica_id', 'replica_name', 'finetune_status', 'since', 'running'],
    [
      ...finetune.in_progress.map((f) => [f.replica_id, f.replica_name, f.finetune_status, utc(f.since), formatDuration(f.running_ms)]),
      ...finetune.failed.map((f) => [f.replica_id, f.replica_name, f.finetune_status, utc(f.since), '']),
    ],
    'No fine-tune running or failed.',
  )}
</section>`;
}

function statusChart(report: Report): string {
  if (report.by_status.length === 0) return '<p class="empty">No live replicas.</p>';
  const rowHeight = 34;
  const labelWidth = 130;
  const barWidth = 560;
  const max = Math.max(...report.by_status.map((row) => row.total));
  const height = report.by_status.length * rowHeight + 30;
  const rows = report.by_status.map((row, i) => {
    const y = i * rowHeight;
    let x = labelWidth;
    const segments = report.types.map((type) => {
      const count = row.by_type[type] ?? 0;
      const width = (count / max) * barWidth;
      const rect = count > 0
        ? `<rect x="${x.toFixed(1)}" y="${y + 6}" width="${width.toFixed(1)}" height="${rowHeight - 12}" fill="${color(type)}" data-status="${esc(row.status)}" data-type="${esc(type)}" data-count="${count}"><title>${esc(`${row.status}, ${type}: ${count}`)}</title></rect>`
        : '';
      x += width;
      return rect;
    });
    return `<text x="${labelWidth - 10}" y="${y + rowHeight / 2 + 5}" text-anchor="end">${esc(row.status)}</text>${segments.join('')}<text x="${(x + 8).toFixed(1)}" y="${y + rowHeight / 2 + 5}" class="count">${row.total}</text>`;
  });
  const legend = report.types
    .map((type, i) => `<rect x="${labelWidth + i * 110}" y="${height - 18}" width="12" height="12" fill="${color(type)}"/><text x="${labelWidth + i * 110 + 18}" y="${height - 8}">${esc(type)}</text>`)
    .join('');
  return svg(labelWidth + barWidth + 60, height, 'Live replicas by status and type', rows.join('') + legend);
}

function failureChart(report: Report): string {
  const days = report.failures.by_day;
  const left = 36;
  const plotWidth = 660;
  const plotHeight = 140;
  const max = Math.max(1, ...days.map((d) => d.count));
  const slot = plotWidth / days.length;
  const bars = days
    .map((d, i) => {
      const h = (d.count / max) * plotHeight;
      const x = left + i * slot + 2;
      return `<rect x="${x.toFixed(1)}" y="${(10 + plotHeight - h).toFixed(1)}" width="${(slot - 4).toFixed(1)}" height="${h.toFixed(1)}" fill="#dc2626" data-day="${d.day}" data-count="${d.count}"><title>${d.day}: ${d.count}</title></rect>`;
    })
    .join('');
  const labels = days
    .map((d, i) => (i % 5 === 0 || i === days.length - 1 ? `<text x="${(left + i * slot + slot / 2).toFixed(1)}" y="${plotHeight + 28}" text-anchor="middle" class="tick">${d.day.slice(5)}</text>` : ''))
    .join('');
  const axis = `<line x1="${left}" y1="${10 + plotHeight}" x2="${left + plotWidth}" y2="${10 + plotHeight}" class="axis"/><text x="${left - 6}" y="16" text-anchor="end" class="tick">${max}</text><text x="${left - 6}" y="${10 + plotHeight}" text-anchor="end" class="tick">0</text>`;
  return svg(left + plotWidth + 10, plotHeight + 36, `Failures per day, ${report.failures.count} in total`, axis + bars + labels);
}

/** Round tick steps for a time axis: a few labels that read as whole hours or days. */
const TICK_STEPS_MS = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080].map((minutes) => minutes * 60_000);

/**
 * A dot plot: one dot per training, stacked where durations coincide (syncs run on a schedule, so
 * they often do), with the median and the 90th percentile marked.
 */
function durationChart(report: Report): string {
  const { durations, median_ms, p90_ms } = report.training;
  if (durations.length === 0 || median_ms === undefined || p90_ms === undefined) {
    return '<p class="empty">No training seen from start to completion yet.</p>';
  }
  const left = 30;
  const width = 640;
  const longest = Math.max(...durations.map((d) => d.duration_ms), 1);
  const step = TICK_STEPS_MS.find((candidate) => longest / candidate <= 6) ?? Math.ceil(longest / 6 / 86_400_000) * 86_400_000;
  const axisMax = Math.ceil(longest / step) * step;
  const x = (ms: number): number => left + (ms / axisMax) * width;

  const dot = 10;
  const stacks = new Map<number, number>();
  const placed = durations.map((d) => {
    const column = Math.round(x(d.duration_ms) / dot);
    const level = stacks.get(column) ?? 0;
    stacks.set(column, level + 1);
    return { d, cx: x(d.duration_ms), level };
  });
  const tallest = Math.max(...stacks.values());
  // Stacks rise a dot per training, squeezed once one would pass 160 px.
  const rise = Math.min(dot, 160 / tallest);
  const top = 40;
  const baseline = top + tallest * rise + 6;
  const dots = placed
    .map(({ d, cx, level }) => `<circle cx="${cx.toFixed(1)}" cy="${(baseline - 6 - level * rise).toFixed(1)}" r="4.5" fill="#0d9488" data-duration-ms="${d.duration_ms}"><title>${esc(`${d.replica_name || d.replica_id}: ${formatDuration(d.duration_ms)}`)}</title></circle>`)
    .join('');
  // Labels near an edge are anchored inward, so they are never cut off.
  const anchor = (at: number): string => (at < left + 60 ? 'start' : at > left + width - 60 ? 'end' : 'middle');
  const marker = (ms: number, label: string, labelY: number): string =>
    `<line x1="${x(ms).toFixed(1)}" y1="33" x2="${x(ms).toFixed(1)}" y2="${baseline}" class="marker"/><text x="${x(ms).toFixed(1)}" y="${labelY}" text-anchor="${anchor(x(ms))}" class="marker-label">${esc(`${label} ${formatDuration(ms)}`)}</text>`;
  const ticks: string[] = [];
  for (let ms = 0; ms <= axisMax; ms += step) {
    ticks.push(`<text x="${x(ms).toFixed(1)}" y="${baseline + 18}" text-anchor="middle" class="tick">${tickLabel(ms)}</text>`);
  }
  const axis = `<line x1="${left}" y1="${baseline}" x2="${left + width}" y2="${baseline}" class="axis"/>`;
  // Median and p90 labels sit on different lines, so they never overlap when close together.
  return svg(
    left + width + 40,
    baseline + 26,
    `Training durations: median ${formatDuration(median_ms)}, 90th percentile ${formatDuration(p90_ms)}`,
    axis + dots + marker(median_ms, 'median', 13) + marker(p90_ms, 'p90', 29) + ticks.join(''),
  );
}

/** Ticks fall on round steps, so "12h" and "2d" say it without the minutes. */
function tickLabel(ms: number): string {
  if (ms === 0) return '0';
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  return formatDuration(ms);
}

function svg(width: number, height: number, label: string, body: string): string {
  // Scales with the window: in a narrow one the whole chart stays in view, only smaller.
  return `<svg viewBox="0 0 ${width} ${height}" width="100%" role="img" aria-label="${esc(label)}" xmlns="http://www.w3.org/2000/svg"><title>${esc(label)}</title>${body}</svg>`;
}

/** Names and messages wrap; ids, times and counts never do. A narrow window scrolls the table alone. */
const WRAPPING_COLUMNS = new Set(['replica_name', 'error_message']);

function table(headers: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="empty">${esc(empty)}</p>`;
  const head = headers.map((h) => `<th>${esc(h)}</th>`).join('');
  const cell = (value: string, i: number): string => `<td${WRAPPING_COLUMNS.has(headers[i] as string) ? ' class="wrap"' : ''}>${esc(value)}</td>`;
  const body = rows.map((row) => `<tr>${row.map(cell).join('')}</tr>`).join('\n');
  return `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function color(type: string): string {
  return TYPE_COLORS[type] ?? OTHER_COLOR;
}

/** "2025-01-06 16:00 UTC": the page never depends on the reader's time zone. */
function utc(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1]} ${match[2]} UTC` : iso;
}

/** The one sanitiser (hidden characters as visible escapes), then HTML's five. */
function esc(text: string): string {
  return visibleText(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const CSS = `
:root { color-scheme: light; --ink: #0f172a; --muted: #64748b; --line: #e2e8f0; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 980px; padding: 24px 28px 48px; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #f8fafc; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 0 0 10px; font-size: 18px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; margin-top: 18px; }
.meta, .note { color: var(--muted); margin: 0 0 10px; font-size: 13px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f5f9; padding: 1px 4px; border-radius: 4px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; background: none; border: 0; padding: 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card .label { color: var(--muted); font-size: 13px; }
.card.warn { border-color: #f59e0b; background: #fffbeb; }
.card.bad { border-color: #dc2626; background: #fef2f2; }
svg { display: block; max-width: 100%; height: auto; font-size: 13px; fill: var(--ink); }
svg .count { font-weight: 600; font-variant-numeric: tabular-nums; }
svg .tick { fill: var(--muted); font-size: 11px; }
svg .axis { stroke: #cbd5e1; }
svg .marker { stroke: var(--ink); stroke-dasharray: 4 3; }
svg .marker-label { font-size: 12px; font-weight: 600; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td { white-space: nowrap; }
td.wrap { white-space: normal; min-width: 12em; }
.scroll { overflow-x: auto; }
.empty { color: var(--muted); font-style: italic; margin: 0; }
`;
