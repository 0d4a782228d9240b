/**
 * OUT/report.html: one self-contained page (no network: inline SVG, images
 * as data: URLs) with the loss curve, the probe numbers and the embedding map.
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { EmbeddingMap, RunReport } from './evaluate.js';
import type { MethodSpec } from './methods.js';
import type { RunSettings } from './pretrain.js';

export interface ReportPage {
  settings: RunSettings;
  spec: MethodSpec;
  metrics: { step: number; loss: number }[];
  report: RunReport | null;
  map: EmbeddingMap;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const fmt = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3));

/** The loss per step as an SVG line chart (at most 1,000 points: every k-th step). */
export function lossCurveSvg(metrics: readonly { step: number; loss: number }[], width = 640, height = 260): string {
  const finite = metrics.filter((m) => Number.isFinite(m.loss));
  if (finite.length === 0) return '<p>No steps were logged.</p>';
  const stride = Math.max(1, Math.ceil(finite.length / 1000));
  const pts = finite.filter((_, i) => i % stride === 0 || i === finite.length - 1);
  const pad = { l: 56, r: 12, t: 12, b: 32 };
  const [s0, s1] = [pts[0]!.step, pts.at(-1)!.step];
  let lo = Math.min(...pts.map((p) => p.loss));
  let hi = Math.max(...pts.map((p) => p.loss));
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const x = (s: number) => pad.l + ((s - s0) / Math.max(1, s1 - s0)) * (width - pad.l - pad.r);
  const y = (v: number) => pad.t + (1 - (v - lo) / (hi - lo)) * (height - pad.t - pad.b);
  const line = pts.map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
  // The running mean over 20 steps, drawn over the per-step loss (which is noisy with small batches).
  const window = 20;
  let sum = 0;
  const mean = finite.map((m, i) => {
    sum += m.loss - (i >= window ? finite[i - window]!.loss : 0);
    return { step: m.step, loss: sum / Math.min(i + 1, window) };
  });
  const meanLine = mean
    .filter((_, i) => i % stride === 0 || i === mean.length - 1)
    .map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`)
    .join(' ');
  const ticks = [lo, (lo + hi) / 2, hi]
    .map((v) => `<line x1="${pad.l}" x2="${width - pad.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/><text x="${pad.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${fmt(v)}</text>`)
    .join('');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-size="11" font-family="sans-serif" role="img" aria-label="loss per step">` +
    `${ticks}<polyline fill="none" stroke="#9ecae1" stroke-width="1" points="${line}"/>` +
    `<polyline fill="none" stroke="#08519c" stroke-width="2" points="${meanLine}"/>` +
    `<text x="${width - pad.r}" y="${pad.t + 10}" text-anchor="end" fill="#08519c">mean of ${window} steps</text>` +
    `<text x="${pad.l}" y="${height - 8}">step ${s0}</text><text x="${width - pad.r}" y="${height - 8}" text-anchor="end">step ${s1}</text></svg>`
  );
}

/** The embedding map: thumbnails at their PCA coordinates, framed in their class's colour. */
export function embeddingMapSvg(map: EmbeddingMap, size = 720): string {
  if (map.points.length === 0) return '<p>No images to map.</p>';
  const thumb = 28;
  const xs = map.points.map((p) => p.x);
  const ys = map.points.map((p) => p.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const sx = (v: number) => thumb / 2 + ((v - x0) / (x1 - x0 || 1)) * (size - thumb);
  const sy = (v: number) => thumb / 2 + (1 - (v - y0) / (y1 - y0 || 1)) * (size - thumb);
  const items = map.points
    .map((p) => {
      const colour = p.label === null ? '#555' : PALETTE[p.label % PALETTE.length]!;
      const cls = p.label !== null && map.classNames ? map.classNames[p.label] : '';
      const [cx, cy] = [sx(p.x) - thumb / 2, sy(p.y) - thumb / 2];
      return (
        `<g><title>${escapeHtml(p.name)}${cls ? ` (${escapeHtml(cls!)})` : ''}${p.heldOut ? ', held out' : ''}</title>` +
        `<image href="${p.thumbnail}" x="${cx.toFixed(1)}" y="${cy.toFixed(1)}" width="${thumb}" height="${thumb}"/>` +
        `<rect x="${cx.toFixed(1)}" y="${cy.toFixed(1)}" width="${thumb}" height="${thumb}" fill="none" stroke="${colour}" stroke-width="2"/></g>`
      );
    })
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" viewBox="0 0 ${size} ${size}" role="img" aria-label="embedding map">${items}</svg>`;
}

function legend(map: EmbeddingMap): string {
  if (!map.classNames) return '';
  return `<p class="legend">${map.classNames
    .map((c, i) => `<span><i style="border-color:${PALETTE[i % PALETTE.length]}"></i>${escapeHtml(c)}</span>`)
    .join(' ')}</p>`;
}

function probeTable(report: RunReport | null): string {
  if (report === null) return '<p>The folder has no class subfolders (or one class): no probe accuracy to report.</p>';
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const row = (name: string, s: { knnAccuracy: number; linearProbeAccuracy: number }) =>
    `<tr><th>${name}</th><td>${pct(s.knnAccuracy)}</td><td>${pct(s.linearProbeAccuracy)}</td></tr>`;
  return (
    `<table><thead><tr><th></th><th>kNN (k = ${report.knn.k})</th><th>linear probe</th></tr></thead><tbody>` +
    row(`${escapeHtml(report.method)} (trained)`, report.trained) +
    row('same encoder, random init', report.randomInit) +
    `</tbody></table><p>Probes fitted on ${report.split.train} images and tested on ${report.split.test} held-out images ` +
    `(seeded split; ${report.classNames.length} classes: ${report.classNames.map(escapeHtml).join(', ')}).</p>`
  );
}

/** Writes the page atomically (temporary file, then rename). */
export function writeReportHtml(path: string, page: ReportPage): void {
  const { settings: s, spec, metrics, report, map } = page;
  const last = metrics.at(-1);
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>selfsup: ${escapeHtml(spec.name)} on ${escapeHtml(s.data)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:760px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse}th,td{padding:4px 12px;border-bottom:1px solid #ddd;text-align:left}
.legend span{margin-right:1em;white-space:nowrap}.legend i{display:inline-block;width:10px;height:10px;border:2px solid;margin-right:4px}
code{background:#f4f4f4;padding:1px 4px}</style></head><body>
<h1>${escapeHtml(spec.name)} <small>(${escapeHtml(spec.className)})</small></h1>
<p><code>${escapeHtml(s.data)}</code> at ${s.size}×${s.size}, ${escapeHtml(s.encoder)} encoder, batch ${s.batch}, ${s.steps} steps, seed ${s.seed}, ${escapeHtml(s.backend)} backend.
${last ? `Last loss ${fmt(last.loss)} at step ${last.step}.` : ''}</p>
<h2>Loss</h2>
${lossCurveSvg(metrics)}
<h2>What the encoder learned</h2>
${probeTable(report)}
<h2>Embedding map</h2>
<p>The encoder's embeddings projected on their two principal components (${(100 * map.explained[0]).toFixed(0)} % and ${(100 * map.explained[1]).toFixed(0)} % of the variance), ${map.points.length} images${map.classNames ? ', framed by class' : ''}; hover for the file.</p>
${legend(map)}
${embeddingMapSvg(map)}
<p><small>Written by <code>selfsup pretrain</code>. The page uses no network.</small></p>
</body></html>
`;
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, html);
  renameSync(tmp, path);
}
