/**
 * /metrics in Prometheus format: the same fleet numbers as the API and dashboard, labelled by
 * bucket and team only (bounded cardinality: no per-host or per-package labels), plus the
 * server's own health.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { FleetRow } from '../store/fleet-queries.js';
import type { SummaryCache } from './summary-cache.js';

export interface FleetMetrics {
  contentType: string;
  render(): Promise<string>;
  checkIns: Counter<'kind'>;
  requestDuration: Histogram<'route' | 'status'>;
}

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'other'] as const;

export function createFleetMetrics(summaries: SummaryCache): FleetMetrics {
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

  return {
    contentType: registry.contentType,
    checkIns,
    requestDuration,
    async render() {
      const summary = await summaries.get();
      for (const gaugeToReset of [hosts, stale, coverage, findings, reboots, daysBehind, availableUpdates, uptime, uptimeBands]) gaugeToReset.reset();
      for (const row of [summary.fleet, ...summary.buckets, ...summary.teams]) set(row);
      return registry.metrics();
    },
  };
}
