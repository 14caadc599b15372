/**
 * The seed's metrics, defined once: each one's name, definition in words and unit
 * (../shared/research/incidents-audit-alerts.md, section 8), and the pure functions that compute
 * them from facts the store aggregates per bucket × team (and per day for what happens at a
 * moment: a fix installed, a rollout finished). The API, /metrics, Grafana and the dashboard all
 * show what these functions return. Durations are kept as histograms (counts per bin, their sum),
 * which add up across teams and buckets like Prometheus's; medians and p90s are read from the bins.
 */
import { evidenceStatus } from './compliance-evidence.js';

export type SeedMetricKey =
  | 'timeToInstalled' | 'timeToLive' | 'patchCoverage' | 'rollbackRate' | 'timeToDetectFailedPatch'
  | 'pendingReboots' | 'vulnerabilityAge' | 'compliancePassRate' | 'canarySuccessRate' | 'observabilityCoverage';

export interface SeedMetricDefinition {
  key: SeedMetricKey;
  name: string;
  definition: string;
  unit: 'hours' | 'days' | 'minutes' | 'ratio' | 'hosts';
}

export const SEED_METRICS: readonly SeedMetricDefinition[] = [
  { key: 'timeToInstalled', name: 'Time to patch (installed)', unit: 'hours', definition: 'Per finding fixed in the period: when its fix was installed (on disk, maybe waiting for a reboot) minus when the host was first seen with it.' },
  { key: 'timeToLive', name: 'Time to patch (live)', unit: 'hours', definition: 'Per finding made live in the period: when the fix was running (the host checked in with it loaded; a kernel once booted) minus when the host was first seen with the finding.' },
  { key: 'patchCoverage', name: 'Patch coverage', unit: 'ratio', definition: 'Hosts with no open critical or known-exploited finding and a fresh check-in, divided by all hosts; a stale host is not covered.' },
  { key: 'rollbackRate', name: 'Rollback rate', unit: 'ratio', definition: 'Rollouts finished in the period with at least one host rolled back, divided by the rollouts finished; also hosts rolled back divided by hosts attempted.' },
  { key: 'timeToDetectFailedPatch', name: 'Time to detect a failed patch', unit: 'minutes', definition: 'Per host failure in the period (failed, timed out, reboot stuck): when the engine recorded the failure minus when the step that failed started.' },
  { key: 'pendingReboots', name: 'Pending reboots', unit: 'hosts', definition: 'Hosts that report a reboot required or hold a fix on disk that waits for a reboot; with the age of the oldest such install.' },
  { key: 'vulnerabilityAge', name: 'Vulnerability age', unit: 'days', definition: 'Per open finding (vulnerable or pending reboot): now minus when the host was first seen with it; a stale host\'s findings keep ageing.' },
  { key: 'compliancePassRate', name: 'Compliance pass rate', unit: 'ratio', definition: 'Compliant hosts divided by evaluated (fresh) hosts: a host is non-compliant when a finding is open past its SLA due time (pending reboot included), excepted when an accepted risk in force covers an open finding (shown apart), compliant otherwise; not-applicable findings do not count.' },
  { key: 'canarySuccessRate', name: 'Canary success rate', unit: 'ratio', definition: 'Canary waves (the first of a rollout of several waves) whose gates passed, divided by canary waves whose gates were evaluated; inconclusive and error verdicts are counted apart.' },
  { key: 'observabilityCoverage', name: 'Observability coverage', unit: 'ratio', definition: 'Hosts in a rollout of the period with a fresh check-in and every gate run that watched them returning data, divided by the hosts in those rollouts; a gate with no data is blind, never a pass, and a host no gate watched is not covered.' },
];

/** Upper bounds of the bins, per unit; the last bin is open-ended. */
export const HISTOGRAM_BOUNDS = {
  hours: [1, 4, 12, 24, 48, 72, 168, 336, 720, 2160],
  days: [1, 7, 30, 90, 180, 365],
  minutes: [1, 5, 15, 30, 60, 240, 1440],
} as const;
export type HistogramUnit = keyof typeof HISTOGRAM_BOUNDS;

/** Durations as counts per bin (`bins[i]` below `bounds[i]`, the last one above them all) and their sum. */
export interface DurationHistogram {
  bins: number[];
  sum: number;
}

export interface DurationSummary {
  count: number;
  mean: number | null;
  median: number | null;
  p90: number | null;
}

export interface CanaryVerdicts {
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
}

/** Hosts of one compliance kind: alike in freshness, earliest open due time and acceptance. */
export interface ComplianceHostGroup {
  hosts: number;
  /** Missed its check-ins: not evaluated. */
  stale: boolean;
  /** The earliest SLA due time of its open findings no accepted risk in force covers. */
  earliestDueAt?: Date;
  /** Some open finding is covered by an accepted risk in force. */
  accepted: boolean;
}

/** What the store aggregates for one bucket × team; event facts are also split by day (UTC, YYYY-MM-DD). */
export interface SeedMetricFacts {
  bucket: string;
  team: string;
  /** Set on facts of what happened that day; state facts (hosts as they are now) have none. */
  day?: string;
  hosts: number;
  coveredHosts: number;
  pendingRebootHosts: number;
  oldestPendingInstallAt?: Date;
  timeToInstalledHours: DurationHistogram;
  timeToLiveHours: DurationHistogram;
  openAgeDays: DurationHistogram;
  finishedRollouts: number;
  rolledBackRollouts: number;
  attemptedHosts: number;
  rolledBackHosts: number;
  failureDetectionMinutes: DurationHistogram;
  canaryWaves: CanaryVerdicts;
  hostsInRollouts: number;
  observedHosts: number;
  compliance: ComplianceHostGroup[];
}

export interface SeedMetricValues {
  timeToInstalled: DurationSummary;
  timeToLive: DurationSummary;
  patchCoverage: { ratio: number | null; covered: number; hosts: number };
  rollbackRate: { ratio: number | null; hostRatio: number | null; finishedRollouts: number; rolledBackRollouts: number; attemptedHosts: number; rolledBackHosts: number };
  timeToDetectFailedPatch: DurationSummary;
  pendingReboots: { hosts: number; oldestDays: number | null };
  vulnerabilityAge: DurationSummary;
  compliancePassRate: { ratio: number | null; evaluated: number; compliant: number; nonCompliant: number; excepted: number; unknown: number };
  canarySuccessRate: CanaryVerdicts & { ratio: number | null; evaluated: number };
  observabilityCoverage: { ratio: number | null; observed: number; hosts: number };
}

export interface SeedMetricsReport {
  generatedAt: string;
  days: number;
  definitions: readonly SeedMetricDefinition[];
  fleet: SeedMetricValues;
  buckets: Array<{ name: string; values: SeedMetricValues }>;
  teams: Array<{ name: string; values: SeedMetricValues }>;
  /** The event metrics per day, oldest first: what moved, when. */
  daily: DailyMetrics[];
  /** The same per team: a team whose time to patch creeps up shows it here. */
  teamDaily: Array<{ name: string; points: DailyMetrics[] }>;
}

/** The metrics of what happened on one day (UTC). */
export interface DailyMetrics {
  day: string;
  timeToInstalled: DurationSummary;
  timeToLive: DurationSummary;
  rollbackRate: SeedMetricValues['rollbackRate'];
  timeToDetectFailedPatch: DurationSummary;
}

const DAY_MS = 86_400_000;

export function emptyHistogram(unit: HistogramUnit): DurationHistogram {
  return { bins: new Array<number>(HISTOGRAM_BOUNDS[unit].length + 1).fill(0), sum: 0 };
}

/** Facts with nothing in them, for a bucket × team (and day). */
export function emptyFacts(bucket: string, team: string, day?: string): SeedMetricFacts {
  return {
    bucket, team, ...(day !== undefined ? { day } : {}),
    hosts: 0, coveredHosts: 0, pendingRebootHosts: 0,
    timeToInstalledHours: emptyHistogram('hours'), timeToLiveHours: emptyHistogram('hours'), openAgeDays: emptyHistogram('days'),
    finishedRollouts: 0, rolledBackRollouts: 0, attemptedHosts: 0, rolledBackHosts: 0,
    failureDetectionMinutes: emptyHistogram('minutes'),
    canaryWaves: { successful: 0, failed: 0, inconclusive: 0, error: 0 },
    hostsInRollouts: 0, observedHosts: 0, compliance: [],
  };
}

function addHistograms(a: DurationHistogram, b: DurationHistogram): DurationHistogram {
  return { bins: a.bins.map((count, index) => count + (b.bins[index] ?? 0)), sum: a.sum + b.sum };
}

function earlier(a: Date | undefined, b: Date | undefined): Date | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.getTime() <= b.getTime() ? a : b;
}

/** The sum of facts: every field adds up, the oldest pending install is the earliest. */
export function addFacts(a: SeedMetricFacts, b: SeedMetricFacts): SeedMetricFacts {
  const oldest = earlier(a.oldestPendingInstallAt, b.oldestPendingInstallAt);
  return {
    bucket: a.bucket, team: a.team, ...(a.day !== undefined ? { day: a.day } : {}),
    hosts: a.hosts + b.hosts,
    coveredHosts: a.coveredHosts + b.coveredHosts,
    pendingRebootHosts: a.pendingRebootHosts + b.pendingRebootHosts,
    ...(oldest ? { oldestPendingInstallAt: oldest } : {}),
    timeToInstalledHours: addHistograms(a.timeToInstalledHours, b.timeToInstalledHours),
    timeToLiveHours: addHistograms(a.timeToLiveHours, b.timeToLiveHours),
    openAgeDays: addHistograms(a.openAgeDays, b.openAgeDays),
    finishedRollouts: a.finishedRollouts + b.finishedRollouts,
    rolledBackRollouts: a.rolledBackRollouts + b.rolledBackRollouts,
    attemptedHosts: a.attemptedHosts + b.attemptedHosts,
    rolledBackHosts: a.rolledBackHosts + b.rolledBackHosts,
    failureDetectionMinutes: addHistograms(a.failureDetectionMinutes, b.failureDetectionMinutes),
    canaryWaves: {
      successful: a.canaryWaves.successful + b.canaryWaves.successful,
      failed: a.canaryWaves.failed + b.canaryWaves.failed,
      inconclusive: a.canaryWaves.inconclusive + b.canaryWaves.inconclusive,
      error: a.canaryWaves.error + b.canaryWaves.error,
    },
    hostsInRollouts: a.hostsInRollouts + b.hostsInRollouts,
    observedHosts: a.observedHosts + b.observedHosts,
    compliance: [...a.compliance, ...b.compliance],
  };
}

/**
 * The q-quantile of a histogram, interpolated linearly inside its bin (as Prometheus's
 * histogram_quantile); in the open last bin, its lower bound.
 *
 * @example histogramQuantile({ bins: [0, 2, 0], sum: 5 }, [1, 4], 0.5) // 2.5
 */
export function histogramQuantile(histogram: DurationHistogram, bounds: readonly number[], q: number): number | null {
  const total = histogram.bins.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let index = 0; index < histogram.bins.length; index++) {
    const count = histogram.bins[index]!;
    if (count > 0 && below + count >= rank) {
      const lower = index === 0 ? 0 : bounds[index - 1]!;
      if (index >= bounds.length) return lower;
      return lower + (bounds[index]! - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return bounds[bounds.length - 1]!;
}

export function summarizeDurations(histogram: DurationHistogram, unit: HistogramUnit): DurationSummary {
  const count = histogram.bins.reduce((sum, binCount) => sum + binCount, 0);
  const bounds = HISTOGRAM_BOUNDS[unit];
  return { count, mean: count === 0 ? null : histogram.sum / count, median: histogramQuantile(histogram, bounds, 0.5), p90: histogramQuantile(histogram, bounds, 0.9) };
}

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/**
 * Hosts by compliance: stale ones are unknown; a host with an open finding past due is
 * non-compliant (evidenceStatus: pending reboot is judged as vulnerable), else excepted when an
 * accepted risk covers one of its open findings, else compliant.
 */
export function complianceCounts(groups: readonly ComplianceHostGroup[], now: Date): SeedMetricValues['compliancePassRate'] {
  const counts = { compliant: 0, nonCompliant: 0, excepted: 0, unknown: 0 };
  for (const group of groups) {
    if (group.stale) {
      counts.unknown += group.hosts;
      continue;
    }
    const earliest = group.earliestDueAt ? evidenceStatus({ findingState: 'vulnerable', dueAt: group.earliestDueAt }, now) : 'open';
    if (earliest === 'non-compliant') counts.nonCompliant += group.hosts;
    else if (group.accepted) counts.excepted += group.hosts;
    else counts.compliant += group.hosts;
  }
  const evaluated = counts.compliant + counts.nonCompliant + counts.excepted;
  return { ratio: ratio(counts.compliant, evaluated), evaluated, ...counts };
}

function rollbackRate(facts: SeedMetricFacts): SeedMetricValues['rollbackRate'] {
  return {
    ratio: ratio(facts.rolledBackRollouts, facts.finishedRollouts),
    hostRatio: ratio(facts.rolledBackHosts, facts.attemptedHosts),
    finishedRollouts: facts.finishedRollouts, rolledBackRollouts: facts.rolledBackRollouts,
    attemptedHosts: facts.attemptedHosts, rolledBackHosts: facts.rolledBackHosts,
  };
}

/**
 * The metrics of a set of facts (one group's, or all of them summed), at `now`.
 *
 * @example seedMetricValues([facts], new Date()).patchCoverage.ratio
 */
export function seedMetricValues(facts: readonly SeedMetricFacts[], now: Date): SeedMetricValues {
  const total = facts.reduce(addFacts, emptyFacts('', ''));
  const evaluatedCanaries = total.canaryWaves.successful + total.canaryWaves.failed;
  return {
    timeToInstalled: summarizeDurations(total.timeToInstalledHours, 'hours'),
    timeToLive: summarizeDurations(total.timeToLiveHours, 'hours'),
    patchCoverage: { ratio: ratio(total.coveredHosts, total.hosts), covered: total.coveredHosts, hosts: total.hosts },
    rollbackRate: rollbackRate(total),
    timeToDetectFailedPatch: summarizeDurations(total.failureDetectionMinutes, 'minutes'),
    pendingReboots: { hosts: total.pendingRebootHosts, oldestDays: total.oldestPendingInstallAt ? (now.getTime() - total.oldestPendingInstallAt.getTime()) / DAY_MS : null },
    vulnerabilityAge: summarizeDurations(total.openAgeDays, 'days'),
    compliancePassRate: complianceCounts(total.compliance, now),
    canarySuccessRate: { ...total.canaryWaves, ratio: ratio(total.canaryWaves.successful, evaluatedCanaries), evaluated: evaluatedCanaries },
    observabilityCoverage: { ratio: ratio(total.observedHosts, total.hostsInRollouts), observed: total.observedHosts, hosts: total.hostsInRollouts },
  };
}

function groupBy(facts: readonly SeedMetricFacts[], key: (fact: SeedMetricFacts) => string): Map<string, SeedMetricFacts[]> {
  const groups = new Map<string, SeedMetricFacts[]>();
  for (const fact of facts) {
    const name = key(fact);
    groups.set(name, [...(groups.get(name) ?? []), fact]);
  }
  return groups;
}

const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The report the API serves: the fleet, each bucket and each team, and the event metrics per day.
 *
 * @example seedMetricsReport(await seedMetricFacts(pool, options), { now, days: 30 })
 */
export function seedMetricsReport(facts: readonly SeedMetricFacts[], options: { now: Date; days: number }): SeedMetricsReport {
  const per = (key: (fact: SeedMetricFacts) => string) =>
    [...groupBy(facts, key)].map(([name, group]) => ({ name, values: seedMetricValues(group, options.now) })).sort(byName);
  const events = facts.filter((fact) => fact.day !== undefined);
  const daily = (group: readonly SeedMetricFacts[]): DailyMetrics[] => [...groupBy(group, (fact) => fact.day!)]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, dayFacts]) => {
      const values = seedMetricValues(dayFacts, options.now);
      return { day, timeToInstalled: values.timeToInstalled, timeToLive: values.timeToLive, rollbackRate: values.rollbackRate, timeToDetectFailedPatch: values.timeToDetectFailedPatch };
    });
  return {
    generatedAt: options.now.toISOString(),
    days: options.days,
    definitions: SEED_METRICS,
    fleet: seedMetricValues(facts, options.now),
    buckets: per((fact) => fact.bucket),
    teams: per((fact) => fact.team),
    daily: daily(events),
    teamDaily: [...groupBy(events, (fact) => fact.team)].map(([name, group]) => ({ name, points: daily(group) })).sort(byName),
  };
}
