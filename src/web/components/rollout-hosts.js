// A rollout's hosts in admission order: wave, state, attempt, last error and current job (and
// who runs it), with retry and skip where the server says they apply (`actions`). In a manual
// window each host also shows its checklist: the steps confirmed, the next one, and the action
// that confirms it (with what was done, for the audit log).
import { count, dateTime } from '../format.js';
import { html } from '../html.js';
import { hostHref } from '../router.js';
import { stateGroup } from '../rollout-states.js';
import { jobRunner } from '../rollout-strategy.js';
import { OperatorAction } from './operator-action.js';

/** A job in words: its step, how far it got and who runs it (the agent pulls its jobs; the server runs the others). */
function jobText(job) {
  const runner = jobRunner(job.executor);
  if (job.outcome) return `${job.step} ${job.outcome} · ${runner}`;
  if (job.executor === undefined || job.executor === 'agent') return `${job.step} ${job.fetchedAt ? `fetched by ${runner}` : `waiting for ${runner}`}`;
  return `${job.step} ${job.fetchedAt ? `running through ${runner}` : `queued for ${runner}`}`;
}

/**
 * @param {{ rolloutId: number, ended: boolean, manual?: boolean, hosts: Array<{ host: string, wave: number, state: string, attempt: number,
 *   stateSince: string, lastError?: string, actions: Array<'retry' | 'skip'>,
 *   job?: { step: string, executor?: string, dispatchedAt: string, fetchedAt?: string, outcome?: string },
 *   checklist?: { confirmed: number, of: number, next?: { step: number, item: string } } }> }} props `manual`: a manual window's rollout
 */
export function RolloutHosts({ rolloutId, ended, manual = false, hosts }) {
  const hostPath = (host, action) => `/api/v1/rollouts/${rolloutId}/hosts/${encodeURIComponent(host)}/${action}`;
  return html`<table data-testid="rollout-hosts">
    <thead><tr><th>host</th><th class="num">wave</th><th>state</th><th class="num">attempt</th><th>since</th><th>current job</th>${manual ? html`<th>checklist</th>` : null}<th>last error</th>${ended ? null : html`<th>act</th>`}</tr></thead>
    <tbody>${hosts.map((host) => html`<tr key=${host.host} data-testid=${`rollout-host-${host.host}`}>
      <td class="host-name"><a href=${hostHref(host.host)}>${host.host}</a></td>
      <td class="num">${host.wave}</td>
      <td><span class="state-dot" style=${`background: ${stateGroup(host.state).color}`}></span><span data-testid="host-state">${host.state}</span></td>
      <td class="num" data-testid="host-attempt">${host.attempt}</td>
      <td>${dateTime(host.stateSince)}</td>
      <td data-testid="host-job">${host.job ? html`${jobText(host.job)} <small>${dateTime(host.job.dispatchedAt)}</small>` : ''}</td>
      ${manual ? html`<td data-testid="host-checklist">${host.checklist ? html`<${ChecklistProgress} checklist=${host.checklist} />` : ''}</td>` : null}
      <td class="label bad" data-testid="host-error">${host.lastError ?? ''}</td>
      ${ended ? null : html`<td class="actions">
        ${host.actions.includes('retry') ? html`<${OperatorAction} label="retry" path=${hostPath(host.host, 'retry')} testid=${`retry-${host.host}`} />` : null}
        ${host.checklist?.next ? html`<${OperatorAction} key=${host.checklist.next.step} label=${`confirm step ${host.checklist.next.step}`} prompt="what was done?" path=${hostPath(host.host, `checklist/${host.checklist.next.step}`)} testid=${`confirm-${host.host}`} />` : null}
        ${host.actions.includes('skip') ? html`<${OperatorAction} label="skip" path=${hostPath(host.host, 'skip')} testid=${`skip-${host.host}`} danger=${true} />` : null}
      </td>`}
    </tr>`)}</tbody>
  </table>`;
}

/** Steps confirmed of the checklist as a small bar and in words, and the step a person confirms next. */
function ChecklistProgress({ checklist }) {
  return html`<div class="checklist-progress">
    <span class="state-bar" aria-hidden="true"><span style=${`width: ${(checklist.confirmed / Math.max(checklist.of, 1)) * 100}%; background: ${stateGroup('awaiting-operator').color}`}></span></span>
    <span data-testid="checklist-confirmed">${count(checklist.confirmed)} of ${count(checklist.of)} confirmed</span>
    ${checklist.next ? html`<div class="hint" data-testid="checklist-next">next: ${checklist.next.step}. ${checklist.next.item}</div>` : null}
  </div>`;
}
