// bench/chart.ts: the SVG written next to the results.
import { describe, expect, it } from 'vitest';
import { chartSvg, escapeXml, logRange } from '../../bench/chart.js';
import type { BenchReport, RunResult } from '../../bench/report.js';

function run(target: RunResult['target'], rps: number): RunResult {
  return {
    target, connections: 10, durationS: 2, responses: rps * 2, ok: rps * 2, rps, okRps: rps,
    latencyMs: null, statusCounts: {}, errors: 0, timeouts: 0, errorRate: 0, bytesPerResponse: null,
    peakRssBytes: null, peakRssWithPythonBytes: null, peakPython: null, serverProcesses: 1, loadAvgBefore: 0,
  };
}

const report = (over: Partial<BenchReport> = {}): BenchReport => ({
  scenario: 'all',
  startedAt: '2026-11-30T09:00:00.000Z',
  finishedAt: '2026-11-30T09:01:00.000Z',
  options: {},
  machine: {},
  data: {},
  notes: [],
  aims: [],
  scenarios: [
    { name: 'ceiling', description: '', status: 'ok', notes: [], mix: [], runs: [run('ceiling', 50_000)], storefrontMaxStaleS: null, comparisons: [], variants: [] },
    {
      name: 'legacy-load', description: '', status: 'ok', notes: [], mix: [],
      runs: [run('legacy', 40), run('shop-api', 5000), run('shop-api-w4', 9000), run('shop-api-replica', 4800), run('shop-api-w4-replica', 8000)],
      storefrontMaxStaleS: null, comparisons: [], variants: [],
    },
    { name: 'replica-failover', description: '', status: 'skipped', skipReason: 'needs --replica <own> & "servers"', notes: [], mix: [], runs: [], storefrontMaxStaleS: null, comparisons: [], variants: [] },
    { name: 'mixed', description: '', status: 'ok', notes: [], mix: [], runs: [{ ...run('shop-api', 0), responses: 0 }], storefrontMaxStaleS: null, comparisons: [], variants: [] },
  ],
  ...over,
});

/**
 * A small well-formedness check: one root, tags properly nested and closed,
 * attribute values quoted, no raw `<` or stray `&` in text or attributes.
 */
function checkXml(xml: string): string[] {
  const body = xml.replace(/^<\?xml [^?]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  const tokens = body.split(/(<[^>]*>)/).filter((t) => t !== '');
  for (const token of tokens) {
    if (!token.startsWith('<')) {
      if (token.includes('>') && !/^\s*$/.test(token)) throw new Error(`raw > in text: ${token}`);
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(token)) throw new Error(`stray & in text: ${token}`);
      if (stack.length === 0 && token.trim() !== '') throw new Error(`text outside the root: ${token}`);
      continue;
    }
    const close = /^<\/([A-Za-z][\w:-]*)\s*>$/.exec(token);
    if (close) {
      if (stack.pop() !== close[1]) throw new Error(`unbalanced </${close[1]}>`);
      continue;
    }
    const open = /^<([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/.exec(token);
    if (!open) throw new Error(`malformed tag: ${token}`);
    for (const [, value] of (open[2] ?? '').matchAll(/="([^"]*)"/g)) {
      if (/&(?!(amp|lt|gt|quot|apos|#\d+);)/.test(value ?? '')) throw new Error(`stray & in attribute: ${token}`);
    }
    if (stack.length === 0) roots += 1;
    if (open[3] !== '/') stack.push(open[1] as string);
  }
  if (stack.length > 0) throw new Error(`unclosed: ${stack.join(', ')}`);
  if (roots !== 1) throw new Error(`${roots} root elements`);
  return tokens;
}

describe('chartSvg', () => {
  it('is well-formed SVG with one bar per run', () => {
    const svg = chartSvg(report());
    expect(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(() => checkXml(svg)).not.toThrow();
    expect(svg.match(/<rect class="bar"/g)).toHaveLength(7);
    // The checker itself catches what it is there for.
    expect(() => checkXml('<svg><text>a < b</text></svg>')).toThrow();
    expect(() => checkXml('<svg><g></svg>')).toThrow();
    expect(() => checkXml('<svg><text>R&D</text></svg>')).toThrow(/stray &/);
  });

  it('labels each bar with its value, on a log scale from 10 to 100k here', () => {
    const svg = chartSvg(report());
    expect(svg).toContain('>50,000 req/s<');
    expect(svg).toContain('>40 req/s<');
    expect(svg).toContain('>0 req/s<');
    const ticks = [...svg.matchAll(/<text class="tick" x="[\d.]+" y="\d+">([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(ticks).toEqual(['10', '10', '100', '100', '1k', '1k', '10k', '10k', '100k', '100k']); // above and below the bars
    const width = (target: string) => Number(new RegExp(`<rect class="bar" [^>]*width="([\\d.]+)"[^>]*><title>[^<]*${target}:`).exec(svg)?.[1]);
    // Log scale: lengths go with log10(value / 10), so 40 req/s is a bar of its own next to 50,000, not 0.08% of it.
    expect(width('ceiling') / width('legacy')).toBeCloseTo(Math.log10(5000) / Math.log10(4), 1);
    expect(width('legacy')).toBeGreaterThan(50);
  });

  it('escapes names and reasons', () => {
    const svg = chartSvg(report());
    expect(svg).toContain('needs --replica &lt;own&gt; &amp; &quot;servers&quot;');
    expect(escapeXml(`a<b>&"c"'d'`)).toBe('a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;');
    const odd = report({ scenario: 'mixed', startedAt: '<&>' });
    expect(() => checkXml(chartSvg(odd))).not.toThrow();
  });

  it('is the same text for the same report', () => {
    expect(chartSvg(report())).toBe(chartSvg(report()));
  });

  it('spans whole decades around the values', () => {
    expect(logRange([40, 50_000])).toEqual({ lo: 10, hi: 100_000 });
    expect(logRange([0.4, 100])).toEqual({ lo: 0.1, hi: 100 });
    expect(logRange([1000])).toEqual({ lo: 1000, hi: 10_000 });
    expect(logRange([0])).toEqual({ lo: 1, hi: 10 });
  });
});
