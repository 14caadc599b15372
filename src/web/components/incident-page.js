// One incident, the war room's screen: how far the fix is live (per bucket and per owner team),
// what keeps it open, the emergency plan (each bucket's rollout, the relaxations approved and the
// reviews they owe, with the actions to approve more), the status updates (post the draft or an
// edited one), the measured durations and the timeline.
import { count, duration, utc } from '../format.js';
import { html } from '../html.js';
import { hostHref, rolloutHref } from '../router.js';
import { useApiAnswer } from '../use-api.js';
import { IncidentScopeBars, SCOPE_STATUSES } from './incident-scope-bars.js';
import { IncidentUpdateForm } from './incident-update-form.js';
import { OperatorAction } from './operator-action.js';
import { StatCard } from './stat-card.js';

/** @param {{ parameter: string }} props the incident id (12 or INC-12) */
export function IncidentPage({ parameter }) {
  const id = String(parameter).replace(/^INC-/i, '');
  const { body: detail, error } = useApiAnswer(`/api/v1/incidents/${encodeURIComponent(id)}`);
  if (!detail) return error ? html`<h1>Incident ${parameter}</h1><p class="bad" data-testid="incident-error">${error.message}</p><p><a href="#/incidents">all incidents</a></p>` : null;
  const { incident, scope, durations } = detail;
  const open = incident.state === 'open';
  return html`<h1>${detail.label} <small>${incident.title}</small> <span class=${`pill ${open ? 'bad' : 'good'}`} data-testid="incident-state">${incident.state}</span></h1>
    <p class="hint" data-testid="incident-opened">opened ${utc(incident.openedAt)} by ${incident.openedBy}: ${incident.triggerReason}${incident.closedAt ? `; closed ${utc(incident.closedAt)} by ${incident.closedBy}: ${incident.closeReason}` : ''}</p>
    <div class="cards">
      <${StatCard} testid="incident-hosts" label="hosts in scope" value=${count(scope.total.hosts)} />
      ${SCOPE_STATUSES.map((status) => html`<${StatCard} key=${status.key} testid=${`incident-${status.key}`} label=${status.label} value=${count(scope.total[status.key])}
        tone=${status.key === 'vulnerable' && scope.total.vulnerable > 0 ? 'bad' : (status.key === 'pendingReboot' || status.key === 'unknown') && scope.total[status.key] > 0 ? 'warn' : ''} />`)}
    </div>
    <p data-testid="incident-closable" class=${scope.closable ? 'good' : 'warn'}>${scope.closable ? 'every host in scope is live or excluded: the incident may close' : `cannot close yet: ${scope.closeBlockers.map((blocker) => blocker.text).join('; ')}`}</p>
    ${open ? html`<div class="operator-actions"><${OperatorAction} label="close" path=${`/api/v1/incidents/${incident.id}/close`} testid="incident-close" /></div>` : null}
    <h2>By bucket</h2>
    <${IncidentScopeBars} heading="bucket" testid="incident-buckets" rows=${scope.byBucket.map((row) => ({ name: row.bucket, counts: row.counts }))} />
    <h2>By owner team</h2>
    <${IncidentScopeBars} heading="team" testid="incident-teams" rows=${scope.byTeam.map((row) => ({ name: row.team, counts: row.counts }))} />
    <h2>Emergency plan</h2>
    <${EmergencyPlan} detail=${detail} open=${open} />
    <h2>Status updates <small>every ${duration(incident.statusEveryMs)}</small></h2>
    ${open ? html`<${IncidentUpdateForm} incidentId=${incident.id} />` : null}
    <${Updates} updates=${detail.updates} />
    <h2>Measured</h2>
    <p data-testid="incident-durations">time to detect ${measured(durations.timeToDetectMs, 'unknown')} · to patched ${measured(durations.timeToPatchedMs, 'not yet')} · to live ${measured(durations.timeToLiveMs, 'not yet')}${durations.liveWithinTarget === undefined ? '' : durations.liveWithinTarget ? ' (within the target)' : ' (past the target)'}</p>
    <p><a href=${`/api/v1/incidents/${incident.id}/timeline?format=markdown`} data-testid="incident-timeline-export">the timeline as Markdown</a> for the postmortem</p>
    <h2>Timeline</h2>
    <ol class="incident-timeline" data-testid="incident-timeline">${detail.events.map((event, index) => html`<li key=${index} data-testid="incident-event"><span class="mono">${utc(event.at)}</span> ${event.text}</li>`)}</ol>
    <h2>Hosts</h2>
    <${ScopeHosts} hosts=${scope.hosts} />`;
}

const measured = (milliseconds, missing) => (milliseconds === undefined ? missing : duration(milliseconds));

/** Each affected bucket: its emergency rollouts, why none could be made, the relaxations approved (and approvable), the reviews. */
function EmergencyPlan({ detail, open }) {
  const buckets = [...new Set([...detail.scope.byBucket.map((row) => row.bucket), ...detail.rollouts.map((rollout) => rollout.bucket)])].sort();
  return html`<table data-testid="incident-plan">
    <thead><tr><th>bucket</th><th>rollouts</th><th>may skip</th><th>post-change review</th>${open ? html`<th>relax</th>` : null}</tr></thead>
    <tbody>${buckets.map((bucket) => {
      const rollouts = detail.rollouts.filter((rollout) => rollout.bucket === bucket);
      const relaxation = detail.relaxations.find((entry) => entry.bucket === bucket);
      const note = detail.incident.planNotes[bucket];
      const approvable = detail.allowedRelaxations.filter((item) => !relaxation?.relaxes.includes(item));
      return html`<tr key=${bucket} data-testid=${`plan-${bucket}`}>
        <td>${bucket}</td>
        <td data-testid=${`plan-${bucket}-rollouts`}>${rollouts.map((rollout) => html`<span key=${rollout.id}><a href=${rolloutHref(rollout.id)}>rollout ${rollout.id}</a> ${rollout.strategy} · ${rollout.state} · ${count(rollout.hosts.length)} hosts${rollout.troubled.length > 0 ? html` · <span class="bad">${rollout.troubled.length} in trouble</span>` : ''} </span>`)}${note ? html`<span class="warn">${rollouts.length > 0 ? ' · ' : ''}${note}</span>` : rollouts.length === 0 ? 'none yet' : ''}</td>
        <td data-testid=${`plan-${bucket}-relaxes`}>${relaxation ? `${relaxation.relaxes.join(', ')} (approved by ${relaxation.approvedBy})` : 'nothing: windows and freezes hold'}</td>
        <td>${relaxation ? (relaxation.review ? `done ${utc(relaxation.review.at)} by ${relaxation.review.by}` : html`<span class="warn">due ${utc(relaxation.reviewDueAt)}</span>`) : ''}
          ${relaxation && !relaxation.review ? html` <${OperatorAction} label="record review" prompt="what did the review find?" path=${`/api/v1/incidents/${detail.incident.id}/reviews`} testid=${`review-${bucket}`} body=${{ bucket }} bodyField="notes" />` : null}</td>
        ${open ? html`<td>${approvable.length > 0 ? html`<${OperatorAction} label=${`relax ${approvable.join(', ')}`} path=${`/api/v1/incidents/${detail.incident.id}/relaxations`} testid=${`relax-${bucket}`} body=${{ bucket, relaxes: approvable }} />` : 'all the policy allows'}</td>` : null}
      </tr>`;
    })}</tbody>
  </table>`;
}

function Updates({ updates }) {
  if (updates.length === 0) return html`<p class="hint" data-testid="incident-no-updates">no status update posted yet</p>`;
  return html`${[...updates].reverse().map((update) => html`<details key=${update.id} class="incident-update" data-testid="incident-update" open=${update === updates.at(-1)}>
    <summary>${utc(update.postedAt)} by ${update.author}${update.automatic ? ` (posted automatically: the update due ${utc(update.missedSlot)} was missed)` : ''}</summary>
    <pre>${update.markdown}</pre>
  </details>`)}`;
}

/** Rows drawn: the hosts that are not live yet come first; `fleetpatch incident show ID --json` has them all. */
const SHOWN_HOSTS = 500;

function ScopeHosts({ hosts }) {
  const order = ['vulnerable', 'pending-reboot', 'unknown', 'excluded', 'live'];
  const sorted = [...hosts].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || (a.name < b.name ? -1 : 1)).slice(0, SHOWN_HOSTS);
  return html`${hosts.length > sorted.length ? html`<p class="hint">the first ${count(sorted.length)} of ${count(hosts.length)} hosts, those not live yet first</p>` : null}
    <table data-testid="incident-hosts-table">
    <thead><tr><th>host</th><th>bucket</th><th>team</th><th>status</th></tr></thead>
    <tbody>${sorted.map((host) => html`<tr key=${host.name}><td class="host-name"><a href=${hostHref(host.name)}>${host.name}</a></td><td>${host.bucket}</td><td>${host.team}</td>
      <td class=${host.status === 'live' ? 'good' : host.status === 'vulnerable' ? 'bad' : 'warn'}>${host.status}</td></tr>`)}</tbody>
  </table>`;
}
