// A chart with its title, a note on how to read it, and the same numbers as a table in a
// <details> element: the canvas is hidden from screen readers, the table is what they (and the
// tests) read.
import { html } from '../html.js';
import { BarChart } from './bar-chart.js';
import { ChartTable } from './chart-table.js';

/**
 * @param {{ testid: string, title: string, note: string, categoryLabel: string, categories: string[],
 *   series: Array<{ key: string, label: string, color: string, values: number[] }>, stacked?: boolean,
 *   format: (value: number) => string, axisFormat?: (value: number) => string, maximum?: number }} props
 */
export function ChartFigure({ testid, title, note, categoryLabel, categories, series, stacked, format, axisFormat, maximum }) {
  return html`<figure class="chart" data-testid=${`chart-${testid}`}>
    <figcaption><h3>${title}</h3><p class="hint">${note}</p></figcaption>
    ${categories.length
      ? html`<div aria-hidden="true"><${BarChart} categoryLabel=${categoryLabel} categories=${categories} series=${series} stacked=${stacked} format=${format} axisFormat=${axisFormat} maximum=${maximum} /></div>`
      : html`<p class="hint">no hosts yet</p>`}
    <details>
      <summary>the numbers</summary>
      <${ChartTable} testid=${`chart-${testid}-table`} categoryLabel=${categoryLabel} categories=${categories} series=${series} format=${format} />
    </details>
  </figure>`;
}
