// One rollout: its state and why, how it patches (strategy and executor), the operator's actions,
// the error budget left, its waves with their hosts by state, the hosts (a manual window's with
// their checklists), the gates with their measurements, the snapshot every host gets and the timeline.
import { count, dateTime, duration } from '../format.js';
import { html } from '../html.js';
import { rolloutsHref } from '../router.js';
import { ENDED_ROLLOUT_STATES } from '../rollout-states.js';
import { strategyDetail, strategySummary } from '../rollout-strategy.js';
import { useApiAnswer } from '../use-api.js';
import { GateMeasurements } from './gate-measurements.js';
import { HostStateBar } from './host-state-bar.js';
import { OperatorAction } from './operator-action.js';
import { RolloutHosts } from './rollout-hosts.js';
import { RolloutState } from './rollout-state.js';
import { RolloutTimeline } from './rollout-timeline.js';
import { StatCard } from './stat-card.js';

/** @param {{ parameter: string }} props the rollout id */
export function RolloutPage({ parameter: id }) {
  const { body: rollout, error } = useApiAnswer(`/api/v1/rollouts/${encodeURIComponent(id)}`);
  if (!rollout) return error ? html`<h1>Rollout ${id}</h1><p class="bad" data-testid="rollout-error">${error.message}</p><p><a href=${rolloutsHref()}>all rollouts</a></p>` : null;
  const ended = ENDED_ROLLOUT_STATES.has(rollout.state);
  // The budget, the failed hosts and the waves' counts are the server's (the engine's own rules).
  const { budgetLeft, failedHosts: failed, waves } = rollout;
  const settings = rollout.settings;
  return html`<h1>Rollout ${rollout.id} <small>${rollout.bucket}</small> <${RolloutState} rollout=${rollout} /></h1>
    ${rollout.reason ? html`<p class="hint" data-testid="rollout-reason">${rollout.reason}</p>` : null}
    <p class="hint">created ${dateTime(rollout.createdAt)} by ${rollout.createdBy} (${rollout.origin}${rollout.windowName ? `, window ${rollout.windowName}` : ''})${rollout.advisoryId ? `, the fix of ${rollout.advisoryId}` : ''}${rollout.finishedAt ? `; ended ${dateTime(rollout.finishedAt)}` : ''}</p>
    <${RolloutStrategy} settings=${settings} />
    <${RolloutActions} rollout=${rollout} ended=${ended} />
    <div class="cards">
      <${StatCard} testid="rollout-wave" label="current wave" value=${`${rollout.currentWave} / ${rollout.waveCount}`} />
      <${StatCard} testid="rollout-budget" label=${`error budget left of ${settings.errorBudget}`} value=${count(budgetLeft)} tone=${budgetLeft < 0 ? 'bad' : budgetLeft === 0 && settings.errorBudget > 0 ? 'warn' : ''} />
      <${StatCard} testid="rollout-failed" label="failed hosts" value=${count(failed)} tone=${failed ? 'bad' : ''} />
      <${StatCard} testid="rollout-host-total" label="hosts" value=${count(rollout.hosts.length)} />
    </div>
    <p class="hint" data-testid="rollout-settings">at most ${settings.maxInFlight} in flight · soak ${duration(settings.soakMs)} · promotion ${settings.promotion} · reboot ${settings.reboot.policy} · windows ${rollout.windows.join(', ') || 'any time'}${rollout.bakeUntil ? ` · baking until ${dateTime(rollout.bakeUntil)}` : ''}</p>
    <h2>Waves</h2>
    <table data-testid="rollout-waves">
      <thead><tr><th class="num">wave</th><th class="num">hosts</th><th>hosts by state</th></tr></thead>
      <tbody>${waves.map((wave) => html`<tr key=${wave.wave} data-testid=${`wave-${wave.wave}`} class=${wave.wave === rollout.currentWave ? 'current' : ''}>
        <td class="num">${wave.wave}</td><td class="num">${count(wave.hosts)}</td><td><${HostStateBar} counts=${wave.states} testid=${`wave-${wave.wave}-states`} /></td>
      </tr>`)}</tbody>
    </table>
    <h2>Hosts</h2>
    <${RolloutHosts} rolloutId=${rollout.id} ended=${ended} manual=${settings.strategy?.kind === 'manual'} hosts=${rollout.hosts} />
    <h2>Gates</h2>
    <${GateMeasurements} gates=${rollout.gates} measurements=${rollout.measurements} />
    <details class="snapshot">
      <summary>the snapshot: ${count(rollout.snapshot.length)} packages every host gets</summary>
      <p class="mono" data-testid="rollout-snapshot">${rollout.snapshot.map((target) => `${target.name}=${target.version}`).join(' ')}</p>
    </details>
    <h2>Timeline</h2>
    <${RolloutTimeline} events=${rollout.events} testid="rollout-timeline" />`;
}

/** How the rollout patches its hosts, in a line, the details after it; a manual window's checklist in full. */
function RolloutStrategy({ settings }) {
  const detail = strategyDetail(settings);
  const checklist = settings.strategy?.kind === 'manual' ? settings.strategy.checklist : undefined;
  return html`<p class="strategy" data-testid="rollout-strategy"><b data-testid="rollout-strategy-summary">${strategySummary(settings)}</b>${detail ? html` <small data-testid="rollout-strategy-detail">${detail}</small>` : null}</p>
    ${checklist ? html`<details class="checklist" data-testid="rollout-checklist">
      <summary>the checklist: ${checklist.length} steps, confirmed in order for each host</summary>
      <ol>${checklist.map((item, index) => html`<li key=${index}>${item}</li>`)}</ol>
    </details>` : null}`;
}

/** The actions the rollout's state allows; the service refuses the others anyway. */
function RolloutActions({ rollout, ended }) {
  if (ended) return null;
  const path = (action) => `/api/v1/rollouts/${rollout.id}/${action}`;
  const paused = rollout.state === 'paused';
  return html`<div class="operator-actions" data-testid="rollout-actions">
    ${paused && rollout.pauseReason === 'operator' ? null : html`<${OperatorAction} label="pause" path=${path('pause')} testid="pause" />`}
    ${(paused && rollout.pauseReason !== 'approval') || rollout.state === 'halted' ? html`<${OperatorAction} label="resume" path=${path('resume')} testid="resume" />` : null}
    ${paused && rollout.pauseReason === 'approval' ? html`<${OperatorAction} label=${`approve wave ${rollout.currentWave + 1}`} path=${path('approve')} testid="approve" />` : null}
    <${OperatorAction} label="abort" path=${path('abort')} testid="abort" danger=${true} />
  </div>`;
}
