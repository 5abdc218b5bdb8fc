// Minimal SVG charts, written by hand: grouped bars with min–max whiskers, and lines.

const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"];
const FONT = `font-family="system-ui, sans-serif"`;

export interface Bar {
  value: number | null;
  min?: number;
  max?: number;
}

export interface BarChart {
  title: string;
  unit: string;
  groups: string[];
  series: { name: string; bars: Bar[] }[];
  log?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  xs: number[];
  series: { name: string; points: (number | null)[] }[];
  /** Logarithmic y axis (values spanning decades, such as forking relays next to one process). */
  log?: boolean;
}

function esc(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10])
    if (step * power >= value) return step * power;
  return 10 * power;
}

function fmt(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toPrecision(2);
}

function legend(names: string[], x: number, y: number): string {
  return names
    .map(
      (name, i) =>
        `<rect x="${x + i * 120}" y="${y}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/>` +
        `<text x="${x + i * 120 + 16}" y="${y + 11}" font-size="12" ${FONT}>${esc(name)}</text>`,
    )
    .join("");
}

/** Title, legend and horizontal grid lines with their labels: what every chart starts with. */
function frame(
  title: string,
  names: string[],
  geometry: { width: number; left: number; right: number; legendY: number },
  ticks: number[],
  y: (value: number) => number,
): string[] {
  const { width, left, right, legendY } = geometry;
  const parts = [
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" ${FONT}>${esc(title)}</text>`,
    legend(names, left, legendY),
  ];
  for (const t of ticks) {
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${y(t) + 4}" text-anchor="end" font-size="11" ${FONT}>${fmt(t)}</text>`,
    );
  }
  return parts;
}

export function barChart(chart: BarChart): string {
  const width = 880;
  const height = 420;
  const left = 70;
  const right = 20;
  const top = 60;
  const bottom = 90;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const values = chart.series.flatMap((s) => s.bars.flatMap((b) => [b.value ?? 0, b.max ?? 0]));
  const maxV = niceMax(Math.max(...values));
  const minLog = chart.log
    ? 10 ** Math.floor(Math.log10(Math.max(1e-9, Math.min(...values.filter((v) => v > 0)))))
    : 0;
  const y = (v: number) => {
    if (!chart.log) return top + plotH - (v / maxV) * plotH;
    const lo = Math.log10(minLog);
    const hi = Math.log10(maxV);
    return top + plotH - ((Math.log10(Math.max(v, minLog)) - lo) / (hi - lo)) * plotH;
  };
  const ticks: number[] = [];
  if (chart.log) for (let t = minLog; t <= maxV * 1.0001; t *= 10) ticks.push(t);
  else for (let i = 0; i <= 5; i++) ticks.push((maxV * i) / 5);
  const parts = frame(
    chart.title,
    chart.series.map((s) => s.name),
    { width, left, right, legendY: 34 },
    ticks,
    y,
  );
  parts.push(
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${esc(chart.unit)}</text>`,
  );
  const groupW = plotW / Math.max(1, chart.groups.length);
  const barW = (groupW * 0.8) / Math.max(1, chart.series.length);
  chart.groups.forEach((group, g) => {
    const gx = left + g * groupW + groupW * 0.1;
    chart.series.forEach((series, s) => {
      const bar = series.bars[g];
      const x = gx + s * barW;
      if (!bar || bar.value === null) {
        parts.push(
          `<text x="${x + barW / 2}" y="${top + plotH - 4}" text-anchor="middle" font-size="10" ${FONT}>n/a</text>`,
        );
        return;
      }
      const color = PALETTE[s % PALETTE.length];
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(bar.value).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(top + plotH - y(bar.value)).toFixed(1)}" fill="${color}"><title>${esc(`${group} ${series.name}: ${fmt(bar.value)} ${chart.unit}`)}</title></rect>`,
      );
      if (bar.min !== undefined && bar.max !== undefined) {
        const cx = x + (barW - 2) / 2;
        parts.push(
          `<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${y(bar.min).toFixed(1)}" y2="${y(bar.max).toFixed(1)}" stroke="#333"/>`,
        );
      }
    });
    // Two centred lines: the name, then its parenthesised detail.
    const [name, detail] = group.split(/ (?=\()/);
    const cx = (gx + groupW * 0.4).toFixed(1);
    parts.push(
      `<text x="${cx}" y="${top + plotH + 16}" text-anchor="middle" font-size="11" ${FONT}>${esc(name ?? group)}` +
        (detail
          ? `<tspan x="${cx}" dy="13" font-size="10" fill="#555">${esc(detail)}</tspan>`
          : "") +
        "</text>",
    );
  });
  parts.push(
    `<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`,
  );
  return wrap(width, height, parts);
}

export function lineChart(chart: LineChart): string {
  const width = 880;
  const height = 420;
  const left = 70;
  const right = 20;
  const top = 70;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const maxX = Math.max(...chart.xs);
  const ys = chart.series.flatMap((s) => s.points.filter((p): p is number => p !== null && p > 0));
  const maxY = niceMax(Math.max(0, ...ys));
  const minY = chart.log ? 10 ** Math.floor(Math.log10(Math.max(1e-9, Math.min(...ys)))) : 0;
  const x = (v: number) => left + (v / maxX) * plotW;
  const span = Math.log10(maxY) - Math.log10(minY || 1);
  const y = (v: number) =>
    chart.log
      ? top + plotH - ((Math.log10(Math.max(v, minY)) - Math.log10(minY)) / span) * plotH
      : top + plotH - (v / maxY) * plotH;
  const ticks: number[] = [];
  if (chart.log) {
    for (let t = minY; t <= maxY * 1.0001; t *= 10) {
      for (const k of [1, 2, 5]) if (t * k <= maxY * 1.0001) ticks.push(t * k);
    }
  } else {
    for (let i = 0; i <= 5; i++) ticks.push((maxY * i) / 5);
  }
  const parts = frame(
    chart.title,
    chart.series.map((s) => s.name),
    { width, left, right, legendY: 36 },
    ticks,
    y,
  );
  for (const xv of chart.xs) {
    parts.push(
      `<text x="${x(xv)}" y="${top + plotH + 16}" text-anchor="middle" font-size="11" ${FONT}>${xv.toLocaleString("en")}</text>`,
    );
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle" font-size="12" ${FONT}>${esc(chart.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${esc(chart.yLabel)}</text>`,
  );
  chart.series.forEach((series, s) => {
    const color = PALETTE[s % PALETTE.length];
    const pts = chart.xs.flatMap((xv, i) => {
      const v = series.points[i];
      return v === null || v === undefined ? [] : [[x(xv), y(v)] as const];
    });
    if (pts.length > 1) {
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" ")}"/>`,
      );
    }
    for (const [a, b] of pts)
      parts.push(`<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3.5" fill="${color}"/>`);
  });
  parts.push(
    `<line x1="${left}" x2="${width - right}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`,
  );
  parts.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + plotH}" stroke="#333"/>`);
  return wrap(width, height, parts);
}

function wrap(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="white"/>${parts.join("")}</svg>\n`;
}
