/**
 * The rollout state machine, pure: a rollout, its hosts and what the engine knows now (the clock,
 * whether a window admits hosts, the gates' verdicts) in; the transitions to write and the jobs to
 * dispatch out. The engine writes a pass's transitions in one transaction before any side effect,
 * so a pass repeated after a crash finds the work already recorded and decides the same again.
 *
 * The machine runs what every strategy shares — waves, disruption slots, the error budget, soak,
 * gates, promotion, windows and freezes — and asks the rollout's strategy (`strategies/`: in
 * place, rolling reboot) for each host's next step. Whether a step worked is decided from the
 * host's facts (its check-ins, or what its executor read), never from the host's word.
 */
import { BugError } from '../errors.js';
import { type EngineContext, hostTargets, type HostChange, move, type RolloutChange, type RolloutEvent, start } from './host-steps.js';
import type { HostMemo, Rollout, RolloutHost, PauseReason } from './rollout-model.js';
import { FAILED_HOST_STATES, TERMINAL_HOST_STATES, TERMINAL_ROLLOUT_STATES } from './rollout-model.js';
import { strategyFor } from './strategies/index.js';

export type { EngineContext, GateVerdict, HostChange, JobDraft, RolloutChange, RolloutEvent, RolloutEventKind } from './host-steps.js';
export { hostTargets } from './host-steps.js';

/**
 * The rollout's hosts a pass did not look at, counted: hosts in a terminal state that hold no slot
 * and are not reboot-stuck, and pending hosts beyond the ones admission can reach this pass.
 * Nothing a pass decides changes them, yet the error budget, a wave's completion and the
 * rollout's end count the whole rollout: they count these too. A store that reads every host
 * passes `NO_OTHER_HOSTS`.
 */
export interface OtherHosts {
  /** In a failed state (`FAILED_HOST_STATES`): they count against the budget. */
  failed: number;
  /** In `no-agent`: not patched when the rollout ends. */
  noAgent: number;
  /** Succeeded: a gate's rollback reaches them, so a pass with any here cannot decide one. */
  succeeded: number;
  /** Per wave, the hosts not yet in a terminal state (pending, or in a step): the wave is not done. */
  unfinishedByWave: ReadonlyMap<number, number>;
  /** Holding a disruption slot (in a step with nothing new, or failed): admission counts them. */
  slotsHeld: number;
  /** In a step with nothing new to act on (waiting for their agent): a rollout rolling back waits for them. */
  inFlight: number;
}

export const NO_OTHER_HOSTS: OtherHosts = { failed: 0, noAgent: 0, succeeded: 0, unfinishedByWave: new Map(), slotsHeld: 0, inFlight: 0 };

export interface Advance {
  rollout?: RolloutChange;
  hosts: HostChange[];
  events: RolloutEvent[];
  /** The rollout's memo as it is to be stored (a manual window: announced, reminded). */
  memo?: HostMemo;
}

/**
 * The next transition of one host already in the rollout's hands (notified or later), or none:
 * the rollout's strategy decides.
 *
 * @example advanceHost(rollout, host, context) // { name: 'db-1', from: 'notified', to: 'pre-check', job: { step: 'pre-check', … } }
 */
export function advanceHost(rollout: Rollout, host: RolloutHost, context: EngineContext): HostChange | undefined {
  return strategyFor(rollout).advanceHost(rollout, host, context);
}

/** Already what the rollout makes it: the strategy says, or the snapshot's versions are in place and no reboot is owed. */
function isCompliant(rollout: Rollout, host: RolloutHost): boolean {
  const strategy = strategyFor(rollout);
  if (strategy.isCompliant) return strategy.isCompliant(rollout, host);
  return hostTargets(rollout.snapshot, host.facts.installed).length === 0 && !(host.facts.rebootRequired && rollout.settings.reboot.policy !== 'never');
}

/** Hosts of the current wave that may start now: slots free, the window has room for one more host. */
function admit(rollout: Rollout, hosts: readonly RolloutHost[], others: OtherHosts, context: EngineContext, changes: HostChange[]): void {
  if (!context.admission.open) return;
  const { now } = context;
  const until = context.admission.until.getTime();
  if (now.getTime() + rollout.settings.expectedHostMs > until) return;
  let inFlight = hosts.filter((host) => host.slotHeld).length + others.slotsHeld;
  for (const host of hosts) {
    if (inFlight >= rollout.settings.maxInFlight) return;
    if (host.wave !== rollout.currentWave || host.state !== 'pending') continue;
    const seen = host.facts.lastSeenAt?.getTime();
    if (seen === undefined || now.getTime() - seen > rollout.settings.staleAfterMs) {
      changes.push(move(host, 'no-agent', now, {}, `its agent was last seen ${host.facts.lastSeenAt?.toISOString() ?? 'never'}`));
      continue;
    }
    if (isCompliant(rollout, host)) {
      changes.push(move(host, 'skipped', now, { lastError: 'already what this rollout makes it' }, 'compliant'));
      continue;
    }
    changes.push(move(host, 'notified', now, { slotHeld: true }));
    inFlight++;
  }
}

/** The hosts as they will be once `changes` are written. */
function applied(hosts: readonly RolloutHost[], changes: readonly HostChange[]): RolloutHost[] {
  const byName = new Map(changes.map((change) => [change.name, change]));
  return hosts.map((host) => {
    const change = byName.get(host.name);
    return change ? { ...host, ...change.patch, state: change.to } : host;
  });
}

/**
 * One scheduling pass over a rollout: host steps first (results, verifications, deadlines), then
 * the budget and gates, then the rollout's own state (waves, soak, promotion, windows), then
 * admission. `hosts` are in admission order: every host in flight, holding a slot or reboot-stuck,
 * and at least the pending hosts admission can reach; `others` counts the rest (`OtherHosts`).
 *
 * @example advanceRollout(rollout, hosts, { now, admission: { open: true, until }, gates: { state: 'passed' }, isKernelPackage }).hosts
 */
export function advanceRollout(rollout: Rollout, hosts: readonly RolloutHost[], context: EngineContext, others: OtherHosts = NO_OTHER_HOSTS): Advance {
  const { now } = context;
  const changes: HostChange[] = [];
  const events: RolloutEvent[] = [];
  // Hosts in the rollout's hands finish what they started whatever the rollout's state (even canceled).
  for (const host of hosts) {
    if (TERMINAL_HOST_STATES.has(host.state) || host.state === 'pending') continue;
    const change = advanceHost(rollout, host, context);
    if (!change) continue;
    changes.push(change);
    if (change.event) events.push({ ...change.event, host: host.name });
    else if (change.to === 'awaiting-return') events.push({ kind: 'host-silent', severity: 'info', host: host.name, expected: true, summary: `${host.name} is rebooting in rollout ${rollout.id} (${rollout.bucket}); silence until ${change.patch.deadline?.toISOString() ?? 'its reboot timeout'} is expected` });
    else if (change.to === 'reboot-stuck') events.push({ kind: 'reboot-stuck', severity: 'critical', host: host.name, summary: `${host.name} did not come back from its reboot in rollout ${rollout.id} (${rollout.bucket})` });
    else if (FAILED_HOST_STATES.has(change.to) && !FAILED_HOST_STATES.has(change.from)) events.push({ kind: 'host-failed', severity: 'error', host: host.name, summary: `${host.name} failed in rollout ${rollout.id} (${rollout.bucket}): ${change.patch.lastError ?? change.to}` });
    else if (change.to === 'failed' && change.from === 'rolling-back') events.push({ kind: 'host-failed', severity: 'critical', host: host.name, summary: `${host.name}: ${change.patch.lastError}` });
  }
  if (TERMINAL_ROLLOUT_STATES.has(rollout.state)) return { hosts: changes, events };
  const hostPause = changes.find((change) => change.pause)?.pause;
  // The strategy's own schedule of telling people (a manual window's announcement and reminder).
  const announced = strategyFor(rollout).announce?.(rollout, context);
  if (announced) events.push(...announced.events);
  const memo = announced ? { memo: announced.memo } : {};

  let next = applied(hosts, changes);
  let rolloutChange: RolloutChange | undefined;
  const set = (change: RolloutChange, event?: RolloutEvent) => {
    rolloutChange = change;
    if (event) events.push(event);
  };
  const state = () => rolloutChange?.state ?? rollout.state;
  const stopped = () => state() === 'halted' || state() === 'rolling-back' || (state() === 'paused' && !isAutomaticPause(rolloutChange?.pauseReason ?? rollout.pauseReason));

  // A rollout rolling back ends once every host it touched has finished.
  if (rollout.state === 'rolling-back') {
    if (others.inFlight === 0 && next.every((host) => TERMINAL_HOST_STATES.has(host.state) || host.state === 'pending')) {
      set({ state: 'completed-with-errors', reason: rollout.reason ? `rolled back: ${rollout.reason}` : 'rolled back' }, { kind: 'rollout-done', severity: 'warning', summary: `rollout ${rollout.id} (${rollout.bucket}) rolled back` });
    }
    return { ...(rolloutChange ? { rollout: rolloutChange } : {}), hosts: changes, events, ...memo };
  }

  // The budget counts the whole rollout; a stuck host halts at once when the policy says so.
  const failures = next.filter((host) => FAILED_HOST_STATES.has(host.state)).length + others.failed;
  if (!stopped()) {
    const stuck = next.find((host) => host.state === 'reboot-stuck');
    if (stuck && rollout.settings.reboot.onTimeout === 'halt') {
      set({ state: 'halted', haltReason: 'stuck-host', reason: `${stuck.name} did not come back from its reboot`, pauseReason: undefined }, { kind: 'rollout-halted', severity: 'critical', summary: `rollout ${rollout.id} (${rollout.bucket}) halted: ${stuck.name} is stuck in its reboot` });
    } else if (failures > rollout.settings.errorBudget) {
      set({ state: 'halted', haltReason: 'budget-spent', reason: `${failures} failed host${failures === 1 ? '' : 's'}, budget ${rollout.settings.errorBudget}`, pauseReason: undefined }, { kind: 'rollout-halted', severity: 'critical', summary: `rollout ${rollout.id} (${rollout.bucket}) halted: error budget spent (${failures} failed, budget ${rollout.settings.errorBudget})` });
    }
  }

  // A host's trouble that needs a person (a drain budgets keep blocked) pauses the rollout and pages.
  if (!stopped() && hostPause) {
    set({ state: 'paused', pauseReason: hostPause.reason, reason: hostPause.detail }, { kind: hostPause.kind, severity: 'critical', summary: `rollout ${rollout.id} (${rollout.bucket}) paused: ${hostPause.detail}` });
  }

  // Gates: a failure acts as the gate says; inconclusive or an error pauses with the reason kept.
  const gate = context.gates;
  if (!stopped() && (gate.state === 'failed' || gate.state === 'inconclusive' || gate.state === 'error')) {
    const detail = `gate ${gate.gate ?? '?'} ${gate.state}${gate.detail ? `: ${gate.detail}` : ''}`;
    if (gate.state === 'failed' && gate.onFailure === 'rollback') {
      if (others.succeeded > 0) throw new BugError(`rollout ${rollout.id}: a gate's rollback needs every succeeded host, ${others.succeeded} were not read`);
      set({ state: 'rolling-back', reason: detail, pauseReason: undefined }, { kind: 'gate-failed', severity: 'critical', summary: `rollout ${rollout.id} (${rollout.bucket}): ${detail}; rolling back` });
      for (const host of next) {
        if ((host.state === 'succeeded' || host.state === 'succeeded-reboot-pending') && host.replaced.length > 0) changes.push(start(rollout, host, 'rollback', now, { slotHeld: true, lastError: detail }, detail));
      }
      next = applied(hosts, changes);
    } else if (gate.state === 'failed' && gate.onFailure !== 'pause') {
      set({ state: 'halted', haltReason: 'gate-failed', reason: detail, pauseReason: undefined }, { kind: 'gate-failed', severity: 'critical', summary: `rollout ${rollout.id} (${rollout.bucket}) halted: ${detail}` });
    } else {
      const pauseReason: PauseReason = gate.state === 'failed' ? 'gate-failed' : gate.state === 'inconclusive' ? 'inconclusive-gate' : 'gate-error';
      set({ state: 'paused', pauseReason, reason: detail }, { kind: gate.state === 'inconclusive' ? 'gate-inconclusive' : 'gate-failed', severity: 'warning', summary: `rollout ${rollout.id} (${rollout.bucket}) paused: ${detail}` });
    }
  }

  if (!stopped()) advanceWaves(rollout, next, others, context, set);
  if (state() === 'running') {
    const waveNow = { ...rollout, currentWave: rolloutChange?.currentWave ?? rollout.currentWave };
    admit(waveNow, next, others, context, changes);
  }
  return { ...(rolloutChange ? { rollout: rolloutChange } : {}), hosts: changes, events, ...memo };
}

/** Window and freeze pauses end by themselves; the others wait for a person. */
export function isAutomaticPause(reason: PauseReason | undefined): boolean {
  return reason === 'window-closed' || reason === 'freeze';
}

/** Admission as the waves see it: a window with no room left for one more host counts as closed. */
function admissionWithRoom(rollout: Rollout, context: EngineContext): EngineContext['admission'] {
  const { admission, now } = context;
  if (!admission.open || now.getTime() + rollout.settings.expectedHostMs <= admission.until.getTime()) return admission;
  return { open: false, reason: 'window-closed', detail: `a host needs ${Math.round(rollout.settings.expectedHostMs / 60_000)} min and admission ends at ${admission.until.toISOString()}` };
}

function advanceWaves(rollout: Rollout, hosts: readonly RolloutHost[], others: OtherHosts, context: EngineContext, set: (change: RolloutChange, event?: RolloutEvent) => void): void {
  const { now } = context;
  const admission = admissionWithRoom(rollout, context);
  const wave = rollout.currentWave;
  const closed = (): RolloutChange => ({ state: admission.open ? 'running' : 'paused', pauseReason: admission.open ? undefined : admission.reason, reason: admission.open ? undefined : admission.detail });
  switch (rollout.state) {
    case 'created':
    case 'waiting-for-window':
      if (admission.open) set({ state: 'running', currentWave: Math.max(1, wave), pauseReason: undefined, reason: undefined }, { kind: 'rollout-started', severity: 'info', summary: `rollout ${rollout.id} (${rollout.bucket}) started` });
      else if (rollout.state === 'created') set({ state: 'waiting-for-window', reason: admission.detail });
      return;
    case 'paused':
      // Only automatic pauses reach here: resume when the window opens again or the freeze ends.
      if (admission.open) set({ state: 'running', pauseReason: undefined, reason: undefined }, { kind: 'rollout-resumed', severity: 'info', summary: `rollout ${rollout.id} (${rollout.bucket}) resumed: admission open` });
      else if (admission.reason !== rollout.pauseReason) set(closed());
      return;
    case 'running': {
      const waveHosts = hosts.filter((host) => host.wave === wave);
      if (waveHosts.every((host) => TERMINAL_HOST_STATES.has(host.state)) && (others.unfinishedByWave.get(wave) ?? 0) === 0) {
        if (wave >= rollout.waveCount) {
          const failed = hosts.filter((host) => FAILED_HOST_STATES.has(host.state) || host.state === 'no-agent').length + others.failed + others.noAgent;
          set({ state: failed > 0 ? 'completed-with-errors' : 'succeeded', reason: failed > 0 ? `${failed} host${failed === 1 ? '' : 's'} not patched` : undefined }, { kind: 'rollout-done', severity: failed > 0 ? 'warning' : 'info', summary: `rollout ${rollout.id} (${rollout.bucket}) ${failed > 0 ? `completed with ${failed} host${failed === 1 ? '' : 's'} not patched` : 'succeeded'}` });
        } else {
          set({ state: 'baking', bakeUntil: new Date(now.getTime() + rollout.settings.soakMs) });
        }
        return;
      }
      if (!admission.open && !hosts.some((host) => host.slotHeld) && others.slotsHeld === 0) set(closed(), { kind: 'rollout-paused', severity: 'info', summary: `rollout ${rollout.id} (${rollout.bucket}) paused: ${admission.detail}` });
      return;
    }
    case 'baking': {
      if (rollout.bakeUntil && now.getTime() < rollout.bakeUntil.getTime()) return;
      if (context.gates.state === 'running') return;
      if (rollout.settings.promotion === 'approval') {
        set({ state: 'paused', pauseReason: 'approval', reason: `wave ${wave + 1} of ${rollout.waveCount} waits for approval` }, { kind: 'rollout-paused', severity: 'info', summary: `rollout ${rollout.id} (${rollout.bucket}): wave ${wave} done; wave ${wave + 1} waits for approval` });
        return;
      }
      set({ state: 'running', currentWave: wave + 1, bakeUntil: undefined }, { kind: 'wave-started', severity: 'info', summary: `rollout ${rollout.id} (${rollout.bucket}): wave ${wave + 1} of ${rollout.waveCount}` });
      return;
    }
    default:
      return;
  }
}
