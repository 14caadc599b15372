/**
 * The seed's opening question, answered before it happens: "a critical CVE in package P is
 * published at T — when is every affected host patched, and live, per bucket?", on the routine
 * cadence and on the emergency path (when the CVE meets the policy's triggers).
 */
import { minimumHostTime } from '../policy/policy-check.js';
import { freezeCovers, freezeIntervals } from '../policy/freeze.js';
import type { Policy } from '../policy/policy-schema.js';
import type { Severity } from '../types.js';
import { scheduleBucket, type ScheduleResult } from './bucket-schedule.js';
import { emergencySchedule } from './planner.js';
import { isEmergency } from './sla.js';

export interface WhatIfScenario {
  packageName: string;
  severity: Severity;
  publishedAt: Date;
  knownExploited?: boolean;
  epss?: number;
  /** The fix is live only after a reboot (a kernel, or a library every service maps). */
  needsReboot: boolean;
  /** Days to look ahead from publication; 60 by default. */
  horizonDays?: number;
}

export interface WhatIfPath {
  /** When the last affected host is expected to have the fix on disk, and running; undefined: not within the horizon. */
  patchedBy?: Date;
  liveBy?: Date;
  /** Hosts with no slot within the horizon. */
  unscheduled: number;
}

export interface WhatIfBucket {
  bucket: string;
  owner: string;
  affectedHosts: number;
  routine: WhatIfPath;
  /** Present when the scenario meets the emergency triggers. */
  emergency?: WhatIfPath;
}

export interface WhatIfAnswer {
  scenario: WhatIfScenario;
  emergencyApplies: boolean;
  buckets: WhatIfBucket[];
  /** The whole fleet: when the last affected host is live on each path. */
  routineLiveBy?: Date;
  emergencyLiveBy?: Date;
}

const DAY_MS = 86_400_000;

/**
 * @example whatIf(policy, [{ name: 'db-1', bucket: 'databases', labels: {} }], { packageName: 'openssl', severity: 'critical', publishedAt, needsReboot: false })
 */
export function whatIf(policy: Policy, affectedHosts: ReadonlyArray<{ name: string; bucket: string; labels: Record<string, string> }>, scenario: WhatIfScenario): WhatIfAnswer {
  const from = scenario.publishedAt;
  const until = new Date(from.getTime() + (scenario.horizonDays ?? 60) * DAY_MS);
  const emergencyApplies = isEmergency(policy, { severity: scenario.severity, knownExploited: scenario.knownExploited ?? false, advisoryId: '', ...(scenario.epss !== undefined ? { epss: scenario.epss } : {}) });
  const byBucket = new Map<string, Array<{ name: string; labels: Record<string, string> }>>();
  for (const host of affectedHosts) (byBucket.get(host.bucket) ?? byBucket.set(host.bucket, []).get(host.bucket)!).push(host);
  const buckets: WhatIfBucket[] = [];
  for (const bucket of policy.buckets) {
    const hosts = byBucket.get(bucket.name);
    if (!hosts) continue;
    const order = [...hosts].sort((a, b) => Number(b.labels.canary === 'true') - Number(a.labels.canary === 'true') || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const names = order.map((host) => host.name);
    const duration = minimumHostTime(bucket);
    const routine = scheduleBucket({
      bucket,
      windows: policy.windows,
      freezes: policy.freezes.filter((freeze) => freezeCovers(freeze, bucket)).flatMap((freeze) => freezeIntervals(freeze, from, until)),
      hosts: names,
      bucketSize: hosts.length,
      hostDurationMs: duration,
      from,
      until,
    });
    const live = scenario.needsReboot ? bucket.reboot.policy !== 'never' : true;
    const entry: WhatIfBucket = { bucket: bucket.name, owner: bucket.owner, affectedHosts: hosts.length, routine: pathOf(routine, names.length, live) };
    if (emergencyApplies) {
      const hostsByName = order.map((host) => ({ name: host.name, bucket: bucket.name, team: bucket.owner, labels: host.labels, rebootRequired: false, findings: [], availableUpdates: [] }));
      entry.emergency = pathOf(emergencySchedule(policy, bucket, hostsByName, hosts.length, new Map(), from, until, duration), names.length, live);
    }
    buckets.push(entry);
  }
  const latest = (dates: Array<Date | undefined>) => (dates.some((date) => date === undefined) ? undefined : new Date(dates.reduce((max, date) => Math.max(max, date!.getTime()), 0)));
  const answer: WhatIfAnswer = { scenario, emergencyApplies, buckets };
  const routineLiveBy = buckets.length > 0 ? latest(buckets.map((bucket) => bucket.routine.liveBy)) : undefined;
  if (routineLiveBy) answer.routineLiveBy = routineLiveBy;
  const emergencyLiveBy = emergencyApplies && buckets.length > 0 ? latest(buckets.map((bucket) => bucket.emergency!.liveBy)) : undefined;
  if (emergencyLiveBy) answer.emergencyLiveBy = emergencyLiveBy;
  return answer;
}

function pathOf(schedule: ScheduleResult, hosts: number, live: boolean): WhatIfPath {
  const path: WhatIfPath = { unscheduled: schedule.unscheduled.size };
  if (schedule.slots.size === hosts && hosts > 0) {
    let last = 0;
    for (const slot of schedule.slots.values()) last = Math.max(last, slot.expectedFinish.getTime());
    path.patchedBy = new Date(last);
    if (live) path.liveBy = path.patchedBy;
  }
  return path;
}
