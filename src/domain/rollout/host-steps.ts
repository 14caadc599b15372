/**
 * What every strategy is made of: the engine's view of now (`EngineContext`), a host's transition
 * (`HostChange`, with the job it dispatches), and the steps all strategies share — the policy's
 * checks, the exact upgrade, the reboot the server verifies, the rollback — with the rules that
 * judge them. A strategy (`strategies/`) orders these steps and adds its own (a node's cordon and
 * drain); the rollout machine (`rollout-machine.ts`) runs waves, slots, budget and gates around it.
 */
import { BugError } from '../errors.js';
import type { ExecutorSettings, HaltReason, HostMemo, HostState, HostStep, JobCommand, JobExecutor, PackageTarget, PauseReason, Rollout, RolloutHost, RolloutState, StrategySettings } from './rollout-model.js';

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
  /** Who runs it: the host's agent, or the server's job worker through this executor. */
  executor: JobExecutor;
  commands: JobCommand[];
  packages: PackageTarget[];
  previous: PackageTarget[];
  deadline: Date;
  drain?: { stuckAfterMs: number; gracePeriodSeconds?: number; deleteEmptyDirData: boolean };
  /** provision and retire: the baseline image, and the replacement once named. */
  image?: string;
  replacement?: string;
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
  /** The host's trouble needs a person: the rollout pauses (a drain PodDisruptionBudgets keep blocked). */
  pause?: { reason: PauseReason; kind: RolloutEventKind; detail: string };
  /** The event this transition raises, in place of the usual one (a manual window missed pages its owner). */
  event?: Omit<RolloutEvent, 'host'>;
}

export type RolloutEventKind = 'rollout-started' | 'rollout-paused' | 'rollout-resumed' | 'rollout-halted' | 'rollout-done' | 'wave-started' | 'host-failed' | 'host-silent' | 'reboot-stuck' | 'gate-failed' | 'gate-inconclusive' | 'drain-stuck'
  | 'window-announced' | 'window-reminder' | 'window-missed';

export interface RolloutEvent {
  kind: RolloutEventKind;
  severity: 'critical' | 'error' | 'warning' | 'info';
  host?: string;
  /** Whom it concerns when not the rollout's owner (a manual window's dependent teams). */
  team?: string;
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

/** A strategy: the order of a host's steps, from its admission (`notified`) to a terminal state. */
export interface Strategy {
  readonly kind: StrategySettings['kind'];
  /** The next transition of one host already in the rollout's hands (notified or later), or none. */
  advanceHost(rollout: Rollout, host: RolloutHost, context: EngineContext): HostChange | undefined;
  /** Whether a pending host already is what the rollout makes it (then it is skipped); default: the snapshot's versions in place. */
  isCompliant?(rollout: Rollout, host: RolloutHost): boolean;
  /** What the rollout tells people on its own schedule (a manual window's announcement and reminder), with the memo that keeps it once. */
  announce?(rollout: Rollout, context: EngineContext): { events: RolloutEvent[]; memo: HostMemo } | undefined;
}

/** Time for a step's job when the policy gives none: upgrades download; a reboot job only has to start. */
const UPGRADE_TIMEOUT_MS = 30 * 60_000;
const REBOOT_START_TIMEOUT_MS = 5 * 60_000;
const CHECK_SLACK_MS = 60_000;

export const strategyOf = (rollout: Rollout): StrategySettings => rollout.settings.strategy ?? { kind: 'in-place' };
export const executorOf = (rollout: Rollout): ExecutorSettings => rollout.settings.executor ?? { kind: 'agent' };
/**
 * Hosts reached over SSH have no agent to check in: their executor reads their facts after each
 * step, and again after a reboot until they answer. Agent and command-hook hosts are judged from
 * their agents' check-ins.
 */
export const executorReadsFacts = (rollout: Rollout): boolean => executorOf(rollout).kind === 'ssh';

/** The snapshot's packages this host has at another version: only installed packages move, none is added. */
export function hostTargets(snapshot: readonly PackageTarget[], installed: Readonly<Record<string, string>>): PackageTarget[] {
  return snapshot.filter((target) => installed[target.name] !== undefined && installed[target.name] !== target.version);
}

const sumTimeouts = (commands: readonly JobCommand[]) => commands.reduce((sum, command) => sum + command.timeoutMs, 0) + CHECK_SLACK_MS;

/** The job of one of the shared steps, run by the host's own executor. */
function hostJob(rollout: Rollout, host: RolloutHost, step: HostStep, now: Date): JobDraft {
  const { settings } = rollout;
  const executor = executorOf(rollout);
  const at = (ms: number) => new Date(now.getTime() + ms);
  // A hook's steps are bounded by its own step timeout as well.
  const bounded = (ms: number) => at(executor.kind === 'command-hook' ? Math.min(ms, executor.stepTimeoutMs) : ms);
  const base = { step, executor: executor.kind, commands: [] as JobCommand[], packages: [] as PackageTarget[], previous: [] as PackageTarget[] };
  switch (step) {
    case 'pre-check':
      return { ...base, commands: settings.preChecks, deadline: bounded(sumTimeouts(settings.preChecks)) };
    case 'post-check':
      return { ...base, commands: settings.postChecks, deadline: bounded(sumTimeouts(settings.postChecks)) };
    case 'upgrade':
      return { ...base, ...nodeUpdateExecutor(rollout), packages: hostTargets(rollout.snapshot, host.facts.installed), deadline: bounded(UPGRADE_TIMEOUT_MS) };
    case 'reboot':
      return { ...base, ...nodeUpdateExecutor(rollout), deadline: bounded(REBOOT_START_TIMEOUT_MS) };
    case 'collect-facts':
      // Until the reboot's timeout: reading an agentless host again is how its return is seen.
      return { ...base, deadline: at(settings.reboot.timeoutMs) };
    case 'rollback':
      return {
        ...base,
        commands: settings.rollback.commands,
        previous: host.replaced.flatMap((change) => (change.from !== undefined ? [{ name: change.name, version: change.from }] : [])),
        deadline: bounded(settings.rollback.timeoutMs),
      };
    default:
      throw new BugError(`${step} is not one of the steps every strategy shares`);
  }
}

/** A rolling reboot may update the node's OS through a hook (image-based OSes) instead of its own executor. */
function nodeUpdateExecutor(rollout: Rollout): Pick<JobDraft, 'executor'> | Record<string, never> {
  const strategy = strategyOf(rollout);
  return strategy.kind === 'rolling-reboot' && strategy.update !== 'agent' ? { executor: 'command-hook' } : {};
}

const STATE_OF_STEP: Record<HostStep, HostState> = {
  'pre-check': 'pre-check', upgrade: 'applying', reboot: 'rebooting', 'post-check': 'post-check', rollback: 'rolling-back',
  cordon: 'cordoning', drain: 'draining', 'await-ready': 'awaiting-ready', uncordon: 'uncordoning', 'collect-facts': 'awaiting-return', provision: 'provisioning', retire: 'retiring',
};

/** Starts `job` (a strategy's own step) and moves the host to the step's state. */
export function startJob(host: RolloutHost, job: JobDraft, now: Date, patch: HostChange['patch'] = {}, note?: string): HostChange {
  return { name: host.name, from: host.state, to: STATE_OF_STEP[job.step], patch: { ...patch, stateSince: now, deadline: job.deadline }, job, ...(note ? { note } : {}) };
}

/** Starts one of the shared steps on the host's own executor. */
export function start(rollout: Rollout, host: RolloutHost, step: HostStep, now: Date, patch: HostChange['patch'] = {}, note?: string): HostChange {
  return startJob(host, hostJob(rollout, host, step, now), now, patch, note);
}

export function move(host: RolloutHost, to: HostState, now: Date, patch: HostChange['patch'] = {}, note?: string): HostChange {
  return { name: host.name, from: host.state, to, patch: { deadline: undefined, ...patch, stateSince: now }, ...(note ? { note } : {}) };
}

/** Installed versions that differ from what they should be, in words; undefined when all match. */
export function versionMismatch(expected: readonly PackageTarget[], installed: Readonly<Record<string, string>>): string | undefined {
  const wrong = expected.filter((target) => installed[target.name] !== target.version);
  return wrong.length === 0 ? undefined : wrong.map((target) => `${target.name} is ${installed[target.name] ?? 'not installed'}, expected ${target.version}`).join('; ');
}

/** The upgrade's targets for this host, as its job carried them. */
export function upgradedTargets(host: RolloutHost): PackageTarget[] {
  return host.replaced.map((change) => ({ name: change.name, version: change.to }));
}

/** A failed step: rolled back when something changed and the policy rolls back, failed otherwise. */
export function fail(rollout: Rollout, host: RolloutHost, now: Date, error: string, replaced = host.replaced): HostChange {
  const { rollback } = rollout.settings;
  const somethingChanged = replaced.length > 0;
  if (rollback.automatic && somethingChanged) return start(rollout, { ...host, replaced }, 'rollback', now, { lastError: error, replaced }, error);
  return move(host, 'failed', now, { lastError: error, replaced }, error);
}

export function needsReboot(rollout: Rollout, host: RolloutHost, context: EngineContext): boolean {
  const { policy } = rollout.settings.reboot;
  if (policy === 'never') return false;
  if (policy === 'always') return true;
  return host.facts.rebootRequired || host.replaced.some((change) => context.isKernelPackage(change.name));
}

/** Back from the reboot: a check-in with a boot id other than the one before it (only a boot changes it). */
export function returned(host: RolloutHost): boolean {
  return host.facts.bootId !== undefined && host.rebootRequestedAt !== undefined && host.facts.bootId !== host.bootIdBefore;
}

/** A failed job's reason in words. */
export const failureOf = (result: NonNullable<RolloutHost['job']>['result']): string => result?.error ?? `exit ${result?.exitCode}`;
