import { Resvg } from '@resvg/resvg-js';

export interface Curve {
  label: string;
  color: string;
  /** Latency (ms) at each whole percentile 0..100. */
  cdfMs: number[];
}

const W = 720;
const H = 420;
const M = { left: 70, right: 20, top: 40, bottom: 50 };

function niceMax(value: number): number {
  const step = 10 ** Math.floor(Math.log10(Math.max(value, 1)));
  return Math.ceil(value / step) * step;
}

/** Latency distribution curves (percentile against ms) as SVG, for the benchmark's report. */
export function latencySvg(title: string, curves: readonly Curve[]): string {
  const maxMs = niceMax(Math.max(...curves.flatMap((c) => c.cdfMs.slice(0, 100))));
  const x = (ms: number): number => M.left + (Math.min(ms, maxMs) / maxMs) * (W - M.left - M.right);
  const y = (pct: number): number => H - M.bottom - (pct / 100) * (H - M.top - M.bottom);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${title}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const ms = (maxMs / 5) * i;
    parts.push(`<line x1="${x(ms)}" y1="${y(0)}" x2="${x(ms)}" y2="${y(100)}" stroke="#ddd"/>`,
      `<text x="${x(ms)}" y="${y(0) + 18}" text-anchor="middle">${Math.round(ms)}</text>`);
  }
  for (const pct of [0, 25, 50, 75, 95]) {
    parts.push(`<line x1="${x(0)}" y1="${y(pct)}" x2="${x(maxMs)}" y2="${y(pct)}" stroke="#eee"/>`,
      `<text x="${M.left - 8}" y="${y(pct) + 4}" text-anchor="end">${pct}%</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 10}" text-anchor="middle">sample time to its last row in TimescaleDB (ms)</text>`,
    `<text transform="translate(16 ${H / 2}) rotate(-90)" text-anchor="middle">samples (percentile)</text>`);
  curves.forEach((curve, i) => {
    const points = curve.cdfMs.map((ms, pct) => `${x(ms).toFixed(1)},${y(pct).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${points}" fill="none" stroke="${curve.color}" stroke-width="2"/>`,
      `<rect x="${W - 250}" y="${M.top + 10 + i * 20}" width="14" height="4" fill="${curve.color}"/>`,
      `<text x="${W - 230}" y="${M.top + 16 + i * 20}">${curve.label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

export function svgToPng(svg: string): Buffer {
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}
