/**
 * Every open finding's forecast — its SLA due date, when the fix is installed and when it is live,
 * and whether that breaches — derived on demand from the hosts and their plans. A large fleet has
 * a million open findings: the planner counts them without making an object each, and a view
 * makes objects only for the findings it shows (a host's, the urgent ones, or all for output).
 */
import type { Policy } from '../policy/policy-schema.js';
import type { FindingForecast, FindingForecasts, ForecastTimes, HostPlan, HostSlot, PlanFinding, PlanHost } from './plan-types.js';
import { isEmergency, slaDueTime } from './sla.js';

/** Filled in place by `forecastFinding`, so a scan of a million findings allocates nothing. */
export function emptyForecastTimes(): ForecastTimes {
  return { dueTime: NaN, installedTime: NaN, liveTime: NaN, predictedBreach: false, emergency: false };
}

const timeOf = (slot: HostSlot | undefined) => (slot ? slot.expectedFinish.getTime() : NaN);

/**
 * A finding is installed when its host's slot finishes (an emergency finding: the earlier of the
 * routine and the emergency slot) and live then too, unless it needs a reboot: then only if the
 * host will reboot. A pending-reboot fix is already installed and goes live with the first reboot.
 */
export function forecastFinding(policy: Policy, plan: HostPlan, rebootSlot: HostSlot | undefined, finding: PlanFinding, horizonTime: number, out: ForecastTimes, judgedDueTime?: number, judgedEmergency?: boolean): ForecastTimes {
  // Judged already (the planner's first pass): its due time (NaN: none) and whether it is an emergency.
  const judged = judgedEmergency !== undefined;
  const dueTime = judged ? (Number.isNaN(judgedDueTime!) ? undefined : judgedDueTime) : slaDueTime(policy, finding);
  const emergency = judged ? judgedEmergency : isEmergency(policy, finding);
  const slotTime = timeOf(emergency ? rebootSlot : plan.slot);
  const pendingReboot = finding.state === 'pending-reboot';
  out.dueTime = dueTime ?? NaN;
  out.emergency = emergency;
  out.installedTime = pendingReboot ? finding.firstSeenAt.getTime() : slotTime;
  out.liveTime = pendingReboot || finding.needsReboot ? (plan.willReboot ? (pendingReboot ? timeOf(rebootSlot) : slotTime) : NaN) : out.installedTime;
  // Not live within the horizon breaches if it falls due within it.
  out.predictedBreach = dueTime !== undefined && (Number.isNaN(out.liveTime) ? dueTime < horizonTime : out.liveTime > dueTime);
  return out;
}

/** An emergency rollout installs the emergency fixes only, but its reboot makes every installed fix live. */
export function earlierSlot(a: HostSlot | undefined, b: HostSlot | undefined): HostSlot | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.expectedFinish < a.expectedFinish ? b : a;
}

const dateOf = (time: number) => (Number.isNaN(time) ? undefined : new Date(time));

export interface ForecastSource {
  policy: Policy;
  /** The planned hosts, and each one's plan at the same index. */
  hosts: readonly PlanHost[];
  plans: readonly HostPlan[];
  emergencySlots: ReadonlyMap<string, HostSlot>;
  horizonTime: number;
}

/**
 * @example plan.findings.where((times) => times.predictedBreach) // the findings that will breach, as objects
 */
export class DerivedFindingForecasts implements FindingForecasts {
  readonly length: number;
  private hostIndexByName: Map<string, number> | undefined;

  constructor(
    private readonly source: ForecastSource,
    /** Which of the source's hosts are in view (all when undefined). */
    private readonly inView?: readonly number[],
  ) {
    let length = 0;
    this.eachHostIndex((index) => (length += source.hosts[index]!.findings.length));
    this.length = length;
  }

  narrow(keep: (plan: HostPlan) => boolean): FindingForecasts {
    const indexes: number[] = [];
    this.eachHostIndex((index) => {
      if (keep(this.source.plans[index]!)) indexes.push(index);
    });
    return new DerivedFindingForecasts(this.source, indexes);
  }

  forHost(name: string): FindingForecast[] {
    if (!this.hostIndexByName) {
      this.hostIndexByName = new Map();
      this.eachHostIndex((index) => this.hostIndexByName!.set(this.source.hosts[index]!.name, index));
    }
    const index = this.hostIndexByName.get(name);
    return index === undefined ? [] : this.hostForecasts(index, () => true);
  }

  /** Only the findings that pass become objects. */
  where(test: (times: Readonly<ForecastTimes>, finding: PlanFinding) => boolean): FindingForecast[] {
    const found: FindingForecast[] = [];
    this.eachHostIndex((index) => {
      for (const forecast of this.hostForecasts(index, test)) found.push(forecast);
    });
    return found;
  }

  list(): FindingForecast[] {
    return this.where(() => true);
  }

  toJSON(): FindingForecast[] {
    return this.list();
  }

  *[Symbol.iterator](): Iterator<FindingForecast> {
    const indexes = this.inView ?? this.source.hosts.map((_host, index) => index);
    for (const index of indexes) yield* this.hostForecasts(index, () => true);
  }

  private eachHostIndex(visit: (index: number) => void): void {
    if (this.inView) for (const index of this.inView) visit(index);
    else for (let index = 0; index < this.source.hosts.length; index++) visit(index);
  }

  private hostForecasts(index: number, test: (times: Readonly<ForecastTimes>, finding: PlanFinding) => boolean): FindingForecast[] {
    const { policy, hosts, plans, emergencySlots, horizonTime } = this.source;
    const host = hosts[index]!;
    const plan = plans[index]!;
    const rebootSlot = earlierSlot(plan.slot, emergencySlots.get(host.name));
    const times = emptyForecastTimes();
    const forecasts: FindingForecast[] = [];
    for (const finding of host.findings) {
      forecastFinding(policy, plan, rebootSlot, finding, horizonTime, times);
      if (!test(times, finding)) continue;
      forecasts.push({
        host: host.name,
        bucket: host.bucket,
        team: host.team,
        advisoryId: finding.advisoryId,
        packageName: finding.packageName,
        severity: finding.severity,
        dueAt: dateOf(times.dueTime),
        installedAt: dateOf(times.installedTime),
        liveAt: dateOf(times.liveTime),
        predictedBreach: times.predictedBreach,
        emergency: times.emergency,
      });
    }
    return forecasts;
  }
}
