// A chart's numbers as a table: one row per category, one column per series.
import { html } from '../html.js';

/**
 * @param {{ testid: string, categoryLabel: string, categories: string[],
 *   series: Array<{ key: string, label: string, values: number[] }>, format: (value: number) => string }} props
 */
export function ChartTable({ testid, categoryLabel, categories, series, format }) {
  return html`<table data-testid=${testid}>
    <thead><tr><th>${categoryLabel}</th>${series.map((entry) => html`<th class="num" key=${entry.key}>${entry.label}</th>`)}</tr></thead>
    <tbody>
      ${categories.map((category, index) => html`<tr key=${category} data-testid=${`row-${category}`}>
        <th scope="row">${category}</th>
        ${series.map((entry) => html`<td class="num" key=${entry.key} data-testid=${entry.key}>${format(entry.values[index])}</td>`)}
      </tr>`)}
    </tbody>
  </table>`;
}
