/**
 * The rollout engine's vocabulary: a rollout (one bucket, one content snapshot, hosts in waves),
 * its hosts' states, and what the engine knows of each host from its check-ins. The state names
 * are a superset of GCP OS Config's patch states and brupop's shadow states
 * (../shared/research/rollouts.md, section c); `rollout-machine.ts` moves between them.
 *
 * Glossary: a host holds a *slot* (one of `maxInFlight`) from the moment it is notified until its
 * post-check and monitoring end; a failed host keeps it, so failures stop admission by themselves.
 * A slot is freed by health (success, a verified rollback) or by an operator, never by a timer.
 */

/**
 * The steps a host goes through, each one job with its own idempotency key. The first five are
 * every strategy's (in-place is only these); a rolling reboot adds the node's cordon, drain,
 * readiness wait and uncordon (run against the Kubernetes API), a replacement its provision and
 * retire hooks; `collect-facts` reads an agentless host again (after its reboot: reconnecting).
 */
export const HOST_STEPS = ['pre-check', 'upgrade', 'reboot', 'post-check', 'rollback', 'cordon', 'drain', 'await-ready', 'uncordon', 'collect-facts', 'provision', 'retire'] as const;
export type HostStep = (typeof HOST_STEPS)[number];

/** A policy command as a job runs it (durations in milliseconds). */
export interface JobCommand {
  name: string;
  command: string;
  timeoutMs: number;
  allowedExitCodes: number[];
}

export const HOST_STATES = [
  'pending', 'queued', 'waiting-for-window', 'deferred', 'notified', 'pre-check', 'downloading', 'applying',
  'rebooting', 'awaiting-return', 'post-check', 'monitoring', 'succeeded', 'succeeded-reboot-pending',
  'failed', 'timed-out', 'reboot-stuck', 'rolling-back', 'rolled-back', 'skipped', 'no-agent',
  // Rolling reboot (Kubernetes nodes), replace (stateless) and manual (physical) strategies.
  'cordoning', 'draining', 'awaiting-ready', 'uncordoning', 'provisioning', 'awaiting-replacement', 'retiring', 'awaiting-operator',
] as const;
export type HostState = (typeof HOST_STATES)[number];

export const ROLLOUT_STATES = ['created', 'waiting-for-window', 'running', 'baking', 'paused', 'halted', 'rolling-back', 'succeeded', 'completed-with-errors', 'canceled'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/** Why a rollout waits: the first three end on their own, the rest need a person. */
export const PAUSE_REASONS = ['window-closed', 'freeze', 'approval', 'operator', 'inconclusive-gate', 'gate-error', 'gate-failed', 'drain-stuck', 'window-missed'] as const;
export type PauseReason = (typeof PAUSE_REASONS)[number];

export const HALT_REASONS = ['gate-failed', 'budget-spent', 'stuck-host'] as const;
export type HaltReason = (typeof HALT_REASONS)[number];

/** Nothing more happens to a host in these states (until an operator retries it). */
export const TERMINAL_HOST_STATES: ReadonlySet<HostState> = new Set(['succeeded', 'succeeded-reboot-pending', 'failed', 'timed-out', 'reboot-stuck', 'rolled-back', 'skipped', 'no-agent']);
/** Count against the error budget. */
export const FAILED_HOST_STATES: ReadonlySet<HostState> = new Set(['failed', 'timed-out', 'reboot-stuck', 'rolling-back', 'rolled-back']);
/** An operator may retry a host that failed, was skipped or had no agent: it starts over with its next attempt. */
export function canRetry(state: HostState): boolean {
  return (FAILED_HOST_STATES.has(state) && state !== 'rolling-back') || state === 'no-agent' || state === 'skipped';
}

/** An operator may skip a host that is not in the middle of a step. */
export function canSkip(state: HostState): boolean {
  return state !== 'skipped' && (TERMINAL_HOST_STATES.has(state) || state === 'pending' || state === 'monitoring');
}

export const TERMINAL_ROLLOUT_STATES: ReadonlySet<RolloutState> = new Set(['succeeded', 'completed-with-errors', 'canceled']);

export interface PackageTarget {
  name: string;
  version: string;
}

/** How a bucket's hosts are patched (the policy's `strategy`, durations in milliseconds), frozen with the rollout. */
export type StrategySettings =
  | { kind: 'in-place' }
  | {
      kind: 'rolling-reboot';
      drain: { timeoutMs: number; stuckAfterMs: number; gracePeriodSeconds?: number | undefined; deleteEmptyDirData: boolean };
      /** The node's OS is updated by its agent, or by a hook where the server runs (image-based node OSes). */
      update: 'agent' | { hook: string };
    }
  | {
      kind: 'replace';
      image: { id: string; built: string };
      provisionHook: string;
      retireHook: string;
      /** The label a host's agent reports its image in. */
      imageFact: string;
      /** Hosts of the rollout that must stay serving (the share resolved). */
      minHealthy: number;
      warmupMs: number;
      enrollTimeoutMs: number;
    }
  | {
      kind: 'manual';
      noticeDays: number;
      /** What a person confirms, step by step, for each host. */
      checklist: string[];
      /** Teams told besides the owner (dependent services). */
      notifyTeams: string[];
    };

/** How a host is reached for its own steps (the policy's `executor`), frozen with the rollout. */
export type ExecutorSettings =
  | { kind: 'agent' }
  | { kind: 'ssh'; user: string; port: number; sudo: boolean; addressLabel?: string | undefined; trustOnFirstUse: boolean }
  | { kind: 'command-hook'; command: string; stepTimeoutMs: number };

/** Who runs a job: the host's agent (it pulls), or the server's job worker through an executor. */
export type JobExecutor = 'agent' | 'ssh' | 'command-hook' | 'kubernetes';

/** Who made a rollout: an operator, the policy's schedule, or an incident's emergency plan. */
export type RolloutOrigin = 'operator' | 'schedule' | 'emergency';

/** What an emergency rollout may skip, as a person approved; gates and error budgets are never among them. */
export const RELAXATIONS = ['windows', 'freezes', 'cooldowns'] as const;
export type Relaxation = (typeof RELAXATIONS)[number];

/** What a strategy remembers about a host between its steps (a rolling reboot: that it cordoned the node). */
export type HostMemo = Readonly<Record<string, string | number | boolean>>;

/** What a rollout was created with: frozen, so a policy change never alters a running rollout. */
export interface RolloutSettings {
  /** Absent in rollouts stored before strategies were frozen with them: in-place through the agent. */
  strategy?: StrategySettings;
  executor?: ExecutorSettings;
  /** Resolved counts (shares of the rollout's hosts, rounded up). */
  maxInFlight: number;
  errorBudget: number;
  soakMs: number;
  promotion: 'automatic' | 'approval';
  preChecks: JobCommand[];
  postChecks: JobCommand[];
  reboot: { policy: 'if-required' | 'always' | 'never'; timeoutMs: number; onTimeout: 'page' | 'halt' };
  rollback: { automatic: boolean; commands: JobCommand[]; timeoutMs: number };
  /** Time one host needs, for admission before the window's end minus its cutoff. */
  expectedHostMs: number;
  /** A host not seen for this long at admission has no agent to act: `no-agent`. */
  staleAfterMs: number;
}

export interface Rollout {
  id: number;
  bucket: string;
  team: string;
  state: RolloutState;
  pauseReason?: PauseReason | undefined;
  haltReason?: HaltReason | undefined;
  /** Words for the pause or halt: which gate, which host, who. */
  reason?: string | undefined;
  /** 1-based; 0 before the first admission. */
  currentWave: number;
  waveCount: number;
  /** While baking: when the soak of `currentWave` ends. */
  bakeUntil?: Date | undefined;
  snapshot: PackageTarget[];
  settings: RolloutSettings;
  createdAt: Date;
  /** The window occurrence it was made for (the schedule's; a manual window's planned date). */
  occurrenceStart?: Date | undefined;
  /** What a strategy remembers about the rollout between passes (a manual window: announced, reminded). */
  memo?: HostMemo | undefined;
}

/** The host as its last check-in described it. */
export interface HostFacts {
  lastSeenAt?: Date | undefined;
  /** When the server last stored its inventory (a check-in that carried packages). */
  inventoryAt?: Date | undefined;
  bootId?: string | undefined;
  runningKernel?: string | undefined;
  rebootRequired: boolean;
  /** Installed versions of the snapshot's packages (absent: not installed). */
  installed: Record<string, string>;
  /** The host's labels as its agent reports them (a replacement strategy reads the image from one). */
  labels?: Readonly<Record<string, string>> | undefined;
}

/** The host that replaces this one (replace strategy), as its own check-ins describe it. */
export interface ReplacementFacts {
  name: string;
  /** When it first checked in, and last. */
  enrolledAt?: Date | undefined;
  lastSeenAt?: Date | undefined;
  labels: Readonly<Record<string, string>>;
}

/** The job the host is running or last ran, with its result once reported. */
export interface HostJobState {
  key: string;
  step: HostStep;
  dispatchedAt: Date;
  deadline: Date;
  result?: { outcome: 'succeeded' | 'failed' | 'started'; error?: string | undefined; output?: string | undefined; exitCode?: number | undefined; replaced: Array<{ name: string; from?: string | undefined; to: string }>; details?: HostMemo | undefined; finishedAt: Date } | undefined;
}

export interface RolloutHost {
  name: string;
  wave: number;
  state: HostState;
  attempt: number;
  stateSince: Date;
  /** Until when the current state may last (a step's deadline, the reboot timeout). */
  deadline?: Date | undefined;
  slotHeld: boolean;
  lastError?: string | undefined;
  /** The versions this host's upgrade replaced: what a rollback reinstalls. */
  replaced: Array<{ name: string; from?: string | undefined; to: string }>;
  /** The boot id before the reboot step, and when the reboot was asked for. */
  bootIdBefore?: string | undefined;
  rebootRequestedAt?: Date | undefined;
  memo: HostMemo;
  /** Replace strategy: the new host named by the provision hook (`memo.replacement`), once known. */
  replacement?: ReplacementFacts | undefined;
  job?: HostJobState | undefined;
  facts: HostFacts;
}
