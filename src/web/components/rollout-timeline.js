// What happened to a rollout, newest first: the engine's transitions and events, and every
// operator's action with who did it and why.
import { count, dateTime } from '../format.js';
import { html } from '../html.js';
import { hostHref, rolloutHref } from '../router.js';

/** Rows drawn; the API holds the last 2,000 and `fleetpatch rollout show ID --json` prints them. */
const SHOWN_EVENTS = 300;

/**
 * @param {{ events: Array<{ id: number, rolloutId: number, at: string, host?: string, kind: string, from?: string, to?: string,
 *   actor: string, detail?: string }>, testid: string, withRollout?: boolean }} props oldest first, as the API answers
 */
export function RolloutTimeline({ events, testid, withRollout = false }) {
  const newestFirst = events.slice(-SHOWN_EVENTS).reverse();
  return html`${events.length > newestFirst.length ? html`<p class="hint">the last ${count(newestFirst.length)} of ${count(events.length)} entries</p>` : null}
    <table data-testid=${testid}>
      <thead><tr><th>at</th>${withRollout ? html`<th class="num">rollout</th>` : null}<th>host</th><th>event</th><th>change</th><th>by</th><th>detail</th></tr></thead>
      <tbody>${newestFirst.map((event) => html`<tr key=${event.id} data-testid="timeline-entry">
        <td>${dateTime(event.at)}</td>
        ${withRollout ? html`<td class="num"><a href=${rolloutHref(event.rolloutId)}>${event.rolloutId}</a></td>` : null}
        <td class="host-name">${event.host ? html`<a href=${hostHref(event.host)}>${event.host}</a>` : ''}</td>
        <td data-testid="timeline-kind">${event.kind}</td>
        <td class="mono">${event.from || event.to ? `${event.from ?? ''} → ${event.to ?? ''}` : ''}</td>
        <td class="label">${event.actor}</td>
        <td class="label" data-testid="timeline-detail">${event.detail ?? ''}</td>
      </tr>`)}</tbody>
    </table>`;
}
