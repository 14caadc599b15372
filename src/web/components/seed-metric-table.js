// The seed's metrics per team (or bucket): one row each, one column per metric, as the cards
// write them; a team whose numbers slip is one row to read across.
import { html } from '../html.js';
import { METRIC_TEXT } from '../seed-metric-format.js';

/** @param {{ title: string, dimension: 'team' | 'bucket', rows: Array<{ name: string, values: object }>, definitions: Array<{ key: string, name: string }> }} props */
export function SeedMetricTable({ title, dimension, rows, definitions }) {
  return html`<section>
    <h2>${title}</h2>
    <table data-testid=${`seed-${dimension}-table`}>
      <thead><tr><th>${dimension}</th>${definitions.map((definition) => html`<th class="num" key=${definition.key}>${definition.name}</th>`)}</tr></thead>
      <tbody>
        ${rows.map((row) => html`<tr key=${row.name} data-testid=${`seed-row-${row.name}`}>
          <th scope="row">${row.name}</th>
          ${definitions.map((definition) => html`<td class="num" key=${definition.key} data-testid=${definition.key}>${METRIC_TEXT[definition.key](row.values)}</td>`)}
        </tr>`)}
      </tbody>
    </table>
  </section>`;
}
