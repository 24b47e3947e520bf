import type { ChartPanel } from './figure';
import { fmt } from './stats';

const WIDTH = 860;
const LABEL_WIDTH = 230;
const PLOT_WIDTH = 520;
const ROW_HEIGHT = 22;
const PANEL_HEAD = 44;
const PANEL_GAP = 18;
const LEGEND_HEIGHT = 34;

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A tick step of 1, 2 or 5 × 10^n giving about four ticks up to `max`. */
const tickStep = (max: number) => {
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? raw;
};

const panelSvg = (panel: ChartPanel, top: number): string => {
  const scaleMax = Math.max(...panel.bars.flatMap((bar) => [bar.spread.max, bar.goal ?? 0, bar.original ?? 0]), 1e-9) * 1.08;
  const x = (value: number) => LABEL_WIDTH + (value / scaleMax) * PLOT_WIDTH;
  const plotTop = top + PANEL_HEAD;
  const plotBottom = plotTop + panel.bars.length * ROW_HEIGHT;
  const parts = [`<text x="10" y="${top + 18}" class="title">${escapeXml(panel.title)}</text>`];
  const step = tickStep(scaleMax);
  for (let tick = 0; tick <= scaleMax; tick += step) {
    parts.push(
      `<line x1="${x(tick)}" y1="${plotTop - 4}" x2="${x(tick)}" y2="${plotBottom}" class="grid"/>`,
      `<text x="${x(tick)}" y="${plotTop - 8}" class="tick">${fmt(tick)}</text>`,
    );
  }
  parts.push(`<text x="${LABEL_WIDTH + PLOT_WIDTH}" y="${top + 18}" class="unit">${escapeXml(panel.unit)}</text>`);
  panel.bars.forEach((bar, index) => {
    const middle = plotTop + index * ROW_HEIGHT + ROW_HEIGHT / 2;
    const { min, median, max } = bar.spread;
    const failed = bar.goal !== undefined && (panel.higherIsBetter ? median < bar.goal : median > bar.goal);
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${middle + 4}" class="label">${escapeXml(bar.label)}</text>`,
      `<rect x="${x(0)}" y="${middle - 4}" width="${Math.max(0, x(min) - x(0))}" height="8" class="base"/>`,
      `<rect x="${x(min)}" y="${middle - 7}" width="${Math.max(2, x(max) - x(min))}" height="14" class="${failed ? 'range fail' : 'range'}"/>`,
      `<line x1="${x(median)}" y1="${middle - 9}" x2="${x(median)}" y2="${middle + 9}" class="median"/>`,
      `<text x="${Math.min(x(max), LABEL_WIDTH + PLOT_WIDTH) + 6}" y="${middle + 4}" class="value">${fmt(median)}</text>`,
    );
    if (bar.goal !== undefined) parts.push(`<line x1="${x(bar.goal)}" y1="${middle - 10}" x2="${x(bar.goal)}" y2="${middle + 10}" class="goal"/>`);
    if (bar.original !== undefined) {
      const ox = x(bar.original);
      parts.push(`<path d="M${ox} ${middle - 6} L${ox + 6} ${middle} L${ox} ${middle + 6} L${ox - 6} ${middle} Z" class="original"/>`);
    }
  });
  return parts.join('\n');
};

/** Height of the chart for these panels. */
const heightOf = (panels: readonly ChartPanel[]) =>
  LEGEND_HEIGHT + panels.reduce((sum, panel) => sum + PANEL_HEAD + panel.bars.length * ROW_HEIGHT + PANEL_GAP, 0) + 10;

/**
 * A hand-written SVG range chart: one panel per figure on its own scale; each bar spans min–max of the repeats
 * with a tick at the median, the goal as a red line and the original design as a grey diamond.
 */
export const renderChart = (panels: readonly ChartPanel[], subtitle: string): string => {
  const height = heightOf(panels);
  let top = LEGEND_HEIGHT;
  const body = panels.map((panel) => {
    const svg = panelSvg(panel, top);
    top += PANEL_HEAD + panel.bars.length * ROW_HEIGHT + PANEL_GAP;
    return svg;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    '<style>',
    '.title{font-size:14px;font-weight:bold;fill:#222}.unit,.tick{font-size:10px;fill:#666;text-anchor:middle}.unit{text-anchor:end}',
    '.label{font-size:11px;fill:#333;text-anchor:end}.value{font-size:10px;fill:#333}.grid{stroke:#e4e4e4}',
    '.base{fill:#dce7f3}.range{fill:#4a7fb5}.range.fail{fill:#c8553d}.median{stroke:#111;stroke-width:2}',
    '.goal{stroke:#d62728;stroke-width:2;stroke-dasharray:3 2}.original{fill:#999;stroke:#555}.legend{font-size:11px;fill:#333}',
    '</style>',
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    `<text x="10" y="16" class="legend">${escapeXml(subtitle)}</text>`,
    '<rect x="10" y="22" width="18" height="8" class="range"/><text x="32" y="30" class="legend">min–max of repeats</text>',
    '<line x1="160" y1="20" x2="160" y2="32" class="median"/><text x="166" y="30" class="legend">median</text>',
    '<line x1="230" y1="20" x2="230" y2="32" class="goal"/><text x="236" y="30" class="legend">goal</text>',
    '<path d="M292 20 L298 26 L292 32 L286 26 Z" class="original"/><text x="304" y="30" class="legend">original design</text>',
    '<rect x="420" y="22" width="18" height="8" class="range fail"/><text x="442" y="30" class="legend">median misses the goal</text>',
    ...body,
    '</svg>',
    '',
  ].join('\n');
};
