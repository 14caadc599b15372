// The debug view: is the machinery healthy? The agents (how many checked in lately, how many went
// quiet), the advisory feeds (when each last synced, the newest advisory, this server's sync
// errors) and the rollout engine (its leases, passes overdue, jobs not yet reported, the
// notification outbox's backlog, how long this server's passes take).
import { count, dateTime } from '../format.js';
import { html } from '../html.js';
import { useApi } from '../use-api.js';
import { StatCard } from './stat-card.js';

const milliseconds = (value) => (value === undefined ? '–' : `${value} ms`);

export function DebugPage() {
  const health = useApi('/api/v1/operations/health');
  if (!health) return null;
  const { agents, feeds, engine, replica } = health;
  const syncs = replica?.syncs;
  const passes = replica?.passes;
  return html`<section>
      <h2>Agents</h2>
      <div class="cards" data-testid="agent-health">
        <${StatCard} label="hosts" value=${count(agents.hosts)} testid="agents-hosts" />
        <${StatCard} label="seen in the last 5 minutes" value=${count(agents.seenLast5Minutes)} testid="agents-5m" />
        <${StatCard} label="seen in the last hour" value=${count(agents.seenLastHour)} testid="agents-1h" />
        <${StatCard} label="inventories in the last hour" value=${count(agents.inventoriesLastHour)} testid="agents-inventories" />
        <${StatCard} label=${`stale (no check-in for ${Math.round(health.staleAfterSeconds / 60)} min)`} value=${count(agents.stale)} testid="agents-stale" tone=${agents.stale ? 'warn' : ''} />
        <${StatCard} label="never checked in" value=${count(agents.neverSeen)} testid="agents-never" />
      </div>
    </section>
    <section>
      <h2>Advisory feeds</h2>
      <div class="cards" data-testid="feed-health">
        <${StatCard} label="advisories stored" value=${count(feeds.advisories)} testid="feeds-advisories" />
        <${StatCard} label="syncs by this server" value=${count(syncs?.attempts)} testid="feeds-syncs" />
        <${StatCard} label="failed syncs" value=${count(syncs?.failures)} testid="feeds-failures" tone=${syncs?.failures ? 'bad' : ''} />
      </div>
      <p class="hint" data-testid="feeds-imported">last advisory imported ${dateTime(feeds.lastImportedAt)}; newest modified ${dateTime(feeds.lastModifiedAt)}</p>
      ${syncs?.lastError ? html`<p class="bad" data-testid="feeds-last-error">last failure ${dateTime(syncs.lastErrorAt)}: ${syncs.lastError}</p>` : null}
      <table data-testid="feed-locations">
        <thead><tr><th>feed</th><th>last synced</th></tr></thead>
        <tbody>${feeds.locations.map((feed) => html`<tr key=${feed.location}><td data-testid="location">${feed.location}</td><td>${dateTime(feed.syncedAt)}</td></tr>`)}</tbody>
      </table>
    </section>
    <section>
      <h2>Rollout engine</h2>
      <div class="cards" data-testid="engine-health">
        <${StatCard} label="rollouts not ended" value=${count(engine.activeRollouts)} testid="engine-active" />
        <${StatCard} label="passes overdue" value=${count(engine.overduePasses)} testid="engine-overdue" tone=${engine.overduePasses ? 'bad' : ''} />
        <${StatCard} label="jobs not reported" value=${count(engine.jobsWaiting)} testid="engine-jobs" />
        <${StatCard} label="outbox backlog" value=${count(engine.outbox.pending)} testid="engine-outbox" tone=${engine.outbox.due ? 'warn' : ''} />
        <${StatCard} label="passes by this server" value=${count(passes?.count)} testid="engine-passes" />
        <${StatCard} label="pass median" value=${milliseconds(passes?.medianMs)} testid="engine-pass-median" />
        <${StatCard} label="pass p90" value=${milliseconds(passes?.p90Ms)} testid="engine-pass-p90" />
        <${StatCard} label="longest pass" value=${milliseconds(passes?.maxMs)} testid="engine-pass-max" />
      </div>
      ${engine.leases.length === 0 ? html`<p class="hint">no rollout is leased</p>` : html`<table data-testid="engine-leases">
        <thead><tr><th>rollout</th><th>bucket</th><th>holder</th><th>lease until</th></tr></thead>
        <tbody>${engine.leases.map((lease) => html`<tr key=${lease.rolloutId} data-testid=${`lease-${lease.rolloutId}`}>
          <td>${lease.rolloutId}</td><td>${lease.bucket}</td><td>${lease.holder}</td><td class=${lease.expired ? 'bad' : ''}>${dateTime(lease.expiresAt)}${lease.expired ? ' (expired: its replica is gone)' : ''}</td>
        </tr>`)}</tbody>
      </table>`}
    </section>`;
}
