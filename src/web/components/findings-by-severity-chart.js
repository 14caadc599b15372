// Open findings per bucket, stacked by severity with critical at the bottom, where it lines up
// across buckets and is the first thing to compare.
import { count } from '../format.js';
import { html } from '../html.js';
import { ChartFigure } from './chart-figure.js';

const SEVERITY_SERIES = [
  { key: 'critical', label: 'critical', color: '#ff5d5d' },
  { key: 'high', label: 'high', color: '#ff8f5d' },
  { key: 'medium', label: 'medium', color: '#f0b43c' },
  { key: 'low', label: 'low', color: '#7c8ea3' },
  { key: 'other', label: 'unrated', color: '#4a5563' },
];

/** @param {{ buckets: Array<{ name: string, openFindings: Record<string, number> }> }} props */
export function FindingsBySeverityChart({ buckets }) {
  const series = SEVERITY_SERIES.map((severity) => ({ ...severity, values: buckets.map((bucket) => bucket.openFindings[severity.key] ?? 0) }))
    // Findings without a severity are rare; their column appears only when there are some.
    .filter((entry) => entry.key !== 'other' || entry.values.some((value) => value > 0));
  return html`<${ChartFigure} testid="findings-by-severity" title="Open findings by severity" note="per bucket; critical at the bottom"
    categoryLabel="bucket" categories=${buckets.map((bucket) => bucket.name)} series=${series} stacked=${true} format=${count} />`;
}
