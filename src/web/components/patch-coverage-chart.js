// Patch coverage per bucket: the share of its hosts without an open finding.
import { percent } from '../format.js';
import { html } from '../html.js';
import { ChartFigure } from './chart-figure.js';

const wholePercent = (ratio) => `${Math.round(ratio * 100)}%`;

/** @param {{ buckets: Array<{ name: string, patchCoverage: number }> }} props */
export function PatchCoverageChart({ buckets }) {
  const series = [{ key: 'coverage', label: 'coverage', color: '#4cc38a', values: buckets.map((bucket) => bucket.patchCoverage) }];
  return html`<${ChartFigure} testid="patch-coverage" title="Patch coverage" note="per bucket: hosts with no open finding"
    categoryLabel="bucket" categories=${buckets.map((bucket) => bucket.name)} series=${series} format=${percent} axisFormat=${wholePercent} maximum=${1} />`;
}
