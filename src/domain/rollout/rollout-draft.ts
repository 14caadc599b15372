/**
 * What a new rollout will be, from the planner's view of a bucket: the hosts to patch (canaries
 * first), the content snapshot every host gets (per package the highest target any host needs,
 * so one version runs everywhere), the waves, and the bucket's settings with counts resolved (the
 * time a host needs: the bucket's measured p95 when given, the policy's seed otherwise).
 * Pure: `rollout create --dry-run` prints exactly what `rollout create` would store.
 */
import { InputError } from '../errors.js';
import { compareVersions } from '../planning/package-targets.js';
import type { HostPlan } from '../planning/plan-types.js';
import { minimumHostTime } from '../policy/policy-check.js';
import type { Bucket } from '../policy/policy-schema.js';
import { resolveQuantity, waveSizes } from '../policy/quantity.js';
import type { ExecutorSettings, JobCommand, PackageTarget, RolloutSettings, StrategySettings } from './rollout-model.js';
import { RUNNABLE_STRATEGIES } from './strategies/index.js';

export interface RolloutDraft {
  bucket: string;
  team: string;
  advisoryId?: string;
  snapshot: PackageTarget[];
  settings: RolloutSettings;
  windows: string[];
  gates: Bucket['gates'];
  waves: Array<{ wave: number; hosts: string[] }>;
  /** What will hold the rollout up, known before it starts (a PodDisruptionBudget that allows no disruption now). */
  warnings: string[];
}

const commandOf = (check: Bucket['checks']['pre'][number]): JobCommand => ({ name: check.name, command: check.command, timeoutMs: check.timeout, allowedExitCodes: check.allowedExitCodes });

/** Strategies this engine runs; a bucket of another kind is planned and forecast, and refused here. */
export function assertRunnable(bucket: Bucket): void {
  if (!RUNNABLE_STRATEGIES.has(bucket.strategy.kind)) throw new InputError(`bucket ${bucket.name} uses the ${bucket.strategy.kind} strategy; rollouts run the ${[...RUNNABLE_STRATEGIES].join(' and ')} strategies`, { field: 'bucket' });
}

/** The bucket's strategy as the rollout freezes it (durations in milliseconds). */
function frozenStrategy(strategy: Bucket['strategy'], hosts: number): StrategySettings {
  switch (strategy.kind) {
    case 'manual':
      return { kind: 'manual', noticeDays: strategy.noticeDays, checklist: strategy.checklist, notifyTeams: strategy.notifyTeams };
    case 'replace':
      return {
        kind: 'replace', image: strategy.image, provisionHook: strategy.provisionHook, retireHook: strategy.retireHook, imageFact: strategy.imageFact,
        minHealthy: resolveQuantity(strategy.minHealthy, hosts), warmupMs: strategy.warmup, enrollTimeoutMs: strategy.enrollTimeout,
      };
    case 'rolling-reboot':
      return {
        kind: 'rolling-reboot',
        drain: { timeoutMs: strategy.drain.timeout, stuckAfterMs: strategy.drain.stuckAfter, deleteEmptyDirData: strategy.drain.deleteEmptyDirData, ...(strategy.drain.gracePeriod !== undefined ? { gracePeriodSeconds: Math.round(strategy.drain.gracePeriod / 1000) } : {}) },
        update: strategy.update === 'agent' ? 'agent' : { hook: strategy.update.hook },
      };
    default:
      return { kind: 'in-place' };
  }
}

function frozenExecutor(executor: Bucket['executor']): ExecutorSettings {
  switch (executor.kind) {
    case 'ssh':
      return { kind: 'ssh', user: executor.user, port: executor.port, sudo: executor.sudo, trustOnFirstUse: executor.trustOnFirstUse, ...(executor.addressLabel ? { addressLabel: executor.addressLabel } : {}) };
    case 'command-hook':
      return { kind: 'command-hook', command: executor.command, stepTimeoutMs: executor.stepTimeout };
    default:
      return { kind: 'agent' };
  }
}

/**
 * @example draftRollout(bucket, plan.hosts.filter((host) => host.bucket === bucket.name), { staleAfterMs: 3_600_000, labels }).waves
 */
export function draftRollout(bucket: Bucket, hostPlans: readonly HostPlan[], options: {
  staleAfterMs: number;
  canaries: ReadonlySet<string>;
  advisoryId?: string;
  hostDurationMs?: number;
  labels?: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Hosts whose fix of the advisory is installed and waits for a reboot: included for the reboot alone. */
  rebootFor?: ReadonlySet<string>;
}): RolloutDraft {
  assertRunnable(bucket);
  const relevant = (change: HostPlan['changes'][number]) => options.advisoryId === undefined || change.advisories.includes(options.advisoryId);
  const { strategy } = bucket;
  // Replaced, never patched: a host not on the newest baseline image is replaced, whatever it runs;
  // for one advisory's fix (the emergency path), every host that needs it is, its replacement built with the fix.
  const needsWork = strategy.kind === 'replace' && options.advisoryId === undefined
    ? (host: HostPlan) => options.labels?.get(host.host)?.[strategy.imageFact] !== strategy.image.id
    : (host: HostPlan) => host.status !== 'up-to-date' && (options.advisoryId === undefined || host.changes.some(relevant) || (host.willReboot && options.rebootFor?.has(host.host) === true));
  const hosts = hostPlans.filter(needsWork);
  if (hosts.length === 0) throw new InputError(`no host of bucket ${bucket.name} needs ${options.advisoryId ? `the fix for ${options.advisoryId}` : strategy.kind === 'replace' ? `replacing with ${strategy.image.id}` : 'patching'}`, { field: options.advisoryId ? 'advisory' : 'bucket' });

  const highest = new Map<string, { ecosystem: string; version: string }>();
  for (const host of hosts) {
    for (const change of host.changes.filter(relevant)) {
      const known = highest.get(change.packageName);
      if (!known || compareVersions(change.ecosystem, change.to, known.version) > 0) highest.set(change.packageName, { ecosystem: change.ecosystem, version: change.to });
    }
  }
  const snapshot = [...highest].map(([name, { version }]) => ({ name, version })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

  const ordered = hosts.map((host) => host.host).sort((a, b) => Number(options.canaries.has(b)) - Number(options.canaries.has(a)) || (a < b ? -1 : a > b ? 1 : 0));
  const waves: RolloutDraft['waves'] = [];
  let next = 0;
  for (const [index, size] of waveSizes(bucket.waves, ordered.length).entries()) {
    waves.push({ wave: index + 1, hosts: ordered.slice(next, next + size) });
    next += size;
  }
  const total = ordered.length;
  const strategySettings = frozenStrategy(bucket.strategy, total);
  const maxInFlight = Math.max(1, resolveQuantity(bucket.maxInFlight, total));
  // A replace keeps at least minHealthy hosts out of flight (EC2 instance refresh's rule): were every
  // host in flight lost before its replacement served, that many would still serve. One always may go.
  const healthyCap = strategySettings.kind === 'replace' ? Math.max(1, total - strategySettings.minHealthy) : maxInFlight;
  const warnings = healthyCap < maxInFlight ? [`minHealthy keeps ${total - healthyCap} of the ${total} hosts out of flight: at most ${healthyCap} replaced at a time (maxInFlight ${maxInFlight})`] : [];
  return {
    bucket: bucket.name,
    team: bucket.owner,
    ...(options.advisoryId ? { advisoryId: options.advisoryId } : {}),
    snapshot,
    windows: bucket.windows,
    gates: bucket.gates,
    waves,
    warnings,
    settings: {
      strategy: strategySettings,
      executor: frozenExecutor(bucket.executor),
      maxInFlight: Math.min(maxInFlight, healthyCap),
      errorBudget: resolveQuantity(bucket.errorBudget, total),
      soakMs: bucket.soak,
      promotion: bucket.promotion,
      preChecks: bucket.checks.pre.map(commandOf),
      postChecks: bucket.checks.post.map(commandOf),
      reboot: { policy: bucket.reboot.policy, timeoutMs: bucket.reboot.timeout, onTimeout: bucket.reboot.onTimeout },
      rollback: { automatic: bucket.rollback.automatic, commands: bucket.rollback.command ? [{ name: 'rollback', command: bucket.rollback.command, timeoutMs: bucket.rollback.timeout, allowedExitCodes: [0] }] : [], timeoutMs: bucket.rollback.timeout },
      expectedHostMs: options.hostDurationMs ?? minimumHostTime(bucket),
      staleAfterMs: options.staleAfterMs,
    },
  };
}
