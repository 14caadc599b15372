/**
 * The API's views of a fleet plan: narrowed to a bucket, team or host like `fleetpatch plan`, with
 * every list bounded (the next rollouts with a few host names per wave, a page of host plans, the
 * urgent findings) and the windows and freezes of the horizon per bucket for the dashboard's
 * timeline; and canonical-level drift, the installed versions per team beside each baseline's target.
 */
import type { FindingForecast, FleetPlan, HostPlan, PlannedRollout } from '../domain/planning/plan-types.js';
import { narrowPlan } from '../domain/planning/narrow-plan.js';
import { freezeCovers, freezeIntervals } from '../domain/policy/freeze.js';
import { occurrencesBetween } from '../domain/policy/maintenance-window.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import type { InstalledVersionCount } from '../store/drift-queries.js';

/** Rollouts listed, host names shown per wave, package changes per host, urgent findings: enough to read, bounded to send. */
export const PLAN_LIMITS = { rollouts: 100, namesPerWave: 20, changesPerHost: 50, findings: 1_000, occurrencesPerBucket: 400, versionsPerTeam: 20, packagesPerBaseline: 50, baselines: 50 };

const SEVEN_DAYS_MS = 7 * 86_400_000;

export interface PlanViewOptions {
  bucket?: string;
  team?: string;
  host?: string;
  limit: number;
  offset: number;
}

const rolloutHosts = (rollout: PlannedRollout) => rollout.waves.reduce((sum, wave) => sum + wave.hosts.length, 0);

function boundedRollout(rollout: PlannedRollout) {
  return {
    bucket: rollout.bucket,
    window: rollout.window,
    occurrenceStart: rollout.occurrenceStart,
    occurrenceEnd: rollout.occurrenceEnd,
    admissionEnd: rollout.admissionEnd,
    hosts: rolloutHosts(rollout),
    waves: rollout.waves.map((wave) => ({ wave: wave.wave, hostCount: wave.hosts.length, hosts: wave.hosts.slice(0, PLAN_LIMITS.namesPerWave) })),
  };
}

function boundedHostPlan(host: HostPlan) {
  return { ...host, changes: host.changes.slice(0, PLAN_LIMITS.changesPerHost), changesTotal: host.changes.length };
}

/**
 * Every occurrence of each bucket's windows within the horizon, with the hosts the plan puts in
 * it, and the freezes that cover the bucket: what the dashboard's timeline draws.
 */
function bucketTimelines(policy: Policy, plan: FleetPlan, bucketNames: ReadonlySet<string> | undefined) {
  const hostsPerOccurrence = new Map<string, number>();
  for (const rollout of plan.rollouts) {
    const key = `${rollout.bucket}\u0000${rollout.window}\u0000${rollout.occurrenceStart.getTime()}`;
    hostsPerOccurrence.set(key, (hostsPerOccurrence.get(key) ?? 0) + rolloutHosts(rollout));
  }
  const from = plan.generatedAt;
  const until = plan.horizonEnd;
  return policy.buckets
    .filter((bucket) => !bucketNames || bucketNames.has(bucket.name))
    .map((bucket) => {
      const occurrences = bucket.windows
        .flatMap((name) => {
          const window = policy.windows[name];
          return window ? occurrencesBetween(window, from, until).map((occurrence) => ({ window: name, start: occurrence.start, end: occurrence.end, hosts: hostsPerOccurrence.get(`${bucket.name}\u0000${name}\u0000${occurrence.start.getTime()}`) ?? 0 })) : [];
        })
        .sort((a, b) => a.start.getTime() - b.start.getTime());
      const freezes = policy.freezes
        .filter((freeze) => freezeCovers(freeze, bucket))
        .flatMap((freeze) => freezeIntervals(freeze, from, until).map((interval) => ({ name: interval.name, start: interval.start, end: interval.end, allowEmergency: freeze.allowEmergency })));
      return { bucket: bucket.name, owner: bucket.owner, occurrences: occurrences.slice(0, PLAN_LIMITS.occurrencesPerBucket), occurrencesTotal: occurrences.length, freezes };
    });
}

/** Findings the SLA clock makes urgent: a predicted breach, or due within seven days of the plan's start; soonest due first. */
function urgentFindings(plan: FleetPlan): FindingForecast[] {
  const soon = plan.generatedAt.getTime() + SEVEN_DAYS_MS;
  return plan.findings
    .where((times) => times.predictedBreach || times.dueTime <= soon)
    .sort((a, b) => (a.dueAt?.getTime() ?? Infinity) - (b.dueAt?.getTime() ?? Infinity) || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
}

/**
 * @example planView(policy, plan, { team: 'web', limit: 500, offset: 0 }).hosts.total
 */
export function planView(policy: Policy, fullPlan: FleetPlan, options: PlanViewOptions) {
  const plan = narrowPlan(fullPlan, options);
  const waiting = plan.hosts.filter((host) => host.status !== 'up-to-date');
  const notScheduled: Record<string, number> = {};
  for (const host of waiting) if (host.status === 'not-scheduled') notScheduled[host.reason ?? 'unknown'] = (notScheduled[host.reason ?? 'unknown'] ?? 0) + 1;
  const urgent = urgentFindings(plan);
  const rollouts = [...plan.rollouts].sort((a, b) => a.occurrenceStart.getTime() - b.occurrenceStart.getTime());
  return {
    generatedAt: plan.generatedAt,
    horizonEnd: plan.horizonEnd,
    buckets: plan.buckets,
    teams: plan.teams,
    rollouts: rollouts.slice(0, PLAN_LIMITS.rollouts).map(boundedRollout),
    rolloutsTotal: rollouts.length,
    timeline: bucketTimelines(policy, plan, options.bucket ? new Set([options.bucket]) : undefined),
    notScheduled,
    hosts: { total: waiting.length, offset: options.offset, limit: options.limit, items: waiting.slice(options.offset, options.offset + options.limit).map(boundedHostPlan) },
    findings: { total: urgent.length, items: urgent.slice(0, PLAN_LIMITS.findings) },
  };
}

/** A baseline as drift reads it: its glob, ecosystem, owner and target (exact version, `security` or `latest`). */
export interface DriftBaseline {
  package: string;
  ecosystem?: string;
  owner?: string;
  target?: Policy['baselines'][number]['target'];
}

/**
 * Per package matching the baseline, per team, the installed versions with host counts and the
 * target: the exact version, or for `security` and `latest` the version the plan moves most of
 * the package's hosts to (none when the plan changes nothing).
 */
export function driftView(baseline: DriftBaseline, installed: InstalledVersionCount[], plan: FleetPlan | undefined) {
  const exact = baseline.target !== undefined && typeof baseline.target === 'object' && 'version' in baseline.target ? baseline.target.version : undefined;
  const planned = plan && baseline.target !== undefined && exact === undefined ? plannedTargets(plan, new Set(installed.map((row) => row.packageName))) : new Map<string, Map<string, number>>();
  const byPackage = new Map<string, { packageName: string; ecosystem: string; teams: Map<string, Array<{ version: string; hosts: number }>> }>();
  for (const row of installed) {
    const key = `${row.ecosystem}\u0000${row.packageName}`;
    let entry = byPackage.get(key);
    if (!entry) byPackage.set(key, (entry = { packageName: row.packageName, ecosystem: row.ecosystem, teams: new Map() }));
    (entry.teams.get(row.team) ?? entry.teams.set(row.team, []).get(row.team)!).push({ version: row.version, hosts: row.hosts });
  }
  const packages = [...byPackage.values()].slice(0, PLAN_LIMITS.packagesPerBaseline).map((entry) => {
    const target = exact ?? mostCommon(planned.get(entry.packageName));
    const teams = [...entry.teams].map(([team, versions]) => ({
      team,
      hosts: versions.reduce((sum, version) => sum + version.hosts, 0),
      versionsTotal: versions.length,
      versions: versions.slice(0, PLAN_LIMITS.versionsPerTeam).map((version) => ({ ...version, target: version.version === target })),
    }));
    return { packageName: entry.packageName, ecosystem: entry.ecosystem, ...(target !== undefined ? { target } : {}), distinctVersions: new Set(teams.flatMap((team) => team.versions.map((version) => version.version))).size, teams };
  });
  return {
    package: baseline.package,
    ...(baseline.ecosystem ? { ecosystem: baseline.ecosystem } : {}),
    ...(baseline.owner ? { owner: baseline.owner } : {}),
    targetRule: baseline.target === undefined ? null : typeof baseline.target === 'string' ? baseline.target : 'version' in baseline.target ? 'exact' : 'latest',
    packages,
    packagesTotal: byPackage.size,
  };
}

/** Per package of `names`: how many hosts the plan moves to each version. */
function plannedTargets(plan: FleetPlan, names: ReadonlySet<string>): Map<string, Map<string, number>> {
  const planned = new Map<string, Map<string, number>>();
  for (const host of plan.hosts) {
    for (const change of host.changes) {
      if (!names.has(change.packageName)) continue;
      const counts = planned.get(change.packageName) ?? planned.set(change.packageName, new Map()).get(change.packageName)!;
      counts.set(change.to, (counts.get(change.to) ?? 0) + 1);
    }
  }
  return planned;
}

function mostCommon(counts: Map<string, number> | undefined): string | undefined {
  let best: string | undefined;
  let bestCount = 0;
  for (const [version, count] of counts ?? []) if (count > bestCount) [best, bestCount] = [version, count];
  return best;
}
