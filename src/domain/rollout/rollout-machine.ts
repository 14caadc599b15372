/**
 * The rollout state machine, pure: a rollout, its hosts and what the engine knows now (the clock,
 * whether a window admits hosts, the gates' verdicts) in; the transitions to write and the jobs to
 * dispatch out. The engine writes a pass's transitions in one transaction before any side effect,
 * so a pass repeated after a crash finds the work already recorded and decides the same again.
 *
 * In-place strategy, per host: notified → pre-check → applying (upgrade) → [rebooting →
 * awaiting-return] → post-check → monitoring → succeeded. Each step is a hard gate: a failure
 * before the upgrade changes nothing; a failure after it rolls the host back (when the policy
 * says so) and counts against the error budget. Whether a reboot worked is decided here, from
 * the host's check-ins (a new boot id, a check-in after the reboot was asked for, the target
 * versions in place, no reboot still required), never from the agent's word.
 */
import { BugError } from '../errors.js';
import type { HostStep, JobCommand, PackageTarget, Rollout, RolloutHost, RolloutState, HostState, PauseReason, HaltReason } from './rollout-model.js';
import { FAILED_HOST_STATES, TERMINAL_HOST_STATES, TERMINAL_ROLLOUT_STATES } from './rollout-model.js';

/** A gate's verdict as the engine sees it now (Argo semantics: an error or no data never passes). */
export interface GateVerdict {
  state: 'passed' | 'running' | 'failed' | 'inconclusive' | 'error';
  gate?: string;
  onFailure?: 'halt' | 'rollback' | 'pause';
  detail?: string;
}

export interface EngineContext {
  now: Date;
  /** Whether hosts may be admitted now, and until when (the window's end minus its cutoff, or a freeze's start). */
  admission: { open: true; until: Date } | { open: false; reason: 'window-closed' | 'freeze'; detail: string };
  /** The rollout's post-wave and continuous gates. */
  gates: GateVerdict;
  /** Post-host gates of the hosts in monitoring; a host without an entry passes. */
  hostGates?: ReadonlyMap<string, GateVerdict>;
  /** Kernel packages are recognised by name (the domain's kernel rules for the host's scheme). */
  isKernelPackage: (name: string) => boolean;
}

export interface JobDraft {
  step: HostStep;
  commands: JobCommand[];
  packages: PackageTarget[];
  previous: PackageTarget[];
  deadline: Date;
}

export interface HostChange {
  name: string;
  from: HostState;
  to: HostState;
  /** Fields written with the transition. */
  patch: Partial<Omit<RolloutHost, 'name' | 'facts' | 'job'>>;
  /** A job to dispatch with the transition (its key: rollout, host, step, attempt). */
  job?: JobDraft;
  /** Why, in words (the step's error, the verification that failed). */
  note?: string;
}

export type RolloutEventKind = 'rollout-started' | 'rollout-paused' | 'rollout-resumed' | 'rollout-halted' | 'rollout-done' | 'wave-started' | 'host-failed' | 'host-silent' | 'reboot-stuck' | 'gate-failed' | 'gate-inconclusive';

export interface RolloutEvent {
  kind: RolloutEventKind;
  severity: 'critical' | 'error' | 'warning' | 'info';
  host?: string;
  summary: string;
  /** A signal the plan expects (a host silent while it reboots): recorded, not sent. */
  expected?: boolean;
}

export interface RolloutChange {
  state: RolloutState;
  pauseReason?: PauseReason | undefined;
  haltReason?: HaltReason | undefined;
  reason?: string | undefined;
  currentWave?: number;
  bakeUntil?: Date | undefined;
}

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
}

/** Time for a step's job when the policy gives none: upgrades download; a reboot job only has to start. */
const UPGRADE_TIMEOUT_MS = 30 * 60_000;
const REBOOT_START_TIMEOUT_MS = 5 * 60_000;
const CHECK_SLACK_MS = 60_000;

/** The snapshot's packages this host has at another version: only installed packages move, none is added. */
export function hostTargets(snapshot: readonly PackageTarget[], installed: Readonly<Record<string, string>>): PackageTarget[] {
  return snapshot.filter((target) => installed[target.name] !== undefined && installed[target.name] !== target.version);
}

const sumTimeouts = (commands: readonly JobCommand[]) => commands.reduce((sum, command) => sum + command.timeoutMs, 0) + CHECK_SLACK_MS;

function jobFor(rollout: Rollout, host: RolloutHost, step: HostStep, now: Date): JobDraft {
  const { settings } = rollout;
  const at = (ms: number) => new Date(now.getTime() + ms);
  switch (step) {
    case 'pre-check':
      return { step, commands: settings.preChecks, packages: [], previous: [], deadline: at(sumTimeouts(settings.preChecks)) };
    case 'post-check':
      return { step, commands: settings.postChecks, packages: [], previous: [], deadline: at(sumTimeouts(settings.postChecks)) };
    case 'upgrade':
      return { step, commands: [], packages: hostTargets(rollout.snapshot, host.facts.installed), previous: [], deadline: at(UPGRADE_TIMEOUT_MS) };
    case 'reboot':
      return { step, commands: [], packages: [], previous: [], deadline: at(REBOOT_START_TIMEOUT_MS) };
    case 'rollback':
      return {
        step,
        commands: settings.rollback.commands,
        packages: [],
        previous: host.replaced.flatMap((change) => (change.from !== undefined ? [{ name: change.name, version: change.from }] : [])),
        deadline: at(settings.rollback.timeoutMs),
      };
    default:
      throw new BugError(`the in-place strategy has no ${step} step`);
  }
}

const STATE_OF_STEP: Record<HostStep, HostState> = {
  'pre-check': 'pre-check', upgrade: 'applying', reboot: 'rebooting', 'post-check': 'post-check', rollback: 'rolling-back',
  cordon: 'cordoning', drain: 'draining', 'await-ready': 'awaiting-ready', uncordon: 'uncordoning', 'collect-facts': 'awaiting-return', provision: 'provisioning', retire: 'retiring',
};

function start(rollout: Rollout, host: RolloutHost, step: HostStep, now: Date, patch: HostChange['patch'] = {}, note?: string): HostChange {
  const job = jobFor(rollout, host, step, now);
  return { name: host.name, from: host.state, to: STATE_OF_STEP[step], patch: { ...patch, stateSince: now, deadline: job.deadline }, job, ...(note ? { note } : {}) };
}

function move(host: RolloutHost, to: HostState, now: Date, patch: HostChange['patch'] = {}, note?: string): HostChange {
  return { name: host.name, from: host.state, to, patch: { deadline: undefined, ...patch, stateSince: now }, ...(note ? { note } : {}) };
}

/** Installed versions that differ from what they should be, in words; undefined when all match. */
function versionMismatch(expected: readonly PackageTarget[], installed: Readonly<Record<string, string>>): string | undefined {
  const wrong = expected.filter((target) => installed[target.name] !== target.version);
  return wrong.length === 0 ? undefined : wrong.map((target) => `${target.name} is ${installed[target.name] ?? 'not installed'}, expected ${target.version}`).join('; ');
}

/** The upgrade's targets for this host, as its job carried them. */
function upgradedTargets(host: RolloutHost): PackageTarget[] {
  return host.replaced.map((change) => ({ name: change.name, version: change.to }));
}

/** After the upgrade (and the reboot, if any): post-check, or straight to monitoring. */
function afterUpgrade(rollout: Rollout, host: RolloutHost, now: Date, patch: HostChange['patch'] = {}): HostChange {
  return rollout.settings.postChecks.length > 0 ? start(rollout, host, 'post-check', now, patch) : move(host, 'monitoring', now, patch);
}

/** A failed step: rolled back when something changed and the policy rolls back, failed otherwise. */
function fail(rollout: Rollout, host: RolloutHost, now: Date, error: string, replaced = host.replaced): HostChange {
  const { rollback } = rollout.settings;
  const somethingChanged = replaced.length > 0;
  if (rollback.automatic && somethingChanged) return start(rollout, { ...host, replaced }, 'rollback', now, { lastError: error, replaced }, error);
  return move(host, 'failed', now, { lastError: error, replaced }, error);
}

function needsReboot(rollout: Rollout, host: RolloutHost, context: EngineContext): boolean {
  const { policy } = rollout.settings.reboot;
  if (policy === 'never') return false;
  if (policy === 'always') return true;
  return host.facts.rebootRequired || host.replaced.some((change) => context.isKernelPackage(change.name));
}

/**
 * The next transition of one host already in the rollout's hands (notified or later), or none.
 *
 * @example advanceHost(rollout, host, context) // { name: 'db-1', from: 'notified', to: 'pre-check', job: { step: 'pre-check', … } }
 */
export function advanceHost(rollout: Rollout, host: RolloutHost, context: EngineContext): HostChange | undefined {
  const { now } = context;
  const result = host.job?.result;
  const overdue = host.deadline !== undefined && now.getTime() > host.deadline.getTime();
  switch (host.state) {
    case 'notified':
      return rollout.settings.preChecks.length > 0 ? start(rollout, host, 'pre-check', now) : start(rollout, host, 'upgrade', now);
    case 'pre-check':
      if (result?.outcome === 'succeeded') return start(rollout, host, 'upgrade', now);
      // Nothing was changed yet: failed, never rolled back.
      if (result) return move(host, 'failed', now, { lastError: `pre-check failed: ${result.error ?? `exit ${result.exitCode}`}` }, 'pre-check failed');
      return overdue ? move(host, 'timed-out', now, { lastError: 'pre-check did not report before its deadline' }) : undefined;
    case 'applying': {
      if (result?.outcome === 'failed') return fail(rollout, host, now, `upgrade failed: ${result.error ?? `exit ${result.exitCode}`}`, result.replaced);
      if (result) {
        const replaced = result.replaced;
        const upgraded = { ...host, replaced };
        // The versions are judged on the host's check-ins, not on the agent's report: until one
        // shows the targets (or the step's deadline passes) the host stays where it is.
        const mismatch = versionMismatch(upgradedTargets(upgraded), host.facts.installed);
        if (mismatch) return overdue ? fail(rollout, upgraded, now, `after the upgrade ${mismatch}`, replaced) : undefined;
        if (needsReboot(rollout, upgraded, context)) {
          return start(rollout, upgraded, 'reboot', now, { replaced, bootIdBefore: host.facts.bootId, rebootRequestedAt: now });
        }
        return afterUpgrade(rollout, upgraded, now, { replaced });
      }
      return overdue ? move(host, 'timed-out', now, { lastError: 'the upgrade did not report before its deadline' }) : undefined;
    }
    case 'rebooting':
      if (result?.outcome === 'failed') return fail(rollout, host, now, `reboot failed: ${result.error ?? `exit ${result.exitCode}`}`);
      // The agent said it is going down (or the host is already back): wait for it to return.
      if (result || returned(host)) return move(host, 'awaiting-return', now, { deadline: new Date(now.getTime() + rollout.settings.reboot.timeoutMs) });
      return overdue ? move(host, 'timed-out', now, { lastError: 'the reboot did not start before its deadline' }) : undefined;
    case 'awaiting-return': {
      if (returned(host)) {
        const mismatch = versionMismatch(upgradedTargets(host), host.facts.installed);
        if (mismatch) return fail(rollout, host, now, `after the reboot ${mismatch}`);
        if (host.facts.rebootRequired) return fail(rollout, host, now, 'the host came back but still requires a reboot (the new kernel or libraries are not running)');
        return afterUpgrade(rollout, host, now);
      }
      if (!overdue) return undefined;
      return move(host, 'reboot-stuck', now, { lastError: `no check-in with a new boot id within ${Math.round(rollout.settings.reboot.timeoutMs / 1000)} s of the reboot` });
    }
    case 'post-check':
      if (result?.outcome === 'succeeded') return move(host, 'monitoring', now);
      if (result) return fail(rollout, host, now, `post-check failed: ${result.error ?? `exit ${result.exitCode}`}`);
      return overdue ? fail(rollout, host, now, 'the post-check did not report before its deadline') : undefined;
    case 'monitoring': {
      const gate = context.hostGates?.get(host.name) ?? { state: 'passed' };
      if (gate.state === 'passed') {
        const rebootPending = host.facts.rebootRequired && rollout.settings.reboot.policy === 'never';
        return move(host, rebootPending ? 'succeeded-reboot-pending' : 'succeeded', now, { slotHeld: false });
      }
      if (gate.state === 'running') return undefined;
      return fail(rollout, host, now, `gate ${gate.gate ?? ''} ${gate.state}${gate.detail ? `: ${gate.detail}` : ''}`.replace('  ', ' '));
    }
    case 'rolling-back': {
      if (result?.outcome === 'failed') return move(host, 'failed', now, { lastError: `rollback failed: ${result.error ?? `exit ${result.exitCode}`}` }, 'rollback failed');
      if (result) {
        // A rollback command (a snapshot restore) restores what it restores; reinstalled versions are checked.
        const restored = rollout.settings.rollback.commands.length > 0 ? undefined : versionMismatch(host.replaced.flatMap((change) => (change.from ? [{ name: change.name, version: change.from }] : [])), host.facts.installed);
        if (restored) return overdue ? move(host, 'failed', now, { lastError: `rollback incomplete: ${restored}` }) : undefined;
        return move(host, 'rolled-back', now, { slotHeld: false });
      }
      return overdue ? move(host, 'failed', now, { lastError: 'the rollback did not report before its deadline' }) : undefined;
    }
    default:
      return undefined;
  }
}

/** Back from the reboot: a check-in with a boot id other than the one before it (only a boot changes it). */
function returned(host: RolloutHost): boolean {
  return host.facts.bootId !== undefined && host.rebootRequestedAt !== undefined && host.facts.bootId !== host.bootIdBefore;
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
    if (hostTargets(rollout.snapshot, host.facts.installed).length === 0 && !(host.facts.rebootRequired && rollout.settings.reboot.policy !== 'never')) {
      changes.push(move(host, 'skipped', now, { lastError: 'already at the snapshot\'s versions' }, 'compliant'));
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
    if (change.to === 'awaiting-return') events.push({ kind: 'host-silent', severity: 'info', host: host.name, expected: true, summary: `${host.name} is rebooting in rollout ${rollout.id} (${rollout.bucket}); silence until ${change.patch.deadline?.toISOString() ?? 'its reboot timeout'} is expected` });
    else if (change.to === 'reboot-stuck') events.push({ kind: 'reboot-stuck', severity: 'critical', host: host.name, summary: `${host.name} did not come back from its reboot in rollout ${rollout.id} (${rollout.bucket})` });
    else if (FAILED_HOST_STATES.has(change.to) && !FAILED_HOST_STATES.has(change.from)) events.push({ kind: 'host-failed', severity: 'error', host: host.name, summary: `${host.name} failed in rollout ${rollout.id} (${rollout.bucket}): ${change.patch.lastError ?? change.to}` });
    else if (change.to === 'failed' && change.from === 'rolling-back') events.push({ kind: 'host-failed', severity: 'critical', host: host.name, summary: `${host.name}: ${change.patch.lastError}` });
  }
  if (TERMINAL_ROLLOUT_STATES.has(rollout.state)) return { hosts: changes, events };

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
    return { ...(rolloutChange ? { rollout: rolloutChange } : {}), hosts: changes, events };
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
  return { ...(rolloutChange ? { rollout: rolloutChange } : {}), hosts: changes, events };
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
