// The fleet at a glance: headline numbers, the charts people look at rather than read, each team's
// days behind and coverage over the last 90 days, the replace buckets' baseline images (when the
// policy has any), the tables per bucket and team, the longest uptimes and the worst hosts.
import { count, days, percent } from '../format.js';
import { html } from '../html.js';
import { useApi } from '../use-api.js';
import { BaselineImageChart } from './baseline-image-chart.js';
import { DaysBehindChart } from './days-behind-chart.js';
import { FindingsBySeverityChart } from './findings-by-severity-chart.js';
import { FleetTable } from './fleet-table.js';
import { HostList } from './host-list.js';
import { PatchCoverageChart } from './patch-coverage-chart.js';
import { StatCard } from './stat-card.js';
import { TrendChart } from './trend-chart.js';
import { UptimeBandsChart } from './uptime-bands-chart.js';
import { UptimeTable } from './uptime-table.js';

const NO_FILTERS = new URLSearchParams();

export function OverviewPage() {
  const summary = useApi('/api/v1/fleet/summary');
  const images = useApi('/api/v1/images');
  const trends = useApi('/api/v1/fleet/trends?dimension=team&days=90');
  if (!summary) return null;
  const { fleet, buckets, teams } = summary;
  return html`<div class="cards">
      <${StatCard} label="hosts" value=${count(fleet.hosts)} testid="total-hosts" />
      <${StatCard} label="patch coverage" value=${percent(fleet.patchCoverage)} testid="total-coverage" />
      <${StatCard} label="critical open" value=${count(fleet.openFindings.critical)} testid="total-critical" tone=${fleet.openFindings.critical ? 'bad' : ''} />
      <${StatCard} label="high open" value=${count(fleet.openFindings.high)} testid="total-high" tone=${fleet.openFindings.high ? 'bad' : ''} />
      <${StatCard} label="pending reboots" value=${count(fleet.pendingReboots)} testid="total-pending-reboots" tone=${fleet.pendingReboots ? 'warn' : ''} />
      <${StatCard} label="stale hosts" value=${count(fleet.staleHosts)} testid="total-stale" tone=${fleet.staleHosts ? 'warn' : ''} />
      <${StatCard} label="avg days behind" value=${days(fleet.daysBehind)} testid="total-days-behind" />
    </div>
    <div class="charts">
      <${FindingsBySeverityChart} buckets=${buckets} />
      <${DaysBehindChart} teams=${teams} />
      <${UptimeBandsChart} buckets=${buckets} />
      <${PatchCoverageChart} buckets=${buckets} />
    </div>
    ${trends ? html`<div class="charts">
      <${TrendChart} testid="days-behind" title="Days behind, last 90 days" note="per owner team, from the daily snapshots: a line that creeps up is a team falling behind" trends=${trends} value=${(point) => point.daysBehind} format=${days} />
      <${TrendChart} testid="coverage" title="Patch coverage, last 90 days" note="per owner team: the share of hosts with no open finding" trends=${trends} value=${(point) => point.patchCoverage} format=${percent} />
    </div>` : null}
    ${images?.buckets.length ? html`<${BaselineImageChart} buckets=${images.buckets} />` : null}
    <${FleetTable} title="Buckets" rows=${buckets} dimension="bucket" />
    <${FleetTable} title="Owner teams" rows=${teams} dimension="team" />
    <${UptimeTable} hosts=${summary.longestUptimes} />
    <${HostList} query=${NO_FILTERS} />`;
}
