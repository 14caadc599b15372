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
import { DerivedFindingForecasts, earlierSlot, emptyForecastTimes, forecastFinding } from './finding-forecasts.js';
import type { FleetPlan, GroupForecast, HostPlan, HostSlot, PlanHost } from './plan-types.js';
import { isEmergency, slaDueTime } from './sla.js';

const DAY_MS = 86_400_000;

export interface PlanOptions {
  now: Date;
  /** How far ahead to plan; 30 days by default. */
  horizonDays?: number;
  /** A host not seen for this long is stale: its agent cannot be relied on to act. */
  staleAfterMs: number;
  /** Measured time per host for a bucket (p95 of past step durations); the policy's seed otherwise. */
  hostDurationMs?: Readonly<Record<string, number>>;
  /** Targets may be candidates still in their cooldown: an emergency rollout approved to relax cooldowns. */
  ignoreCooldowns?: boolean;
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

/** Code-unit order: deterministic everywhere, and far cheaper than localeCompare on 100,000 names. */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function hostDuration(bucket: Bucket, options: PlanOptions): number {
  return options.hostDurationMs?.[bucket.name] ?? minimumHostTime(bucket);
}

/** Canaries first (label `canary=true`), then the most urgent SLA, then by name: deterministic. */
function admissionOrder(hosts: PlanHost[], firstDue: Map<string, number>): string[] {
  const keyed = hosts.map((host) => ({ name: host.name, canary: host.labels.canary === 'true' ? 0 : 1, due: firstDue.get(host.name) ?? Infinity }));
  keyed.sort((a, b) => a.canary - b.canary || a.due - b.due || byName(a.name, b.name));
  return keyed.map((host) => host.name);
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

  // One pass per host: its targets, reboot need, earliest due date and whether any finding is an
  // emergency. Each finding's due time and emergency are kept (by its place in the fleet's order)
  // for the forecasts below: a million findings are judged once, not twice.
  const hostPlansInOrder: HostPlan[] = new Array(hosts.length);
  let findingCount = 0;
  for (const host of hosts) findingCount += host.findings.length;
  const dueTimes = new Float64Array(findingCount);
  const emergencies = new Uint8Array(findingCount);
  let findingIndex = 0;
  for (let index = 0; index < hosts.length; index++) {
    const host = hosts[index]!;
    let entry = work.get(host.bucket);
    if (!entry) {
      entry = { bucket: buckets.get(host.bucket), name: host.bucket, hosts: [], plans: new Map(), emergencyHosts: [] };
      work.set(host.bucket, entry);
    }
    entry.hosts.push(host);
    let pendingReboot = host.rebootRequired;
    let rebootPackages: Set<string> | undefined;
    let due = Infinity;
    let emergency = false;
    for (const finding of host.findings) {
      if (finding.state === 'pending-reboot') pendingReboot = true;
      if (finding.needsReboot) (rebootPackages ??= new Set()).add(finding.packageName);
      const findingDue = slaDueTime(policy, finding);
      dueTimes[findingIndex] = findingDue ?? NaN;
      if (findingDue !== undefined && findingDue < due) due = findingDue;
      const findingEmergency = isEmergency(policy, finding);
      emergencies[findingIndex++] = findingEmergency ? 1 : 0;
      if (findingEmergency) emergency = true;
    }
    const targets = hostTargets(host, baselines, { now, ...(options.ignoreCooldowns ? { ignoreCooldowns: true } : {}) });
    const rebootPolicy = entry.bucket?.reboot.policy ?? 'if-required';
    const needsReboot = pendingReboot || (rebootPackages !== undefined && targets.changes.some((change) => rebootPackages.has(change.packageName)));
    const willReboot = rebootPolicy === 'always' ? targets.changes.length > 0 || pendingReboot : rebootPolicy === 'if-required' && needsReboot;
    const plan: HostPlan = { host: host.name, bucket: host.bucket, team: host.team, status: 'up-to-date', changes: targets.changes, willReboot };
    hostPlansInOrder[index] = plan;
    entry.plans.set(host.name, plan);
    if (targets.changes.length === 0 && !(pendingReboot && rebootPolicy !== 'never')) {
      if (targets.rejected.length > 0) {
        plan.status = 'not-scheduled';
        plan.reason = 'rejected-target';
        plan.detail = `only rejected versions would fix ${targets.rejected.map((item) => `${item.packageName} ${item.version}`).join(', ')}`;
      }
      continue;
    }
    plan.status = 'not-scheduled';
    if (!entry.bucket) {
      plan.reason = 'no-window';
      plan.detail = `bucket ${host.bucket} is not in the policy`;
    } else if (entry.bucket.executor.kind === 'agent' && (!host.lastSeenAt || now.getTime() - host.lastSeenAt.getTime() > options.staleAfterMs)) {
      plan.reason = 'stale-agent';
      plan.detail = `its agent was last seen ${host.lastSeenAt ? host.lastSeenAt.toISOString() : 'never'}`;
    }
    firstDue.set(host.name, due);
    if (emergency) entry.emergencyHosts.push(host.name);
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

  // A million findings are counted, not made into objects: `plan.findings` derives them on demand.
  const groups = new GroupCounter(now);
  const horizonTime = horizonEnd.getTime();
  const times = emptyForecastTimes();
  findingIndex = 0;
  for (let index = 0; index < hosts.length; index++) {
    const host = hosts[index]!;
    const plan = hostPlansInOrder[index]!;
    const bucketGroup = groups.bucket(host.bucket);
    const teamGroup = groups.team(host.team);
    const rebootSlot = earlierSlot(plan.slot, emergencySlots.get(host.name));
    for (const finding of host.findings) {
      forecastFinding(policy, plan, rebootSlot, finding, horizonTime, times, dueTimes[findingIndex]!, emergencies[findingIndex++] === 1);
      groups.countFinding(bucketGroup, times.dueTime, times.predictedBreach);
      groups.countFinding(teamGroup, times.dueTime, times.predictedBreach);
    }
  }

  const hostPlans = hostPlansInOrder.slice().sort((a, b) => byName(a.host, b.host));
  for (const plan of hostPlans) groups.countHost(plan);
  return {
    generatedAt: now,
    horizonEnd,
    hosts: hostPlans,
    findings: new DerivedFindingForecasts({ policy, hosts, plans: hostPlansInOrder, emergencySlots, horizonTime }),
    ...groups.result(),
    rollouts: rollouts.sort((a, b) => a.occurrenceStart.getTime() - b.occurrenceStart.getTime() || byName(a.bucket, b.bucket)),
  };
}

function applySchedule(entry: BucketWork, schedule: ScheduleResult): void {
  for (const [host, slot] of schedule.slots) {
    const plan = entry.plans.get(host)!;
    plan.status = 'scheduled';
    plan.slot = slot;
  }
  for (const [host, { reason, detail }] of schedule.unscheduled) {
    const plan = entry.plans.get(host)!;
    plan.reason = reason;
    plan.detail = detail;
  }
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

/** Per bucket and per team: hosts, work, completion and SLA counts, filled while the findings are forecast. */
class GroupCounter {
  private readonly buckets = new Map<string, GroupForecast>();
  private readonly teams = new Map<string, GroupForecast>();
  private readonly nowTime: number;
  private readonly soon: number;

  constructor(now: Date) {
    this.nowTime = now.getTime();
    this.soon = this.nowTime + 7 * DAY_MS;
  }

  bucket(name: string): GroupForecast {
    return GroupCounter.group(this.buckets, name);
  }

  team(name: string): GroupForecast {
    return GroupCounter.group(this.teams, name);
  }

  countHost(host: HostPlan): void {
    for (const entry of [this.bucket(host.bucket), this.team(host.team)]) {
      entry.hosts++;
      if (host.status === 'up-to-date') continue;
      entry.hostsToPatch++;
      if (host.status === 'scheduled') {
        entry.scheduled++;
        if (!entry.forecastCompletion || host.slot!.expectedFinish > entry.forecastCompletion) entry.forecastCompletion = host.slot!.expectedFinish;
      } else entry.notScheduled++;
    }
  }

  countFinding(entry: GroupForecast, due: number, predictedBreach: boolean): void {
    entry.openFindings++;
    if (Number.isNaN(due)) return;
    if (due <= this.nowTime) entry.breached++;
    else if (due <= this.soon) entry.dueWithinSevenDays++;
    if (predictedBreach) entry.predictedBreaches++;
  }

  result(): { buckets: GroupForecast[]; teams: GroupForecast[] } {
    const sorted = (groups: Map<string, GroupForecast>) => [...groups.values()].sort((a, b) => byName(a.name, b.name));
    return { buckets: sorted(this.buckets), teams: sorted(this.teams) };
  }

  private static group(groups: Map<string, GroupForecast>, name: string): GroupForecast {
    let entry = groups.get(name);
    if (!entry) {
      entry = { name, hosts: 0, hostsToPatch: 0, scheduled: 0, notScheduled: 0, openFindings: 0, dueWithinSevenDays: 0, predictedBreaches: 0, breached: 0 };
      groups.set(name, entry);
    }
    return entry;
  }
}
