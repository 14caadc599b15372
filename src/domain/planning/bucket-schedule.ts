/**
 * Simulates one bucket's rollouts over the coming window occurrences, with the rules the rollout
 * engine enforces: hosts in waves (canary first), at most `maxInFlight` at once, a host admitted
 * only if its expected time fits before the window's end minus the admission cutoff, the next wave
 * only after the previous one finished and soaked (and, with `promotion: approval`, not before the
 * next occurrence: a person approves it), no admission during a freeze. Manual buckets are
 * announced `noticeDays` ahead, so an occurrence sooner than that cannot take them.
 */
import type { FreezeInterval } from '../policy/freeze.js';
import { occurrencesBetween, type MaintenanceWindow } from '../policy/maintenance-window.js';
import type { Bucket } from '../policy/policy-schema.js';
import { resolveQuantity, waveSizes } from '../policy/quantity.js';
import type { HostSlot, NotScheduledReason, PlannedRollout } from './plan-types.js';

const DAY_MS = 86_400_000;

export interface ScheduleInput {
  bucket: Bucket;
  windows: Readonly<Record<string, MaintenanceWindow>>;
  /** Freeze intervals that cover this bucket (already filtered by scope and emergency rules). */
  freezes: readonly FreezeInterval[];
  /** Hosts to patch, in admission order (canaries first). */
  hosts: readonly string[];
  /** All hosts of the bucket: shares (`10%`) are of the bucket, not of the hosts left to patch. */
  bucketSize: number;
  /** Expected time of one host, from the bucket's history or the policy's seed. */
  hostDurationMs: number;
  from: Date;
  until: Date;
  /** The emergency path: windows relaxed (one continuous opening from `from`). */
  ignoreWindows?: boolean;
}

export interface ScheduleResult {
  slots: Map<string, HostSlot>;
  unscheduled: Map<string, { reason: NotScheduledReason; detail: string }>;
  rollouts: PlannedRollout[];
}

interface Opening {
  window: string;
  start: Date;
  end: Date;
  admissionEnd: Date;
  localStart: string;
}

/**
 * When each in-flight slot is next free, as a binary min-heap: a bucket of 45,000 nodes at 10% in
 * flight has 4,500 slots, and scanning them for every host would be quadratic.
 */
class LaneHeap {
  private readonly free: Float64Array;

  constructor(lanes: number, freeFrom: number) {
    this.free = new Float64Array(Math.max(1, lanes)).fill(freeFrom);
  }

  earliest(): number {
    return this.free[0]!;
  }

  /** The earliest lane is taken until `until`; sift it down to its place. */
  replaceEarliest(until: number): void {
    const free = this.free;
    let index = 0;
    free[0] = until;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= free.length) return;
      const right = left + 1;
      const child = right < free.length && free[right]! < free[left]! ? right : left;
      if (free[child]! >= free[index]!) return;
      [free[child], free[index]] = [free[index]!, free[child]!];
      index = child;
    }
  }
}

/** The bucket's openings in [from, until): its windows' occurrences, or one long emergency opening. */
function openingsOf(input: ScheduleInput): Opening[] {
  if (input.ignoreWindows) return [{ window: 'emergency', start: input.from, end: input.until, admissionEnd: input.until, localStart: input.from.toISOString() }];
  const openings: Opening[] = [];
  for (const name of input.bucket.windows) {
    const window = input.windows[name];
    if (!window) continue;
    for (const occurrence of occurrencesBetween(window, input.from, input.until)) {
      openings.push({ window: name, start: occurrence.start, end: occurrence.end, admissionEnd: occurrence.admissionEnd, localStart: occurrence.localStart });
    }
  }
  return openings.sort((a, b) => a.start.getTime() - b.start.getTime() || a.window.localeCompare(b.window));
}

/** The part of [start, admissionEnd) before the first freeze that touches it; undefined when frozen from the start. */
function admissibleUntil(start: number, admissionEnd: number, freezes: readonly FreezeInterval[]): { until: number; frozenBy?: FreezeInterval } {
  let until = admissionEnd;
  let frozenBy: FreezeInterval | undefined;
  for (const freeze of freezes) {
    const freezeStart = freeze.start.getTime();
    const freezeEnd = freeze.end.getTime();
    if (freezeEnd <= start || freezeStart >= until) continue;
    if (freezeStart <= start) return { until: start, frozenBy: freeze };
    until = freezeStart;
    frozenBy = freeze;
  }
  return frozenBy ? { until, frozenBy } : { until };
}

/**
 * @example scheduleBucket({ bucket, windows: policy.windows, freezes: [], hosts: ['db-1', 'db-2'], bucketSize: 2, hostDurationMs: 1_500_000, from: now, until }).slots.get('db-1')
 */
export function scheduleBucket(input: ScheduleInput): ScheduleResult {
  const slots = new Map<string, HostSlot>();
  const unscheduled = new Map<string, { reason: NotScheduledReason; detail: string }>();
  const rollouts: PlannedRollout[] = [];
  const { bucket, hosts, hostDurationMs: duration } = input;
  if (hosts.length === 0) return { slots, unscheduled, rollouts };

  const openings = openingsOf(input);
  const lanes = Math.max(1, resolveQuantity(bucket.maxInFlight, Math.max(input.bucketSize, hosts.length)));
  const waves = waveSizes(bucket.waves, hosts.length);
  const manualNotice = bucket.strategy.kind === 'manual' && !input.ignoreWindows ? bucket.strategy.noticeDays * DAY_MS : 0;
  const earliestAnnounced = input.from.getTime() + manualNotice;

  let next = 0;
  let wave = 0;
  let placedInWave = 0;
  let waveReadyAt = input.from.getTime();
  let waveFinish = 0;
  let lastFreeze: FreezeInterval | undefined;
  let skippedForNotice: Opening | undefined;
  let fitsAnywhere = false;

  for (const opening of openings) {
    if (next >= hosts.length) break;
    if (opening.start.getTime() < earliestAnnounced) {
      skippedForNotice ??= opening;
      continue;
    }
    const openFrom = Math.max(opening.start.getTime(), input.from.getTime());
    const { until: admissionEnd, frozenBy } = admissibleUntil(openFrom, opening.admissionEnd.getTime(), input.freezes);
    if (frozenBy) lastFreeze = frozenBy;
    if (opening.admissionEnd.getTime() - opening.start.getTime() >= duration) fitsAnywhere = true;
    const laneFree = new LaneHeap(Math.min(lanes, hosts.length - next), openFrom);
    const planned: PlannedRollout = { bucket: bucket.name, window: opening.window, occurrenceStart: opening.start, occurrenceEnd: opening.end, admissionEnd: new Date(admissionEnd), waves: [] };

    while (next < hosts.length) {
      const waveStart = Math.max(waveReadyAt, openFrom);
      // The earliest free lane, but not before the wave may start.
      const start = Math.max(laneFree.earliest(), waveStart);
      if (start + duration > admissionEnd) break;
      const host = hosts[next]!;
      const finish = start + duration;
      laneFree.replaceEarliest(finish);
      waveFinish = Math.max(waveFinish, finish);
      slots.set(host, {
        window: opening.window,
        occurrenceStart: opening.start,
        occurrenceEnd: opening.end,
        localStart: opening.localStart,
        wave: wave + 1,
        expectedStart: new Date(start),
        expectedFinish: new Date(finish),
      });
      const plannedWave = planned.waves.at(-1)?.wave === wave + 1 ? planned.waves.at(-1)! : (planned.waves.push({ wave: wave + 1, hosts: [] }), planned.waves.at(-1)!);
      plannedWave.hosts.push(host);
      next++;
      placedInWave++;
      if (placedInWave === waves[wave]) {
        wave++;
        placedInWave = 0;
        waveReadyAt = waveFinish + bucket.soak;
        // A person approves the next wave: not within this opening.
        if (bucket.promotion === 'approval' && !input.ignoreWindows) waveReadyAt = Math.max(waveReadyAt, opening.end.getTime());
      }
    }
    if (planned.waves.length > 0) rollouts.push(planned);
  }

  for (const host of hosts.slice(next)) {
    if (!fitsAnywhere && openings.length > 0 && !skippedForNotice) {
      unscheduled.set(host, { reason: 'no-window', detail: `no window of ${bucket.name} is long enough for one host (${Math.round(duration / 60_000)} min)` });
    } else if (openings.length === 0 && !skippedForNotice) {
      unscheduled.set(host, { reason: 'no-window', detail: `${bucket.name} has no window opening before ${input.until.toISOString()}` });
    } else if (lastFreeze && slots.size === 0) {
      unscheduled.set(host, { reason: 'freeze', detail: `in the freeze ${lastFreeze.name} until ${lastFreeze.end.toISOString()}` });
    } else if (skippedForNotice && slots.size === 0) {
      unscheduled.set(host, { reason: 'awaiting-notice', detail: `${bucket.name} is announced ${bucket.strategy.kind === 'manual' ? bucket.strategy.noticeDays : 0} days ahead; the next window it can take is after ${input.until.toISOString()}` });
    } else {
      unscheduled.set(host, { reason: 'beyond-horizon', detail: `the windows before ${input.until.toISOString()} are full` });
    }
  }
  return { slots, unscheduled, rollouts };
}
