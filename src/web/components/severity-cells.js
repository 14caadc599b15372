// The four severity columns of a table row, the non-zero ones highlighted.
import { count } from '../format.js';
import { html } from '../html.js';

export const SEVERITIES = ['critical', 'high', 'medium', 'low'];

/** @param {{ open: Record<string, number> }} props */
export function SeverityCells({ open }) {
  return SEVERITIES.map((severity) => html`<td class=${`num sev-${severity}${open[severity] ? ' hot' : ''}`} data-testid=${severity}>${count(open[severity])}</td>`);
}
