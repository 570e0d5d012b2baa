// The chart written next to the results: req/s per scenario and server as
// horizontal bars on a log scale (the legacy design's tens and the ceiling's
// tens of thousands on one page), each bar labelled with its value, and
// shop-api's bar where the floor ran beside it with shop-api / floor (req/s
// and p99). Plain SVG text: no browser, no library; the same report gives
// the same bytes.
import { num, pct, times } from './format.js';
import type { BenchReport, RunResult, ScenarioResult } from './report-types.js';

const WIDTH = 1100;
const LABEL_X = 12;
const SERVER_X = 28;
const BARS_X0 = 300;
const BARS_X1 = WIDTH - 300;
const TOP = 58;
const GROUP_H = 24;
const ROW_H = 20;
const BAR_H = 14;
const BOTTOM = 36;

/** Text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** Colours by kind of server, so a variant reads the same in every scenario. */
function colourOf(target: string): string {
  if (target === 'legacy') return '#b5483b';
  if (target === 'ceiling') return '#8a8a8a';
  if (target === 'floor') return '#1f7a7a';
  if (target === 'shop-api') return '#2f6db5';
  if (target === 'shop-api-replica') return '#d08a2e';
  if (/^shop-api-w\d+-replica$/.test(target)) return '#7d4fb0';
  if (/^shop-api-w\d+$/.test(target)) return '#3c9a5f';
  if (target === 'shop-api-unnamed') return '#6f9fd8';
  if (target === 'shop-api-pgbouncer') return '#b0407a';
  return '#555555';
}

/** The decades the axis spans: from the power of ten at or below the smallest value to the one at or above the largest. */
export function logRange(values: number[]): { lo: number; hi: number } {
  const positive = values.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return { lo: 1, hi: 10 };
  const lo = 10 ** Math.floor(Math.log10(Math.min(...positive)));
  let hi = 10 ** Math.ceil(Math.log10(Math.max(...positive)));
  if (hi <= lo) hi = lo * 10;
  return { lo, hi };
}

const tick = (v: number) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1000 ? `${v / 1000}k` : String(Number(v.toPrecision(1))));
const fixed = (n: number) => String(Math.round(n * 10) / 10);

/** A bar's label: its req/s, its error rate, and for plain shop-api its ratios to the floor of the same scenario. */
function barLabel(s: ScenarioResult, r: RunResult): string {
  const errors = r.errorRate > 0 ? ` · ${pct(r.errorRate)} errors` : '';
  const floor = r.target === 'shop-api' ? s.comparisons.find((c) => c.baseline === 'floor') : undefined;
  const ratios = floor ? ` · / floor: req/s ${times(floor.rps)}, p99 ${times(floor.p99)}` : '';
  return `${num(r.rps)} req/s${errors}${ratios}`;
}

export function chartSvg(report: BenchReport): string {
  const values = report.scenarios.flatMap((s) => s.runs.map((r) => r.rps));
  const { lo, hi } = logRange(values);
  const span = Math.log10(hi) - Math.log10(lo);
  const widthOf = (v: number) => (v > 0 ? Math.max(1, ((Math.log10(v) - Math.log10(lo)) / span) * (BARS_X1 - BARS_X0)) : 0);

  const body: string[] = [];
  let y = TOP;
  for (const s of report.scenarios) {
    const header = s.status === 'skipped' ? `${s.name} (skipped: ${s.skipReason ?? ''})` : s.name;
    body.push(`<text class="scenario" x="${LABEL_X}" y="${y + 16}">${escapeXml(header)}</text>`);
    y += GROUP_H;
    for (const r of s.runs) {
      const w = widthOf(r.rps);
      body.push(
        `<text class="server" x="${SERVER_X}" y="${y + 14}">${escapeXml(r.target)}</text>`,
        `<rect class="bar" x="${BARS_X0}" y="${y + (ROW_H - BAR_H) / 2}" width="${fixed(w)}" height="${BAR_H}" fill="${colourOf(r.target)}"><title>${escapeXml(`${s.name} · ${r.target}: ${num(r.rps)} req/s`)}</title></rect>`,
        `<text class="value" x="${fixed(BARS_X0 + w + 6)}" y="${y + 14}">${escapeXml(barLabel(s, r))}</text>`,
      );
      y += ROW_H;
    }
  }
  const height = y + BOTTOM;

  const grid: string[] = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    const x = fixed(BARS_X0 + widthOf(v) - (v === lo ? 1 : 0));
    grid.push(
      `<line class="grid" x1="${x}" y1="${TOP - 6}" x2="${x}" y2="${y}"/>`,
      `<text class="tick" x="${x}" y="${TOP - 10}">${tick(v)}</text>`,
      `<text class="tick" x="${x}" y="${y + 16}">${tick(v)}</text>`,
    );
  }

  const title = `req/s per scenario and server (log scale): ${report.scenario}, ${report.startedAt}`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    '<style>.scenario{font-weight:bold;font-size:13px}.server{fill:#333}.value{fill:#222}.tick{fill:#666;font-size:11px;text-anchor:middle}.grid{stroke:#ddd;stroke-width:1}</style>',
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LABEL_X}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    ...grid,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
