// Small inline SVG charts: the report must open without a server, a network or a chart library.
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export interface Series {
  name: string;
  points: Array<{ x: number; y: number; marker?: 'ok' | 'rejected' }>;
}

function niceRange(values: number[], pad = 0.08): [number, number] {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return [0, 1];
  let [lo, hi] = [Math.min(...finite), Math.max(...finite)];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const span = hi - lo;
  return [lo - span * pad, hi + span * pad];
}

/** Lines over rounds; rejected candidates drawn as hollow red markers. */
export function lineChart(series: Series[], opts: { title: string; xLabel: string; yLabel: string; width?: number; height?: number; threshold?: number }): string {
  const width = opts.width ?? 640;
  const height = opts.height ?? 300;
  const m = { l: 56, r: 140, t: 28, b: 40 };
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  const ys = series.flatMap((s) => s.points.map((p) => p.y)).concat(opts.threshold !== undefined ? [opts.threshold] : []);
  const [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs, Math.min(...xs) + 1)] : [0, 1];
  const [y0, y1] = niceRange(ys);
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (width - m.l - m.r);
  const sy = (y: number) => height - m.b - ((y - y0) / (y1 - y0)) * (height - m.t - m.b);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(opts.title)}">`];
  parts.push(`<text x="${m.l}" y="16" class="title">${esc(opts.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    parts.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${sy(y)}" y2="${sy(y)}" class="grid"/><text x="${m.l - 6}" y="${sy(y) + 4}" text-anchor="end" class="tick">${y.toFixed(2)}</text>`);
  }
  for (let x = Math.ceil(x0); x <= x1; x++) parts.push(`<text x="${sx(x)}" y="${height - m.b + 16}" text-anchor="middle" class="tick">${x}</text>`);
  parts.push(`<text x="${(m.l + width - m.r) / 2}" y="${height - 6}" text-anchor="middle" class="label">${esc(opts.xLabel)}</text>`);
  parts.push(`<text x="14" y="${(m.t + height - m.b) / 2}" transform="rotate(-90 14 ${(m.t + height - m.b) / 2})" text-anchor="middle" class="label">${esc(opts.yLabel)}</text>`);
  if (opts.threshold !== undefined) {
    parts.push(`<line x1="${m.l}" x2="${width - m.r}" y1="${sy(opts.threshold)}" y2="${sy(opts.threshold)}" class="threshold"/><text x="${width - m.r + 4}" y="${sy(opts.threshold) + 4}" class="tick">threshold ${opts.threshold}</text>`);
  }
  series.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const pts = s.points.filter((p) => Number.isFinite(p.y));
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${sx(p.x)},${sy(p.y)}`).join(' ')}"/>`);
    for (const p of pts) {
      parts.push(
        p.marker === 'rejected'
          ? `<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="5" fill="white" stroke="#d62728" stroke-width="2"><title>${esc(s.name)} round ${p.x}: ${p.y.toFixed(3)} (rejected)</title></circle>`
          : `<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="4" fill="${color}"><title>${esc(s.name)} round ${p.x}: ${p.y.toFixed(3)}</title></circle>`,
      );
    }
    parts.push(`<rect x="${width - m.r + 10}" y="${m.t + i * 18}" width="12" height="12" fill="${color}"/><text x="${width - m.r + 28}" y="${m.t + i * 18 + 10}" class="tick">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}

/** One horizontal stacked bar per row (e.g. per round: seconds per stage). */
export function stackedBars(rows: Array<{ label: string; parts: Array<{ name: string; value: number }> }>, opts: { title: string; unit: string; width?: number }): string {
  const width = opts.width ?? 760;
  const names = [...new Set(rows.flatMap((r) => r.parts.map((p) => p.name)))];
  const rowH = 22;
  const m = { l: 80, r: 70, t: 28, b: 24 + 18 * Math.ceil(names.length / 4) };
  const height = m.t + rows.length * rowH + m.b;
  const max = Math.max(1e-9, ...rows.map((r) => r.parts.reduce((a, p) => a + Math.max(0, p.value), 0)));
  const scale = (v: number) => (v / max) * (width - m.l - m.r);
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(opts.title)}">`];
  parts.push(`<text x="${m.l}" y="16" class="title">${esc(opts.title)}</text>`);
  rows.forEach((row, i) => {
    let x = m.l;
    const y = m.t + i * rowH;
    parts.push(`<text x="${m.l - 6}" y="${y + 14}" text-anchor="end" class="tick">${esc(row.label)}</text>`);
    for (const p of row.parts) {
      const w = scale(Math.max(0, p.value));
      const color = COLORS[names.indexOf(p.name) % COLORS.length];
      parts.push(`<rect x="${x}" y="${y + 2}" width="${w}" height="${rowH - 6}" fill="${color}"><title>${esc(p.name)}: ${p.value.toFixed(1)} ${opts.unit}</title></rect>`);
      x += w;
    }
    const total = row.parts.reduce((a, p) => a + Math.max(0, p.value), 0);
    parts.push(`<text x="${Math.min(x + 4, width - m.r)}" y="${y + 14}" class="tick">${total.toFixed(1)} ${opts.unit}</text>`);
  });
  names.forEach((n, i) => {
    const lx = m.l + (i % 4) * 160;
    const ly = m.t + rows.length * rowH + 10 + Math.floor(i / 4) * 18;
    parts.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${lx + 16}" y="${ly + 10}" class="tick">${esc(n)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
