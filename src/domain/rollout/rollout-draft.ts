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
import type { JobCommand, PackageTarget, RolloutSettings } from './rollout-model.js';

export interface RolloutDraft {
  bucket: string;
  team: string;
  advisoryId?: string;
  snapshot: PackageTarget[];
  settings: RolloutSettings;
  windows: string[];
  gates: Bucket['gates'];
  waves: Array<{ wave: number; hosts: string[] }>;
}

const commandOf = (check: Bucket['checks']['pre'][number]): JobCommand => ({ name: check.name, command: check.command, timeoutMs: check.timeout, allowedExitCodes: check.allowedExitCodes });

/** Strategies and executors this engine runs today; the others are planned and refused here. */
function assertRunnable(bucket: Bucket): void {
  if (bucket.strategy.kind !== 'in-place') throw new InputError(`bucket ${bucket.name} uses the ${bucket.strategy.kind} strategy; rollouts run the in-place strategy`, { field: 'bucket' });
  if (bucket.executor.kind !== 'agent') throw new InputError(`bucket ${bucket.name} uses the ${bucket.executor.kind} executor; rollouts run through the agent`, { field: 'bucket' });
}

/**
 * @example draftRollout(bucket, plan.hosts.filter((host) => host.bucket === bucket.name), { staleAfterMs: 3_600_000, labels }).waves
 */
export function draftRollout(bucket: Bucket, hostPlans: readonly HostPlan[], options: { staleAfterMs: number; canaries: ReadonlySet<string>; advisoryId?: string; hostDurationMs?: number }): RolloutDraft {
  assertRunnable(bucket);
  const relevant = (change: HostPlan['changes'][number]) => options.advisoryId === undefined || change.advisories.includes(options.advisoryId);
  const hosts = hostPlans.filter((host) => host.status !== 'up-to-date' && (options.advisoryId === undefined || host.changes.some(relevant)));
  if (hosts.length === 0) throw new InputError(`no host of bucket ${bucket.name} needs ${options.advisoryId ? `the fix for ${options.advisoryId}` : 'patching'}`, { field: options.advisoryId ? 'advisory' : 'bucket' });

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
  return {
    bucket: bucket.name,
    team: bucket.owner,
    ...(options.advisoryId ? { advisoryId: options.advisoryId } : {}),
    snapshot,
    windows: bucket.windows,
    gates: bucket.gates,
    waves,
    settings: {
      maxInFlight: Math.max(1, resolveQuantity(bucket.maxInFlight, total)),
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
