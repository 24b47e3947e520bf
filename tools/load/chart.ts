import type { RateResult } from './run-rate';

const WIDTH = 900;
const LEFT = 70;
const PLOT = 760;
const COLORS = ['#4a7fb5', '#e08a2c', '#3c9a5f', '#a05195', '#c8553d'];

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const niceMax = (value: number) => {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 2.5, 5, 10].map((m) => m * power).find((step) => step >= value) ?? value) as number;
};

/** The latency CDF of each rate on a log axis from 10 ms, with the 2 s goal as a dashed line. */
const cdfPanel = (results: readonly RateResult[], top: number): { svg: string; height: number } => {
  const height = 230;
  const plotTop = top + 30;
  const plotHeight = height - 70;
  const maxMs = Math.max(2000, ...results.map((result) => result.latency.max)) * 1.2;
  const minMs = 10;
  const x = (ms: number) => LEFT + ((Math.log10(Math.max(ms, minMs)) - Math.log10(minMs)) / (Math.log10(maxMs) - Math.log10(minMs))) * PLOT;
  const y = (share: number) => plotTop + plotHeight * (1 - share);
  const parts = [
    `<text x="10" y="${top + 16}" class="title">Receiver's 200 → written to the cache, share of webhooks within (CDF, log scale)</text>`,
  ];
  for (const share of [0, 0.5, 0.95, 0.99, 1]) {
    parts.push(
      `<line x1="${LEFT}" y1="${y(share)}" x2="${LEFT + PLOT}" y2="${y(share)}" class="grid"/>`,
      `<text x="${LEFT - 6}" y="${y(share) + 4}" class="axis" text-anchor="end">${share * 100}%</text>`,
    );
  }
  for (const ms of [10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000].filter((tick) => tick <= maxMs)) {
    parts.push(
      `<line x1="${x(ms)}" y1="${plotTop}" x2="${x(ms)}" y2="${plotTop + plotHeight}" class="grid"/>`,
      `<text x="${x(ms)}" y="${plotTop + plotHeight + 14}" class="axis" text-anchor="middle">${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}</text>`,
    );
  }
  parts.push(`<line x1="${x(2000)}" y1="${plotTop - 6}" x2="${x(2000)}" y2="${plotTop + plotHeight}" class="goal"/>`);
  parts.push(`<text x="${x(2000) + 4}" y="${plotTop - 8}" class="axis">goal: p99 ≤ 2 s</text>`);
  results.forEach((result, index) => {
    const sorted = [...result.latenciesMs].sort((a, b) => a - b);
    if (sorted.length === 0) return;
    const step = Math.max(1, Math.floor(sorted.length / 400));
    const points: string[] = [];
    for (let i = 0; i < sorted.length; i += step) points.push(`${x(sorted[i]).toFixed(1)},${y((i + 1) / sorted.length).toFixed(1)}`);
    points.push(`${x(sorted[sorted.length - 1]).toFixed(1)},${y(1).toFixed(1)}`);
    const color = COLORS[index % COLORS.length];
    parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    const legendX = LEFT + 10 + index * 250;
    parts.push(
      `<line x1="${legendX}" y1="${top + height - 18}" x2="${legendX + 20}" y2="${top + height - 18}" stroke="${color}" stroke-width="3"/>`,
      `<text x="${legendX + 26}" y="${top + height - 14}" class="legend">${escapeXml(
        `${result.rate}/s: p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms (n ${result.latency.n})`,
      )}</text>`,
    );
  });
  return { svg: parts.join('\n'), height };
};

interface Series {
  readonly label: string;
  readonly values: readonly number[];
  readonly color: string;
  readonly limit?: { readonly value: number; readonly label: string };
}

/** A rate's timeline: four strips on one time axis (webhooks in, writes applied, queue depth, Alma calls per second). */
const timelinePanel = (result: RateResult, top: number): { svg: string; height: number } => {
  const strip = 70;
  const gap = 14;
  const series: Series[] = [
    { label: 'webhooks in /s (200s)', values: result.timeline.webhooksIn, color: '#4a7fb5' },
    { label: 'writes applied /s (messages finished)', values: result.timeline.applied, color: '#3c9a5f' },
    { label: 'queue depth (max in s)', values: result.timeline.queueDepth, color: '#e08a2c' },
    {
      label: 'Alma calls /s',
      values: result.timeline.almaCalls,
      color: '#a05195',
      limit: { value: result.alma.budget, label: `budget ${result.alma.budget}/s` },
    },
  ];
  const seconds = Math.max(1, ...series.map((one) => one.values.length));
  const x = (second: number) => LEFT + (second / seconds) * PLOT;
  const parts = [
    `<text x="10" y="${top + 16}" class="title">${escapeXml(
      `Timeline at ${result.rate} webhooks/s: ${result.durationSeconds} s of sending, then the drain (${result.drain.seconds.toFixed(0)} s)`,
    )}</text>`,
  ];
  const sendEnd = x(Math.min(seconds, result.sent.deliveries / Math.max(result.sent.perSecondAchieved, 1e-9)));
  let y0 = top + 30;
  for (const one of series) {
    const max = niceMax(Math.max(1, one.limit?.value ?? 0, ...one.values));
    const y = (value: number) => y0 + strip - (value / max) * strip;
    parts.push(
      `<rect x="${LEFT}" y="${y0}" width="${PLOT}" height="${strip}" class="frame"/>`,
      `<text x="${LEFT - 6}" y="${y0 + 10}" class="axis" text-anchor="end">${max}</text>`,
      `<text x="${LEFT - 6}" y="${y0 + strip}" class="axis" text-anchor="end">0</text>`,
      `<text x="${LEFT + 6}" y="${y0 + 12}" class="legend">${escapeXml(one.label)}</text>`,
    );
    const points = one.values.map((value, second) => `${x(second + 0.5).toFixed(1)},${y(value).toFixed(1)}`);
    if (points.length > 0) parts.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${one.color}" stroke-width="1.6"/>`);
    if (one.limit) {
      parts.push(
        `<line x1="${LEFT}" y1="${y(one.limit.value)}" x2="${LEFT + PLOT}" y2="${y(one.limit.value)}" class="goal"/>`,
        `<text x="${LEFT + PLOT - 4}" y="${y(one.limit.value) - 3}" class="axis" text-anchor="end">${escapeXml(one.limit.label)}</text>`,
      );
    }
    y0 += strip + gap;
  }
  parts.push(`<line x1="${sendEnd}" y1="${top + 26}" x2="${sendEnd}" y2="${y0 - gap}" class="marker"/>`);
  for (let second = 0; second <= seconds; second += seconds > 120 ? 30 : 10) {
    parts.push(`<text x="${x(second)}" y="${y0}" class="axis" text-anchor="middle">${second} s</text>`);
  }
  return { svg: parts.join('\n'), height: y0 - top + 14 };
};

/**
 * The load report's picture, hand-written SVG like the bench's: the latency CDF of every rate (with the 2 s goal),
 * then one timeline per rate.
 *
 * @example
 * writeFileSync('load.svg', renderLoadChart(results, 'npm run load -- --rates 25,50,100'));
 */
export const renderLoadChart = (results: readonly RateResult[], subtitle: string): string => {
  const blocks: string[] = [];
  let top = 30;
  const cdf = cdfPanel(results, top);
  blocks.push(cdf.svg);
  top += cdf.height + 10;
  for (const result of results) {
    const panel = timelinePanel(result, top);
    blocks.push(panel.svg);
    top += panel.height + 16;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${top}" viewBox="0 0 ${WIDTH} ${top}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>',
    '.title{font-size:13px;font-weight:bold;fill:#222}.axis{font-size:10px;fill:#666}.legend{font-size:11px;fill:#333}',
    '.grid{stroke:#e4e4e4}.frame{fill:#fafafa;stroke:#ddd}.goal{stroke:#d62728;stroke-width:1.5;stroke-dasharray:4 3}',
    '.marker{stroke:#888;stroke-dasharray:2 3}',
    '</style>',
    `<rect width="${WIDTH}" height="${top}" fill="#fff"/>`,
    `<text x="10" y="18" class="legend">${escapeXml(subtitle)}</text>`,
    ...blocks,
    '</svg>',
    '',
  ].join('\n');
};
