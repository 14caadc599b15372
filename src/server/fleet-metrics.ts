/**
 * /metrics in Prometheus format: the same fleet numbers as the API and dashboard, labelled by
 * bucket and team only (bounded cardinality: no per-host or per-package labels), rollouts and
 * their hosts by state (from the database, so every replica shows the same), this replica's
 * rollout transitions and halts by reason, and the server's own health.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
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

export function createFleetMetrics(summaries: SummaryCache, rolloutCounts?: () => Promise<RolloutMetricCounts>): FleetMetrics {
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
      const [summary, counts] = await Promise.all([summaries.get(), rolloutCounts?.()]);
      for (const gaugeToReset of [hosts, stale, coverage, findings, reboots, daysBehind, availableUpdates, uptime, uptimeBands, rollouts, rolloutHosts, gateMeasurements]) gaugeToReset.reset();
      for (const row of [summary.fleet, ...summary.buckets, ...summary.teams]) set(row);
      for (const row of counts?.rollouts ?? []) rollouts.set({ bucket: row.bucket, state: row.state }, row.count);
      for (const row of counts?.hosts ?? []) rolloutHosts.set({ bucket: row.bucket, state: row.state }, row.count);
      for (const row of counts?.gateMeasurements ?? []) gateMeasurements.set({ phase: row.phase }, row.count);
      return registry.metrics();
    },
  };
}
