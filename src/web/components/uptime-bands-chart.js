// How long hosts have been up, per bucket, in bands from a week to over a year: long uptimes are
// kernel fixes on disk that are not live.
import { count } from '../format.js';
import { html } from '../html.js';
import { ChartFigure } from './chart-figure.js';

const BANDS = [
  { key: 'under7', label: '< 7 d', color: '#4cc38a' },
  { key: 'under30', label: '7–30 d', color: '#8fbf5a' },
  { key: 'under90', label: '30–90 d', color: '#f0b43c' },
  { key: 'under365', label: '90–365 d', color: '#ff8f5d' },
  { key: 'over365', label: '≥ 365 d', color: '#ff5d5d' },
];

/** @param {{ buckets: Array<{ name: string, uptimeDays: Record<string, number> }> }} props */
export function UptimeBandsChart({ buckets }) {
  const series = BANDS.map((band) => ({ ...band, values: buckets.map((bucket) => bucket.uptimeDays[band.key] ?? 0) }));
  return html`<${ChartFigure} testid="uptime-bands" title="Uptime" note="hosts per bucket by days since boot; 412 days up is a liability, not a badge"
    categoryLabel="bucket" categories=${buckets.map((bucket) => bucket.name)} series=${series} stacked=${true} format=${count} />`;
}
