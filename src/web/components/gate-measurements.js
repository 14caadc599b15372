// A rollout's gates: when each is judged, how its measurements went (a chart when they carry
// numbers), and every measurement with its phase in a table.
import { count, dateTime } from '../format.js';
import { html } from '../html.js';
import { MeasurementChart } from './measurement-chart.js';

const PHASE_TONES = { successful: 'good', failed: 'bad', inconclusive: 'warn', error: 'bad' };

/**
 * @param {{ gates: Array<{ name: string, when?: string }>, measurements: Array<{ gate: string, wave: number, host: string,
 *   takenAt: string, phase: string, value?: number }> }} props
 */
export function GateMeasurements({ gates, measurements }) {
  // Gates of the rollout, then any measured gate it no longer names.
  const names = [...new Set([...gates.map((gate) => gate.name), ...measurements.map((measurement) => measurement.gate)])];
  if (names.length === 0) return html`<p class="hint" data-testid="no-gates">this rollout has no gates</p>`;
  return html`<div class="gates">${names.map((name) => {
    const taken = measurements.filter((measurement) => measurement.gate === name);
    const numeric = taken.filter((measurement) => typeof measurement.value === 'number');
    const latest = taken.at(-1);
    return html`<figure class="chart" key=${name} data-testid=${`gate-${name}`}>
      <figcaption><h3>${name}</h3>
        <p class="hint">${gates.find((gate) => gate.name === name)?.when ?? 'no longer in the rollout'} · ${count(taken.length)} measurements${latest
          ? html` · latest <span class=${PHASE_TONES[latest.phase] ?? ''} data-testid="gate-latest">${latest.phase}</span> ${dateTime(latest.takenAt)}` : ' · not measured yet'}</p>
      </figcaption>
      ${numeric.length ? html`<div aria-hidden="true"><${MeasurementChart} gate=${name} measurements=${numeric} /></div>` : null}
      ${taken.length ? html`<details>
        <summary>the measurements</summary>
        <table data-testid=${`gate-${name}-table`}>
          <thead><tr><th>taken</th><th class="num">wave</th><th>host</th><th>phase</th><th class="num">value</th></tr></thead>
          <tbody>${taken.map((measurement, index) => html`<tr key=${index}>
            <td>${dateTime(measurement.takenAt)}</td><td class="num">${measurement.wave}</td><td class="host-name">${measurement.host}</td>
            <td class=${PHASE_TONES[measurement.phase] ?? ''}>${measurement.phase}</td><td class="num" data-testid="measurement-value">${measurement.value ?? ''}</td>
          </tr>`)}</tbody>
        </table>
      </details>` : null}
    </figure>`;
  })}</div>`;
}
