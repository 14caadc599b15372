// The plan, before anything runs: the next 30 days of windows per bucket with the hosts planned in
// each and the freezes, the SLA clock per team, the what-if, and canonical-level drift per package
// and team. `#/plan?from=ISO&days=N` plans from another instant or horizon.
import { count, utc } from '../format.js';
import { html } from '../html.js';
import { useApi, useApiAnswer } from '../use-api.js';
import { DriftChart } from './drift-chart.js';
import { PlanTimeline } from './plan-timeline.js';
import { TeamSlaChart } from './team-sla-chart.js';
import { WhatIfForm } from './what-if-form.js';

/** Rollouts listed under the timeline; the API has up to a hundred. */
const LISTED_ROLLOUTS = 15;

/** @param {{ query: URLSearchParams }} props */
export function PlanPage({ query }) {
  const parameters = new URLSearchParams({ days: query.get('days') ?? '30', limit: '1' });
  if (query.get('from')) parameters.set('from', query.get('from'));
  const { body: plan, error } = useApiAnswer(`/api/v1/plan?${parameters}`);
  if (!plan) {
    return error
      ? html`<h1>Plan</h1><p class="bad" data-testid="plan-error">${error.message}</p>
          <p class="hint">The plan needs a policy: <code>fleetpatch policy apply fleetpatch.yaml</code> (or start the server with <code>--policy</code>).</p>`
      : null;
  }
  const waiting = Object.entries(plan.notScheduled);
  return html`<h1>Plan <small data-testid="plan-range">${utc(plan.generatedAt)} → ${utc(plan.horizonEnd)}</small></h1>
    <p class="hint" data-testid="plan-generated">computed ${utc(plan.generatedAt)} from policy revision ${plan.policyRevision ?? '—'}; plans are reused for a minute</p>
    <div class="cards">
      <div class="card" data-testid="plan-hosts-to-patch"><div class="value">${count(plan.hosts.total)}</div><div class="label">hosts to patch</div></div>
      <div class="card" data-testid="plan-rollouts"><div class="value">${count(plan.rolloutsTotal)}</div><div class="label">planned rollouts</div></div>
      <div class=${`card ${plan.findings.total ? 'warn' : ''}`} data-testid="plan-urgent"><div class="value">${count(plan.findings.total)}</div><div class="label">findings due in 7 days or late</div></div>
      <div class=${`card ${waiting.length ? 'warn' : ''}`} data-testid="plan-waiting"><div class="value">${count(waiting.reduce((sum, [, hosts]) => sum + hosts, 0))}</div><div class="label">hosts not scheduled</div></div>
    </div>
    <figure class="chart wide" data-testid="plan-timeline">
      <figcaption><h3>Windows per bucket</h3><p class="hint">each mark is a window opening; the number is the hosts planned in it; red bands are freezes</p></figcaption>
      ${plan.timeline.length ? html`<${PlanTimeline} timeline=${plan.timeline} from=${plan.generatedAt} until=${plan.horizonEnd} />` : html`<p class="hint">the policy has no buckets</p>`}
      <details>
        <summary>the next rollouts</summary>
        <table data-testid="rollout-table">
          <thead><tr><th>starts</th><th>bucket</th><th>window</th><th>waves (hosts)</th><th class="num">hosts</th></tr></thead>
          <tbody>${plan.rollouts.slice(0, LISTED_ROLLOUTS).map((rollout) => html`<tr key=${`${rollout.bucket}-${rollout.window}-${rollout.occurrenceStart}`}>
            <td>${utc(rollout.occurrenceStart)}</td><td class="label">${rollout.bucket}</td><td>${rollout.window}</td>
            <td>${rollout.waves.map((wave) => `${wave.wave}: ${wave.hostCount}`).join(' · ')}</td><td class="num">${count(rollout.hosts)}</td>
          </tr>`)}</tbody>
        </table>
      </details>
    </figure>
    ${waiting.length ? html`<p class="hint" data-testid="plan-not-scheduled">not scheduled: ${waiting.map(([reason, hosts]) => `${hosts} ${reason}`).join(', ')} (<code>fleetpatch plan explain HOST</code> says why)</p>` : null}
    <div class="plan-stack">
      <${TeamSlaChart} teams=${plan.teams} />
      <${WhatIfForm} defaultAt=${query.get('from') ?? undefined} />
    </div>
    <h2>Canonical patch levels</h2>
    <${PlanDrift} />`;
}

function PlanDrift() {
  const drift = useApi('/api/v1/drift');
  return drift ? html`<${DriftChart} baselines=${drift.baselines} />` : null;
}
