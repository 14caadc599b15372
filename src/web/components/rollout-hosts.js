// A rollout's hosts in admission order: wave, state, attempt, last error and current job, with
// retry and skip where the server says they apply (`actions`).
import { dateTime } from '../format.js';
import { html } from '../html.js';
import { hostHref } from '../router.js';
import { stateGroup } from '../rollout-states.js';
import { OperatorAction } from './operator-action.js';

/** A job in words: its step and how far it got. */
const jobText = (job) => `${job.step} ${job.outcome ?? (job.fetchedAt ? 'fetched by the agent' : 'waiting for the agent')}`;

/**
 * @param {{ rolloutId: number, ended: boolean, hosts: Array<{ host: string, wave: number, state: string, attempt: number,
 *   stateSince: string, lastError?: string, actions: Array<'retry' | 'skip'>, job?: { step: string, dispatchedAt: string, fetchedAt?: string, outcome?: string } }> }} props
 */
export function RolloutHosts({ rolloutId, ended, hosts }) {
  const hostPath = (host, action) => `/api/v1/rollouts/${rolloutId}/hosts/${encodeURIComponent(host)}/${action}`;
  return html`<table data-testid="rollout-hosts">
    <thead><tr><th>host</th><th class="num">wave</th><th>state</th><th class="num">attempt</th><th>since</th><th>current job</th><th>last error</th>${ended ? null : html`<th>act</th>`}</tr></thead>
    <tbody>${hosts.map((host) => html`<tr key=${host.host} data-testid=${`rollout-host-${host.host}`}>
      <td class="host-name"><a href=${hostHref(host.host)}>${host.host}</a></td>
      <td class="num">${host.wave}</td>
      <td><span class="state-dot" style=${`background: ${stateGroup(host.state).color}`}></span><span data-testid="host-state">${host.state}</span></td>
      <td class="num" data-testid="host-attempt">${host.attempt}</td>
      <td>${dateTime(host.stateSince)}</td>
      <td data-testid="host-job">${host.job ? html`${jobText(host.job)} <small>${dateTime(host.job.dispatchedAt)}</small>` : ''}</td>
      <td class="label bad" data-testid="host-error">${host.lastError ?? ''}</td>
      ${ended ? null : html`<td class="actions">
        ${host.actions.includes('retry') ? html`<${OperatorAction} label="retry" path=${hostPath(host.host, 'retry')} testid=${`retry-${host.host}`} />` : null}
        ${host.actions.includes('skip') ? html`<${OperatorAction} label="skip" path=${hostPath(host.host, 'skip')} testid=${`skip-${host.host}`} danger=${true} />` : null}
      </td>`}
    </tr>`)}</tbody>
  </table>`;
}
