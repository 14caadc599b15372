/**
 * The planner's vocabulary: what it is given (hosts with their open findings and pending updates,
 * the policy, a clock) and what it answers — for every host the next patch slot and why not when
 * there is none, for every finding its SLA due date and forecast fix, per bucket and team the work
 * and the predicted breaches, and the planned rollouts the rollout engine executes.
 *
 * Glossary: a *slot* is a host's place in one window occurrence (which wave, when it is expected to
 * start and finish); *installed* is when the fixed package lands on disk, *live* when the host runs
 * it (after the reboot a kernel or a pending-reboot fix needs).
 */
import type { Severity } from '../types.js';

export interface PlanFinding {
  advisoryId: string;
  severity: Severity;
  /** The package the fix is for, and its ecosystem (which orders the versions). */
  packageName: string;
  ecosystem: string;
  installedVersion: string;
  fixedVersion?: string;
  /** `pending-reboot`: the fix is installed, the host runs the old one. */
  state: 'vulnerable' | 'pending-reboot';
  firstSeenAt: Date;
  published?: Date;
  knownExploited: boolean;
  /** CISA KEV's due date for the CVE, when it is listed. */
  kevDueDate?: Date;
  epss?: number;
  /** The fix is a kernel (or needs a reboot to be live for another reason). */
  needsReboot: boolean;
}

export interface PlanHost {
  name: string;
  bucket: string;
  team: string;
  labels: Record<string, string>;
  lastSeenAt?: Date;
  rebootRequired: boolean;
  findings: PlanFinding[];
  /** Upgrades the package manager offers, with the fleet's first sight of each candidate. */
  availableUpdates: Array<{ name: string; ecosystem: string; installedVersion?: string; candidateVersion: string; availableSince: Date }>;
  /** Installed versions of the packages baselines name (for drift); optional. */
  baselinePackages?: Array<{ name: string; ecosystem: string; version: string }>;
}

export type NotScheduledReason = 'freeze' | 'no-window' | 'awaiting-notice' | 'stale-agent' | 'beyond-horizon' | 'rejected-target';

export interface PackageChange {
  packageName: string;
  ecosystem: string;
  /** Undefined when the installed version is not known (a baseline for a package only a check-in reports). */
  from: string | undefined;
  to: string;
  /** Why: an open advisory's fix, the baseline's target, or both. */
  because: 'advisory' | 'baseline';
  advisories: string[];
}

export interface HostSlot {
  window: string;
  occurrenceStart: Date;
  occurrenceEnd: Date;
  localStart: string;
  /** 1-based wave within the bucket's rollout of that occurrence. */
  wave: number;
  expectedStart: Date;
  expectedFinish: Date;
}

export interface HostPlan {
  host: string;
  bucket: string;
  team: string;
  /** `up-to-date`: nothing to change or reboot. */
  status: 'scheduled' | 'not-scheduled' | 'up-to-date';
  reason?: NotScheduledReason;
  /** Words for the reason, e.g. "in the freeze year-end until 2027-01-04". */
  detail?: string;
  slot?: HostSlot;
  changes: PackageChange[];
  willReboot: boolean;
}

export interface FindingForecast {
  host: string;
  bucket: string;
  team: string;
  advisoryId: string;
  packageName: string;
  severity: Severity;
  /** Undefined when the policy sets no SLA for the severity. */
  dueAt: Date | undefined;
  /** When the fix is expected on disk, and running; undefined: not within the horizon. */
  installedAt: Date | undefined;
  liveAt: Date | undefined;
  predictedBreach: boolean;
  emergency: boolean;
}

/** One finding's forecast as numbers (epoch ms, NaN: none), for scans that make no objects. */
export interface ForecastTimes {
  dueTime: number;
  installedTime: number;
  liveTime: number;
  predictedBreach: boolean;
  emergency: boolean;
}

/** The forecasts of a plan's findings, made into objects only when asked for. */
export interface FindingForecasts extends Iterable<FindingForecast> {
  /** Open findings of the hosts in view. */
  readonly length: number;
  /** Only the findings of the hosts whose plan passes. */
  narrow(keep: (plan: HostPlan) => boolean): FindingForecasts;
  /** One host's findings, in the order its check-in gave them. */
  forHost(name: string): FindingForecast[];
  /** The findings whose forecast passes `test`. */
  where(test: (times: Readonly<ForecastTimes>, finding: PlanFinding) => boolean): FindingForecast[];
  /** Every forecast (a million for a large fleet: for output, not for counting). */
  list(): FindingForecast[];
  toJSON(): FindingForecast[];
}

export interface GroupForecast {
  name: string;
  hosts: number;
  hostsToPatch: number;
  scheduled: number;
  notScheduled: number;
  /** When the last scheduled host is expected to finish. */
  forecastCompletion?: Date;
  openFindings: number;
  dueWithinSevenDays: number;
  predictedBreaches: number;
  breached: number;
}

/** What the rollout engine will be asked to run: one bucket, one window occurrence, hosts in waves. */
export interface PlannedRollout {
  bucket: string;
  window: string;
  occurrenceStart: Date;
  occurrenceEnd: Date;
  admissionEnd: Date;
  waves: Array<{ wave: number; hosts: string[] }>;
}

export interface FleetPlan {
  generatedAt: Date;
  horizonEnd: Date;
  hosts: HostPlan[];
  /** Derived on demand: a host's (`forHost`), the ones a test picks (`where`), or all (`list`). */
  findings: FindingForecasts;
  buckets: GroupForecast[];
  teams: GroupForecast[];
  rollouts: PlannedRollout[];
}
