// SPDX-License-Identifier: Apache-2.0
/** Small SVG charts (pure): latency distributions (one cumulative curve per series), values over time, and a stack of charts in one picture. */

export interface Series {
  label: string;
  /** Latencies in ms. */
  values: number[];
  color: string;
}

const W = 720;
const H = 420;
const M = { left: 70, right: 20, top: 40, bottom: 60 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An SVG document plotting the cumulative share of samples below each latency; `axes` renames the x and y axis. */
export function cdfChart(title: string, series: Series[], axes: { x?: string; y?: string } = {}): string {
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (ms: number) => M.left + (ms / max) * (W - M.left - M.right);
  const y = (share: number) => H - M.bottom - share * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const ms = (max * i) / 5;
    parts.push(`<line x1="${x(ms)}" y1="${y(0)}" x2="${x(ms)}" y2="${y(1)}" stroke="#eee"/>`, `<text x="${x(ms)}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="12">${Math.round(ms)}</text>`);
    const share = i / 5;
    parts.push(`<line x1="${x(0)}" y1="${y(share)}" x2="${x(max)}" y2="${y(share)}" stroke="#eee"/>`, `<text x="${M.left - 8}" y="${y(share) + 4}" text-anchor="end" font-size="12">${Math.round(share * 100)}%</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 18}" text-anchor="middle" font-size="13">${esc(axes.x ?? 'latency from create to Ready (ms)')}</text>`);
  parts.push(`<text x="18" y="${H / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${H / 2})">${esc(axes.y ?? 'share of objects Ready')}</text>`);
  series.forEach((s, i) => {
    const sorted = [...s.values].sort((a, b) => a - b);
    const points = sorted.map((v, k) => `${x(v).toFixed(1)},${y((k + 1) / sorted.length).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${x(0)},${y(0)} ${points.join(' ')}"/>`);
    const lx = M.left + 0.36 * (W - M.left - M.right);
    const ly = M.top + 16 + i * 20;
    parts.push(`<rect x="${lx}" y="${ly - 6}" width="14" height="4" fill="${s.color}"/>`, `<text x="${lx + 20}" y="${ly}" font-size="12">${esc(s.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>\n`;
}

/** A series over time: [seconds, value] points. */
export interface TimeSeries {
  label: string;
  points: Array<[number, number]>;
  color: string;
}

/** An SVG document plotting each series' value against seconds, with `yLabel` on the y axis. */
export function timeChart(title: string, series: TimeSeries[], yLabel: string): string {
  const all = series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...all.map(([t]) => t));
  const maxY = Math.max(1, ...all.map(([, v]) => v)) * 1.05;
  const x = (t: number) => M.left + (t / maxX) * (W - M.left - M.right);
  const y = (v: number) => H - M.bottom - (v / maxY) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16">${esc(title)}</text>`);
  for (let i = 0; i <= 5; i++) {
    const t = (maxX * i) / 5;
    const v = (maxY * i) / 5;
    parts.push(`<line x1="${x(t)}" y1="${y(0)}" x2="${x(t)}" y2="${y(maxY)}" stroke="#eee"/>`, `<text x="${x(t)}" y="${H - M.bottom + 18}" text-anchor="middle" font-size="12">${t.toFixed(maxX < 10 ? 1 : 0)}</text>`);
    parts.push(`<line x1="${x(0)}" y1="${y(v)}" x2="${x(maxX)}" y2="${y(v)}" stroke="#eee"/>`, `<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end" font-size="12">${Math.round(v)}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 18}" text-anchor="middle" font-size="13">seconds from the workload's start</text>`);
  parts.push(`<text x="18" y="${H / 2}" text-anchor="middle" font-size="13" transform="rotate(-90 18 ${H / 2})">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const points = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${points.join(' ')}"/>`);
    const lx = M.left + 16;
    const ly = M.top + 16 + i * 20;
    parts.push(`<rect x="${lx}" y="${ly - 6}" width="14" height="4" fill="${s.color}"/>`, `<text x="${lx + 20}" y="${ly}" font-size="12">${esc(s.label)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">\n${parts.join('\n')}\n</svg>\n`;
}

/** SVG documents one below the other in one document. */
export function stack(svgs: readonly string[]): string {
  const size = svgs.map((s) => /width="(\d+)" height="(\d+)"/.exec(s)!.slice(1).map(Number) as [number, number]);
  const width = Math.max(...size.map(([w]) => w));
  let top = 0;
  const parts = svgs.map((s, i) => {
    const part = s.replace('<svg ', `<svg y="${top}" `);
    top += size[i]![1];
    return part;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top}" viewBox="0 0 ${width} ${top}">\n${parts.join('')}</svg>\n`;
}
