import { describe, expect, it } from 'vitest';
import { complianceCounts, emptyFacts, histogramQuantile, seedMetricsReport, type SeedMetricFacts } from './seed-metrics.js';

const now = new Date('2026-12-10T00:00:00Z');

describe('seed metrics', () => {
  it('reads quantiles from the bins, interpolating inside one, the open last bin at its lower bound', () => {
    expect(histogramQuantile({ bins: [0, 2, 0], sum: 5 }, [1, 4], 0.5)).toBe(2.5);
    expect(histogramQuantile({ bins: [1, 0, 3], sum: 30 }, [1, 4], 0.9)).toBe(4);
    expect(histogramQuantile({ bins: [0, 0, 0], sum: 0 }, [1, 4], 0.5)).toBeNull();
  });

  it('counts a host past due non-compliant before an acceptance excepts it, and a stale one unknown', () => {
    const due = (days: number) => new Date(now.getTime() + days * 86_400_000);
    expect(complianceCounts([
      { hosts: 3, stale: false, earliestDueAt: due(-1), accepted: true },
      { hosts: 2, stale: false, earliestDueAt: due(1), accepted: true },
      { hosts: 4, stale: false, accepted: false },
      { hosts: 5, stale: true, earliestDueAt: due(-9), accepted: false },
    ], now)).toEqual({ ratio: 4 / 9, evaluated: 9, compliant: 4, nonCompliant: 3, excepted: 2, unknown: 5 });
  });

  it('adds up buckets and teams from the bucket × team facts, and splits the event metrics by day', () => {
    const facts: SeedMetricFacts[] = [
      { ...emptyFacts('web', 'shop'), hosts: 4, coveredHosts: 3 },
      { ...emptyFacts('db', 'shop'), hosts: 6, coveredHosts: 3, oldestPendingInstallAt: new Date('2026-12-08T00:00:00Z'), pendingRebootHosts: 2 },
      { ...emptyFacts('db', 'data'), hosts: 10, coveredHosts: 10 },
      { ...emptyFacts('db', 'shop', '2026-12-09'), finishedRollouts: 2, rolledBackRollouts: 1, attemptedHosts: 8, rolledBackHosts: 1 },
    ];
    const report = seedMetricsReport(facts, { now, days: 30 });
    expect(report.fleet.patchCoverage).toEqual({ ratio: 16 / 20, covered: 16, hosts: 20 });
    expect(report.fleet.pendingReboots).toEqual({ hosts: 2, oldestDays: 2 });
    expect(report.teams.map((team) => [team.name, team.values.patchCoverage.ratio])).toEqual([['data', 1], ['shop', 0.6]]);
    expect(report.buckets.map((bucket) => [bucket.name, bucket.values.rollbackRate.ratio])).toEqual([['db', 0.5], ['web', null]]);
    expect(report.daily).toHaveLength(1);
    expect(report.daily[0]).toMatchObject({ day: '2026-12-09', rollbackRate: { ratio: 0.5, hostRatio: 1 / 8 } });
    expect(report.teamDaily.map((team) => [team.name, team.points.map((point) => point.day)])).toEqual([['shop', ['2026-12-09']]]);
  });
});
