/**
 * /metrics in Prometheus format: the same fleet numbers as the API and dashboard, labelled by
 * bucket and team only (bounded cardinality: no per-host or per-package labels), rollouts and
 * their hosts by state (from the database, so every replica shows the same), this replica's
 * rollout transitions and halts by reason, the seed's metrics (seed-metrics.ts, over the last 30
 * days, per bucket, team and the fleet), and the server's own health.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DurationSummary, SeedMetricsReport, SeedMetricValues } from '../domain/reporting/seed-metrics.js';
import type { FleetRow } from '../store/fleet-queries.js';
import type { RolloutMetricCounts } from '../store/rollout-metrics.js';
import type { SummaryCache } from './summary-cache.js';

export interface FleetMetrics {
  contentType: string;
  render(): Promise<string>;
  checkIns: Counter<'kind'>;
  requestDuration: Histogram<'route' | 'status'>;
  /** Host transitions this replica's engine wrote, by the state entered. */
  rolloutTransitions: Counter<'bucket' | 'to'>;
  rolloutHalts: Counter<'bucket' | 'reason'>;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'other'] as const;

export function createFleetMetrics(summaries: SummaryCache, rolloutCounts?: () => Promise<RolloutMetricCounts>, seedMetrics?: () => Promise<SeedMetricsReport>): FleetMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fleetpatch_server_' });
  const labels = ['dimension', 'name'] as const;
  const gauge = (name: string, help: string, extra: string[] = []) => new Gauge({ name, help, labelNames: [...labels, ...extra], registers: [registry] });
  const hosts = gauge('fleetpatch_hosts', 'Hosts, per bucket or team (dimension) and the fleet');
  const stale = gauge('fleetpatch_hosts_stale', 'Hosts that missed their check-ins');
  const coverage = gauge('fleetpatch_patch_coverage_ratio', 'Share of hosts with no open finding');
  const findings = gauge('fleetpatch_open_findings', 'Open findings (vulnerable or pending reboot) by severity', ['severity']);
  const reboots = gauge('fleetpatch_pending_reboots', 'Hosts that wait for a reboot to make a fix live');
  const daysBehind = gauge('fleetpatch_days_behind', 'Average days since the open fixes (advisory fixes and other pending upgrades) became available');
  const availableUpdates = gauge('fleetpatch_available_updates', 'Upgrades the hosts\' package managers offer');
  const uptime = gauge('fleetpatch_uptime_max_days', 'Longest uptime in days');
  const uptimeBands = gauge('fleetpatch_hosts_by_uptime', 'Hosts by uptime band', ['band']);

  const timeToPatch = gauge('fleetpatch_time_to_patch_hours', 'Time to patch over the last 30 days: from first seen to installed or to live (stage), as mean, median or p90 (statistic)', ['stage', 'statistic']);
  const criticalCoverage = gauge('fleetpatch_critical_patch_coverage_ratio', 'Share of hosts with no open critical or known-exploited finding and a fresh check-in (stale hosts are not covered)');
  const rollbackRatio = gauge('fleetpatch_rollback_ratio', 'Over the last 30 days: finished rollouts that rolled a host back per finished rollout, or hosts rolled back per host attempted (of)', ['of']);
  const failureDetection = gauge('fleetpatch_failed_patch_detection_minutes', 'Time to detect a failed patch over the last 30 days: from the failing step\'s start to the failure recorded', ['statistic']);
  const oldestPendingReboot = gauge('fleetpatch_pending_reboot_oldest_days', 'Age of the oldest fix installed and still waiting for a reboot');
  const vulnerabilityAge = gauge('fleetpatch_vulnerability_age_days', 'Age of the open findings from first seen (stale hosts keep ageing)', ['statistic']);
  const compliancePass = gauge('fleetpatch_compliance_pass_ratio', 'Compliant hosts per evaluated (fresh) host: none with a finding open past its SLA (pending reboot included)');
  const complianceHosts = gauge('fleetpatch_compliance_hosts', 'Hosts by compliance status (compliant, non-compliant, excepted, unknown)', ['status']);
  const canarySuccess = gauge('fleetpatch_canary_success_ratio', 'Canary waves whose gates passed per canary wave evaluated, rollouts of the last 30 days');
  const canaryWaves = gauge('fleetpatch_canary_waves', 'Canary waves by gate verdict (successful, failed, inconclusive, error), rollouts of the last 30 days', ['verdict']);
  const observability = gauge('fleetpatch_observability_coverage_ratio', 'Hosts of the last 30 days\' rollouts with a fresh check-in and every gate run watching them returning data, per host in those rollouts');
  const seedGauges = [timeToPatch, criticalCoverage, rollbackRatio, failureDetection, oldestPendingReboot, vulnerabilityAge, compliancePass, complianceHosts, canarySuccess, canaryWaves, observability];

  const setSeed = (target: { dimension: string; name: string }, values: SeedMetricValues) => {
    // A metric with nothing to measure (no fix in the period, no canary) has no sample, not a zero.
    const maybe = (metric: Gauge, labels: Record<string, string>, value: number | null) => {
      if (value !== null) metric.set({ ...target, ...labels }, value);
    };
    const durations = (metric: Gauge, labels: Record<string, string>, summary: DurationSummary) => {
      for (const statistic of ['mean', 'median', 'p90'] as const) maybe(metric, { ...labels, statistic }, summary[statistic]);
    };
    durations(timeToPatch, { stage: 'installed' }, values.timeToInstalled);
    durations(timeToPatch, { stage: 'live' }, values.timeToLive);
    maybe(criticalCoverage, {}, values.patchCoverage.ratio);
    maybe(rollbackRatio, { of: 'rollouts' }, values.rollbackRate.ratio);
    maybe(rollbackRatio, { of: 'hosts' }, values.rollbackRate.hostRatio);
    durations(failureDetection, {}, values.timeToDetectFailedPatch);
    maybe(oldestPendingReboot, {}, values.pendingReboots.oldestDays);
    durations(vulnerabilityAge, {}, values.vulnerabilityAge);
    maybe(compliancePass, {}, values.compliancePassRate.ratio);
    const compliance = values.compliancePassRate;
    for (const [status, count] of [['compliant', compliance.compliant], ['non-compliant', compliance.nonCompliant], ['excepted', compliance.excepted], ['unknown', compliance.unknown]] as const) complianceHosts.set({ ...target, status }, count);
    maybe(canarySuccess, {}, values.canarySuccessRate.ratio);
    for (const verdict of ['successful', 'failed', 'inconclusive', 'error'] as const) canaryWaves.set({ ...target, verdict }, values.canarySuccessRate[verdict]);
    maybe(observability, {}, values.observabilityCoverage.ratio);
  };

  const set = (row: FleetRow) => {
    const target = { dimension: row.dimension, name: row.name };
    hosts.set(target, row.hosts);
    stale.set(target, row.staleHosts);
    coverage.set(target, row.patchCoverage);
    for (const severity of SEVERITIES) findings.set({ ...target, severity }, row.openFindings[severity]);
    reboots.set(target, row.pendingReboots);
    daysBehind.set(target, row.daysBehind);
    availableUpdates.set(target, row.availableUpdates);
    uptime.set(target, row.maxUptimeDays);
    for (const [band, count] of Object.entries(row.uptimeDays)) uptimeBands.set({ ...target, band }, count);
  };

  const checkIns = new Counter({ name: 'fleetpatch_server_checkins_total', help: 'Agent check-ins by kind', labelNames: ['kind'], registers: [registry] });
  const requestDuration = new Histogram({
    name: 'fleetpatch_server_http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['route', 'status'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [registry],
  });

  const rollouts = new Gauge({ name: 'fleetpatch_rollouts', help: 'Rollouts by bucket and state', labelNames: ['bucket', 'state'], registers: [registry] });
  const rolloutHosts = new Gauge({ name: 'fleetpatch_rollout_hosts', help: 'Hosts of rollouts that have not ended, by bucket and state', labelNames: ['bucket', 'state'], registers: [registry] });
  const gateMeasurements = new Gauge({ name: 'fleetpatch_gate_measurements', help: 'Gate measurements taken, by phase (successful, failed, inconclusive, error)', labelNames: ['phase'], registers: [registry] });
  const rolloutTransitions = new Counter({ name: 'fleetpatch_rollout_host_transitions_total', help: 'Host transitions written by this replica\'s rollout engine, by the state entered', labelNames: ['bucket', 'to'], registers: [registry] });
  const rolloutHalts = new Counter({ name: 'fleetpatch_rollout_halts_total', help: 'Rollouts this replica halted, by reason (gate-failed, budget-spent, stuck-host)', labelNames: ['bucket', 'reason'], registers: [registry] });

  return {
    contentType: registry.contentType,
    checkIns,
    requestDuration,
    rolloutTransitions,
    rolloutHalts,
    async render() {
      const [summary, counts, seed] = await Promise.all([summaries.get(), rolloutCounts?.(), seedMetrics?.()]);
      for (const gaugeToReset of [hosts, stale, coverage, findings, reboots, daysBehind, availableUpdates, uptime, uptimeBands, rollouts, rolloutHosts, gateMeasurements, ...seedGauges]) gaugeToReset.reset();
      for (const row of [summary.fleet, ...summary.buckets, ...summary.teams]) set(row);
      for (const row of counts?.rollouts ?? []) rollouts.set({ bucket: row.bucket, state: row.state }, row.count);
      for (const row of counts?.hosts ?? []) rolloutHosts.set({ bucket: row.bucket, state: row.state }, row.count);
      for (const row of counts?.gateMeasurements ?? []) gateMeasurements.set({ phase: row.phase }, row.count);
      if (seed) {
        setSeed({ dimension: 'fleet', name: 'fleet' }, seed.fleet);
        for (const bucket of seed.buckets) setSeed({ dimension: 'bucket', name: bucket.name }, bucket.values);
        for (const team of seed.teams) setSeed({ dimension: 'team', name: team.name }, team.values);
      }
      return registry.metrics();
    },
  };
}
