// Rollouts, newest first: each one's state (and why it waits), bucket, wave, hosts by state as a
// small stacked bar, when and by whom it was created. `#/rollouts?state=…&bucket=…` filters.
import { dateTime } from '../format.js';
import { html } from '../html.js';
import { rolloutHref, rolloutsHref } from '../router.js';
import { useApi } from '../use-api.js';
import { HostStateBar } from './host-state-bar.js';
import { RolloutState } from './rollout-state.js';

const FILTERS = ['state', 'bucket'];

/** @param {{ query: URLSearchParams }} props */
export function RolloutList({ query }) {
  const filters = Object.fromEntries(FILTERS.filter((key) => query.get(key)).map((key) => [key, query.get(key)]));
  const rollouts = useApi(`/api/v1/rollouts?${new URLSearchParams(filters)}`);
  if (!rollouts) return null;
  const filterText = Object.entries(filters).map(([key, value]) => `${key}: ${value}`).join(', ');
  return html`<h1>Rollouts ${filterText ? html`<small>(${filterText}) <a href=${rolloutsHref()}>clear</a></small>` : null}</h1>
    ${rollouts.length === 0
      ? html`<p class="hint" data-testid="no-rollouts">no rollouts yet: <code>fleetpatch rollout create --bucket NAME</code> starts one</p>`
      : html`<table data-testid="rollout-list">
          <thead><tr><th class="num">id</th><th>state</th><th>bucket</th><th>wave</th><th>hosts by state</th><th>created</th><th>by</th><th>reason</th></tr></thead>
          <tbody>${rollouts.map((rollout) => html`<tr key=${rollout.id} data-testid=${`rollout-${rollout.id}`}>
            <td class="num"><a href=${rolloutHref(rollout.id)}>${rollout.id}</a></td>
            <td><${RolloutState} rollout=${rollout} /></td>
            <td class="label"><a href=${rolloutsHref({ bucket: rollout.bucket })}>${rollout.bucket}</a></td>
            <td>${rollout.currentWave} / ${rollout.waveCount}</td>
            <td><${HostStateBar} counts=${rollout.hostCounts} /></td>
            <td>${dateTime(rollout.createdAt)}</td>
            <td class="label">${rollout.createdBy}</td>
            <td class="label" data-testid="rollout-reason">${rollout.reason ?? ''}</td>
          </tr>`)}</tbody>
        </table>`}`;
}
