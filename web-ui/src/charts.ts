// Small SVG charts drawn by hand: no charting library in the bundle.
import { svg, html, type TemplateResult } from 'lit';

export interface Series {
  readonly name: string;
  readonly className: string;
  readonly values: readonly number[];
}

const WIDTH = 1000;
const HEIGHT = 200;
const PAD = { left: 36, right: 8, top: 10, bottom: 22 };

/** Lines over per-minute buckets, with a y axis from 0 to the largest value. */
export function lineChart(label: string, series: readonly Series[], xLabels: readonly string[]): TemplateResult {
  const points = Math.max(1, ...series.map((s) => s.values.length));
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i: number): number => PAD.left + (points <= 1 ? 0 : (i * (WIDTH - PAD.left - PAD.right)) / (points - 1));
  const y = (v: number): number => HEIGHT - PAD.bottom - (v / max) * (HEIGHT - PAD.top - PAD.bottom);
  const path = (values: readonly number[]): string => values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const summary = series.map((s) => `${s.name} ${s.values.reduce((a, b) => a + b, 0)}`).join(', ');
  return html`
    <figure class="chart">
      <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${label}: ${summary}">
        ${svg`
          <line class="axis" x1=${PAD.left} y1=${HEIGHT - PAD.bottom} x2=${WIDTH - PAD.right} y2=${HEIGHT - PAD.bottom}></line>
          <line class="axis" x1=${PAD.left} y1=${PAD.top} x2=${PAD.left} y2=${HEIGHT - PAD.bottom}></line>
          <text class="tick" x=${PAD.left - 4} y=${PAD.top + 8} text-anchor="end">${max}</text>
          <text class="tick" x=${PAD.left - 4} y=${HEIGHT - PAD.bottom} text-anchor="end">0</text>
          <text class="tick" x=${PAD.left} y=${HEIGHT - 4}>${xLabels[0] ?? ''}</text>
          <text class="tick" x=${WIDTH - PAD.right} y=${HEIGHT - 4} text-anchor="end">${xLabels[xLabels.length - 1] ?? ''}</text>
          ${series.map((s) => svg`<path class="line ${s.className}" d=${path(s.values)}></path>`)}
        `}
      </svg>
      <figcaption>${series.map((s) => html`<span class="key ${s.className}">${s.name}</span>`)}</figcaption>
    </figure>`;
}

/** Horizontal bars, one per labelled count. */
export function barChart(label: string, bars: readonly { readonly label: string; readonly value: number }[]): TemplateResult {
  const max = Math.max(1, ...bars.map((b) => b.value));
  const row = 22;
  const height = Math.max(row, bars.length * row);
  return html`
    <svg class="bars" viewBox="0 0 ${WIDTH} ${height}" role="img"
      aria-label="${label}: ${bars.length === 0 ? 'empty' : bars.map((b) => `${b.label} ${b.value}`).join(', ')}">
      ${bars.map((b, i) => svg`
        <text class="tick" x="0" y=${i * row + 15}>${b.label}</text>
        <rect class="bar" x="220" y=${i * row + 4} width=${Math.max(2, (b.value / max) * (WIDTH - 300))} height="14"></rect>
        <text class="tick" x=${226 + (b.value / max) * (WIDTH - 300)} y=${i * row + 15}>${b.value}</text>`)}
    </svg>`;
}
