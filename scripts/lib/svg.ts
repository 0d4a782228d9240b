/**
 * Small SVG chart writers for the docs' benchmark plots: horizontal grouped
 * bars (one row per method or workload, one bar per series, optional vertical
 * reference lines) and line charts (loss curves). Plain SVG text, no
 * dependencies, readable in any browser and in typedoc's site.
 */

export interface BarSeries {
  name: string;
  color: string;
  /** One value per row; `null` draws no bar. */
  values: (number | null)[];
}

export interface ReferenceLine {
  label: string;
  value: number;
  color: string;
}

export interface BarChartOptions {
  title: string;
  rows: string[];
  series: BarSeries[];
  /** Axis range; defaults to [0, max]. */
  domain?: [number, number];
  /** Label of the value axis. */
  axisLabel: string;
  /** Vertical lines (baselines, targets). */
  references?: ReferenceLine[];
  /** How a value is printed at the end of its bar. */
  format?: (v: number) => string;
  /** Log-scale value axis (ratios). */
  log?: boolean;
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, sans-serif"';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A horizontal grouped bar chart. */
export function barChart(options: BarChartOptions): string {
  const { title, rows, series, axisLabel, references = [], format = (v) => v.toFixed(2), log = false } = options;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null)).concat(references.map((r) => r.value));
  const [lo, hi] = options.domain ?? [log ? Math.min(...all) / 1.5 : 0, Math.max(...all) * (log ? 1.5 : 1.05)];
  const labelWidth = Math.min(480, 12 + 6.8 * Math.max(...rows.map((r) => r.length)));
  const plotWidth = 520;
  const barHeight = 12;
  const rowHeight = series.length * barHeight + 10;
  const top = 48;
  const height = top + rows.length * rowHeight + 60;
  // Wide enough for the bars and their labels, and for the legend on one line.
  const legendWidth = series.reduce((w, s) => w + 24 + 7 * s.name.length, 0) + references.reduce((w, r) => w + 30 + 7 * r.label.length, 0);
  const width = Math.max(labelWidth + plotWidth + 90, labelWidth + legendWidth + 20);
  const x = (v: number) =>
    labelWidth + (log ? (Math.log(v / lo) / Math.log(hi / lo)) * plotWidth : ((v - lo) / (hi - lo)) * plotWidth);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">${escape(title)}</text>`,
  ];
  // grid ticks
  const ticks = log
    ? [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128].filter((t) => t >= lo && t <= hi)
    : Array.from({ length: 6 }, (_, i) => lo + ((hi - lo) * i) / 5);
  for (const t of ticks) {
    parts.push(`<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${top + rows.length * rowHeight}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${x(t)}" y="${top + rows.length * rowHeight + 16}" text-anchor="middle" fill="#555">${log ? `${t}×` : format(t)}</text>`);
  }
  parts.push(`<text x="${labelWidth + plotWidth / 2}" y="${top + rows.length * rowHeight + 34}" text-anchor="middle" fill="#333">${escape(axisLabel)}</text>`);
  rows.forEach((row, r) => {
    const y0 = top + r * rowHeight;
    parts.push(`<text x="${labelWidth - 8}" y="${y0 + rowHeight / 2 + 2}" text-anchor="end">${escape(row)}</text>`);
    series.forEach((s, k) => {
      const v = s.values[r];
      if (v === null || v === undefined) return;
      const y = y0 + 4 + k * barHeight;
      const x1 = x(Math.max(v, lo));
      parts.push(`<rect x="${labelWidth}" y="${y}" width="${Math.max(1, x1 - labelWidth)}" height="${barHeight - 2}" fill="${s.color}"/>`);
      parts.push(`<text x="${x1 + 4}" y="${y + barHeight - 3}" font-size="10" fill="#333">${escape(format(v))}</text>`);
    });
  });
  for (const ref of references) {
    parts.push(`<line x1="${x(ref.value)}" y1="${top - 6}" x2="${x(ref.value)}" y2="${top + rows.length * rowHeight}" stroke="${ref.color}" stroke-dasharray="4 3" stroke-width="1.5"/>`);
  }
  // legend
  let lx = labelWidth;
  const ly = height - 12;
  for (const s of series) {
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="${ly}">${escape(s.name)}</text>`);
    lx += 24 + 7 * s.name.length;
  }
  for (const ref of references) {
    parts.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 16}" y2="${ly - 4}" stroke="${ref.color}" stroke-dasharray="4 3" stroke-width="1.5"/><text x="${lx + 20}" y="${ly}">${escape(ref.label)}</text>`);
    lx += 30 + 7 * ref.label.length;
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export interface LineSeries {
  name: string;
  color: string;
  /** [x, y] points. */
  points: [number, number][];
}

/** A line chart (loss curves over training steps). */
export function lineChart(options: { title: string; series: LineSeries[]; xLabel: string; yLabel: string }): string {
  const { title, series, xLabel, yLabel } = options;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const left = 60;
  const top = 40;
  const w = 560;
  const h = 300;
  const legendRows = Math.ceil(series.length / 4);
  const width = left + w + 30;
  const height = top + h + 50 + legendRows * 16;
  const sx = (v: number) => left + ((v - x0) / (x1 - x0 || 1)) * w;
  const sy = (v: number) => top + h - ((v - y0) / (y1 - y0 || 1)) * h;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="600">${escape(title)}</text>`,
    `<rect x="${left}" y="${top}" width="${w}" height="${h}" fill="none" stroke="#ccc"/>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const yv = y0 + ((y1 - y0) * i) / 5;
    parts.push(`<text x="${left - 6}" y="${sy(yv) + 4}" text-anchor="end" fill="#555">${yv.toFixed(2)}</text>`);
    const xv = x0 + ((x1 - x0) * i) / 5;
    parts.push(`<text x="${sx(xv)}" y="${top + h + 16}" text-anchor="middle" fill="#555">${Math.round(xv)}</text>`);
  }
  parts.push(`<text x="${left + w / 2}" y="${top + h + 34}" text-anchor="middle">${escape(xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${top + h / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`);
  for (const s of series) {
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)} ${sy(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
  }
  series.forEach((s, i) => {
    const lx = left + (i % 4) * 150;
    const ly = top + h + 52 + Math.floor(i / 4) * 16;
    parts.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 16}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"/><text x="${lx + 20}" y="${ly}">${escape(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** A qualitative palette for series. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
