/**
 * The planner: for every host its next patch slot (or why there is none), for every open finding
 * its SLA due date and forecast fix (installed and live), per bucket and team the work and the
 * predicted breaches, and the rollouts the engine will run. Pure: hosts, policy and a clock in,
 * a plan out. Emergency findings are also forecast on the emergency path (windows, freezes and
 * cooldowns relaxed as the policy allows; waves, soak and budgets kept) and take the earlier date.
 */
import { freezeCovers, freezeIntervals, type FreezeInterval } from '../policy/freeze.js';
import { minimumHostTime } from '../policy/policy-check.js';
import type { Bucket, Policy } from '../policy/policy-schema.js';
import { scheduleBucket, type ScheduleResult } from './bucket-schedule.js';
import { compileBaselines, hostTargets } from './package-targets.js';
import type { FindingForecast, FleetPlan, GroupForecast, HostPlan, HostSlot, PlanHost } from './plan-types.js';
import { isEmergency, slaDueAt } from './sla.js';

const DAY_MS = 86_400_000;

export interface PlanOptions {
  now: Date;
  /** How far ahead to plan; 30 days by default. */
  horizonDays?: number;
  /** A host not seen for this long is stale: its agent cannot be relied on to act. */
  staleAfterMs: number;
  /** Measured time per host for a bucket (p95 of past step durations); the policy's seed otherwise. */
  hostDurationMs?: Readonly<Record<string, number>>;
}

interface BucketWork {
  bucket: Bucket | undefined;
  name: string;
  hosts: PlanHost[];
  plans: Map<string, HostPlan>;
  emergencyHosts: string[];
}

/** The policy's bucket for a stored bucket name (hosts keep the name ownership gave them). */
function bucketsByName(policy: Policy): Map<string, Bucket> {
  return new Map(policy.buckets.map((bucket) => [bucket.name, bucket]));
}

function hostDuration(bucket: Bucket, options: PlanOptions): number {
  return options.hostDurationMs?.[bucket.name] ?? minimumHostTime(bucket);
}

/** Canaries first (label `canary=true`), then the most urgent SLA, then by name: deterministic. */
function admissionOrder(hosts: PlanHost[], firstDue: Map<string, number>): string[] {
  return [...hosts]
    .sort((a, b) => Number(b.labels.canary === 'true') - Number(a.labels.canary === 'true') || (firstDue.get(a.name) ?? Infinity) - (firstDue.get(b.name) ?? Infinity) || a.name.localeCompare(b.name))
    .map((host) => host.name);
}

function freezesFor(policy: Policy, bucket: Bucket, from: Date, until: Date, emergency: boolean): FreezeInterval[] {
  const relaxes = emergency && policy.emergency.relaxes.includes('freezes');
  return policy.freezes.filter((freeze) => freezeCovers(freeze, bucket) && !(relaxes && freeze.allowEmergency)).flatMap((freeze) => freezeIntervals(freeze, from, until));
}

/**
 * @example planFleet(policy, hosts, { now: new Date(), staleAfterMs: 3_600_000 }).hosts.find((plan) => plan.host === 'db-7')?.slot
 */
export function planFleet(policy: Policy, hosts: readonly PlanHost[], options: PlanOptions): FleetPlan {
  const now = options.now;
  const horizonEnd = new Date(now.getTime() + (options.horizonDays ?? 30) * DAY_MS);
  const baselines = compileBaselines(policy.baselines);
  const buckets = bucketsByName(policy);
  const work = new Map<string, BucketWork>();
  const firstDue = new Map<string, number>();

  for (const host of hosts) {
    let entry = work.get(host.bucket);
    if (!entry) {
      entry = { bucket: buckets.get(host.bucket), name: host.bucket, hosts: [], plans: new Map(), emergencyHosts: [] };
      work.set(host.bucket, entry);
    }
    entry.hosts.push(host);
    const targets = hostTargets(host, baselines, { now });
    const pendingReboot = host.rebootRequired || host.findings.some((finding) => finding.state === 'pending-reboot');
    const rebootPolicy = entry.bucket?.reboot.policy ?? 'if-required';
    const needsReboot = pendingReboot || targets.changes.some((change) => host.findings.some((finding) => finding.needsReboot && finding.packageName === change.packageName));
    const willReboot = rebootPolicy === 'always' ? targets.changes.length > 0 || pendingReboot : rebootPolicy === 'if-required' && needsReboot;
    const plan: HostPlan = { host: host.name, bucket: host.bucket, team: host.team, status: 'up-to-date', changes: targets.changes, willReboot };
    if (targets.changes.length === 0 && !(pendingReboot && rebootPolicy !== 'never')) {
      if (targets.rejected.length > 0) Object.assign(plan, { status: 'not-scheduled', reason: 'rejected-target', detail: `only rejected versions would fix ${targets.rejected.map((item) => `${item.packageName} ${item.version}`).join(', ')}` });
      entry.plans.set(host.name, plan);
      continue;
    }
    plan.status = 'not-scheduled';
    if (!entry.bucket) Object.assign(plan, { reason: 'no-window', detail: `bucket ${host.bucket} is not in the policy` });
    else if (entry.bucket.executor.kind === 'agent' && (!host.lastSeenAt || now.getTime() - host.lastSeenAt.getTime() > options.staleAfterMs)) {
      Object.assign(plan, { reason: 'stale-agent', detail: `its agent was last seen ${host.lastSeenAt ? host.lastSeenAt.toISOString() : 'never'}` });
    }
    entry.plans.set(host.name, plan);
    let due = Infinity;
    for (const finding of host.findings) due = Math.min(due, slaDueAt(policy, finding)?.getTime() ?? Infinity);
    firstDue.set(host.name, due);
    if (host.findings.some((finding) => isEmergency(policy, finding))) entry.emergencyHosts.push(host.name);
  }

  const rollouts: FleetPlan['rollouts'] = [];
  const emergencySlots = new Map<string, HostSlot>();
  for (const entry of work.values()) {
    if (!entry.bucket) continue;
    const bucket = entry.bucket;
    const toSchedule = entry.hosts.filter((host) => entry.plans.get(host.name)!.status === 'not-scheduled' && !entry.plans.get(host.name)!.reason);
    const emergencyHosts = new Set(entry.emergencyHosts);
    const routine = scheduleBucket({
      bucket,
      windows: policy.windows,
      freezes: freezesFor(policy, bucket, now, horizonEnd, false),
      hosts: admissionOrder(toSchedule, firstDue),
      bucketSize: entry.hosts.length,
      hostDurationMs: hostDuration(bucket, options),
      from: now,
      until: horizonEnd,
    });
    applySchedule(entry, routine);
    rollouts.push(...routine.rollouts);
    const emergency = emergencySchedule(policy, bucket, toSchedule.filter((host) => emergencyHosts.has(host.name)), entry.hosts.length, firstDue, now, horizonEnd, hostDuration(bucket, options));
    for (const [host, slot] of emergency.slots) emergencySlots.set(host, slot);
  }

  const findings: FindingForecast[] = [];
  for (const host of hosts) {
    const plan = work.get(host.bucket)!.plans.get(host.name)!;
    for (const finding of host.findings) {
      const dueAt = slaDueAt(policy, finding);
      const emergency = isEmergency(policy, finding);
      // An emergency rollout installs the emergency fixes only, but its reboot makes every installed fix live.
      const slot = earlier(plan.slot, emergency ? emergencySlots.get(host.name) : undefined);
      const pendingReboot = finding.state === 'pending-reboot';
      const installedAt = pendingReboot ? finding.firstSeenAt : slot?.expectedFinish;
      const rebootSlot = pendingReboot ? earlier(plan.slot, emergencySlots.get(host.name)) : slot;
      const liveAt = pendingReboot || finding.needsReboot ? (plan.willReboot ? rebootSlot?.expectedFinish : undefined) : installedAt;
      const forecast: FindingForecast = {
        host: host.name,
        bucket: host.bucket,
        team: host.team,
        advisoryId: finding.advisoryId,
        packageName: finding.packageName,
        severity: finding.severity,
        predictedBreach: dueAt !== undefined && (liveAt === undefined ? dueAt < horizonEnd : liveAt > dueAt),
        emergency,
      };
      if (dueAt) forecast.dueAt = dueAt;
      if (installedAt) forecast.installedAt = installedAt;
      if (liveAt) forecast.liveAt = liveAt;
      findings.push(forecast);
    }
  }

  const hostPlans = [...work.values()].flatMap((entry) => [...entry.plans.values()]).sort((a, b) => a.host.localeCompare(b.host));
  return {
    generatedAt: now,
    horizonEnd,
    hosts: hostPlans,
    findings,
    buckets: groupForecasts(hostPlans, findings, (item) => item.bucket, now),
    teams: groupForecasts(hostPlans, findings, (item) => item.team, now),
    rollouts: rollouts.sort((a, b) => a.occurrenceStart.getTime() - b.occurrenceStart.getTime() || a.bucket.localeCompare(b.bucket)),
  };
}

function applySchedule(entry: BucketWork, schedule: ScheduleResult): void {
  for (const [host, slot] of schedule.slots) Object.assign(entry.plans.get(host)!, { status: 'scheduled', slot });
  for (const [host, { reason, detail }] of schedule.unscheduled) Object.assign(entry.plans.get(host)!, { reason, detail });
}

/** The emergency path for these hosts: from now, windows and freezes relaxed as the policy allows. */
export function emergencySchedule(policy: Policy, bucket: Bucket, hosts: PlanHost[], bucketSize: number, firstDue: Map<string, number>, now: Date, until: Date, duration: number): ScheduleResult {
  return scheduleBucket({
    bucket,
    windows: policy.windows,
    freezes: freezesFor(policy, bucket, now, until, true),
    hosts: admissionOrder(hosts, firstDue),
    bucketSize,
    hostDurationMs: duration,
    from: now,
    until,
    ignoreWindows: policy.emergency.relaxes.includes('windows'),
  });
}

function earlier(a: HostSlot | undefined, b: HostSlot | undefined): HostSlot | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.expectedFinish < a.expectedFinish ? b : a;
}

function groupForecasts(hosts: HostPlan[], findings: FindingForecast[], keyOf: (item: { bucket: string; team: string }) => string, now: Date): GroupForecast[] {
  const groups = new Map<string, GroupForecast>();
  const group = (name: string) => {
    let entry = groups.get(name);
    if (!entry) {
      entry = { name, hosts: 0, hostsToPatch: 0, scheduled: 0, notScheduled: 0, openFindings: 0, dueWithinSevenDays: 0, predictedBreaches: 0, breached: 0 };
      groups.set(name, entry);
    }
    return entry;
  };
  for (const host of hosts) {
    const entry = group(keyOf(host));
    entry.hosts++;
    if (host.status === 'up-to-date') continue;
    entry.hostsToPatch++;
    if (host.status === 'scheduled') {
      entry.scheduled++;
      if (!entry.forecastCompletion || host.slot!.expectedFinish > entry.forecastCompletion) entry.forecastCompletion = host.slot!.expectedFinish;
    } else entry.notScheduled++;
  }
  const soon = now.getTime() + 7 * DAY_MS;
  for (const finding of findings) {
    const entry = group(keyOf(finding));
    entry.openFindings++;
    if (!finding.dueAt) continue;
    if (finding.dueAt <= now) entry.breached++;
    else if (finding.dueAt.getTime() <= soon) entry.dueWithinSevenDays++;
    if (finding.predictedBreach) entry.predictedBreaches++;
  }
  return [...groups.values()].sort((a, b) => a.name.localeCompare(b.name));
}
