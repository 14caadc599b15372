// The on-call view: what is failing, stuck or paging now. Hosts failed, rolling back or stuck in a
// reboot in rollouts that have not ended; rollouts halted or paused, waiting for a person; the
// notifications still waiting to go out or failed for good; agents that stopped checking in.
import { count, dateTime } from '../format.js';
import { html } from '../html.js';
import { hostHref, rolloutHref } from '../router.js';
import { useApi } from '../use-api.js';
import { StatCard } from './stat-card.js';

export function OnCallPage() {
  const now = useApi('/api/v1/operations/on-call');
  if (!now) return null;
  const { failingHosts, stuckRollouts, notifications, staleAgents } = now;
  return html`<div class="cards">
      <${StatCard} label="hosts failing" value=${count(failingHosts.length)} testid="on-call-failing" tone=${failingHosts.length ? 'bad' : ''} />
      <${StatCard} label="rollouts halted or paused" value=${count(stuckRollouts.length)} testid="on-call-stuck" tone=${stuckRollouts.length ? 'warn' : ''} />
      <${StatCard} label="notifications waiting" value=${count(notifications.pending)} testid="on-call-pending" tone=${notifications.pending ? 'warn' : ''} />
      <${StatCard} label="notifications failed" value=${count(notifications.failed)} testid="on-call-failed" tone=${notifications.failed ? 'bad' : ''} />
      <${StatCard} label="stale agents" value=${count(staleAgents.count)} testid="on-call-stale" tone=${staleAgents.count ? 'warn' : ''} />
    </div>
    <section>
      <h2>Failing hosts</h2>
      ${failingHosts.length === 0 ? html`<p class="hint">no host is failing</p>` : html`<table data-testid="failing-hosts">
        <thead><tr><th>host</th><th>state</th><th>since</th><th>rollout</th><th>bucket</th><th>last error</th></tr></thead>
        <tbody>${failingHosts.map((host) => html`<tr key=${`${host.rolloutId}-${host.host}`} data-testid=${`failing-${host.host}`}>
          <td><a href=${hostHref(host.host)}>${host.host}</a></td><td class="bad" data-testid="state">${host.state}</td><td>${dateTime(host.since)}</td>
          <td><a href=${rolloutHref(host.rolloutId)} data-testid="rollout">${host.rolloutId}</a></td><td>${host.bucket}</td><td data-testid="error">${host.lastError ?? ''}</td>
        </tr>`)}</tbody>
      </table>`}
    </section>
    <section>
      <h2>Halted and paused rollouts</h2>
      ${stuckRollouts.length === 0 ? html`<p class="hint">no rollout waits for a person</p>` : html`<table data-testid="stuck-rollouts">
        <thead><tr><th>rollout</th><th>bucket</th><th>team</th><th>state</th><th>why</th><th>since</th></tr></thead>
        <tbody>${stuckRollouts.map((rollout) => html`<tr key=${rollout.id} data-testid=${`stuck-${rollout.id}`}>
          <td><a href=${rolloutHref(rollout.id)}>${rollout.id}</a></td><td>${rollout.bucket}</td><td>${rollout.team}</td>
          <td data-testid="state">${rollout.state}</td><td data-testid="reason">${rollout.reason ?? ''}</td><td>${dateTime(rollout.since)}</td>
        </tr>`)}</tbody>
      </table>`}
    </section>
    <section>
      <h2>Notifications waiting or failed</h2>
      ${notifications.recent.length === 0 ? html`<p class="hint">the outbox is empty: every page and message went out</p>` : html`<table data-testid="outbox">
        <thead><tr><th>state</th><th>kind</th><th>receiver</th><th>mode</th><th>about</th><th class="num">attempts</th><th>last error</th><th>occurred</th></tr></thead>
        <tbody>${notifications.recent.map((notification) => html`<tr key=${notification.id} data-testid=${`notification-${notification.id}`}>
          <td class=${notification.state === 'failed' ? 'bad' : 'warn'} data-testid="state">${notification.state}</td><td data-testid="kind">${notification.kind}</td>
          <td>${notification.receiver}</td><td>${notification.mode}</td>
          <td>${notification.rolloutId !== undefined ? html`<a href=${rolloutHref(notification.rolloutId)}>rollout ${notification.rolloutId}</a>` : `incident ${notification.incidentId}`}</td>
          <td class="num">${count(notification.attempts)}</td><td data-testid="error">${notification.lastError ?? ''}</td><td>${dateTime(notification.occurredAt)}</td>
        </tr>`)}</tbody>
      </table>`}
    </section>
    <section>
      <h2>Stale agents</h2>
      ${staleAgents.hosts.length === 0 ? html`<p class="hint">every agent checked in lately</p>` : html`<table data-testid="stale-agents">
        <thead><tr><th>host</th><th>bucket</th><th>team</th><th>last seen</th></tr></thead>
        <tbody>${staleAgents.hosts.map((host) => html`<tr key=${host.host} data-testid=${`stale-${host.host}`}>
          <td><a href=${hostHref(host.host)}>${host.host}</a></td><td>${host.bucket}</td><td>${host.team}</td><td data-testid="last-seen">${dateTime(host.lastSeenAt)}</td>
        </tr>`)}</tbody>
      </table>`}
    </section>`;
}
