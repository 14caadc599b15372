// Per bucket or per owner team: hosts, staleness, coverage, open findings, reboots, updates, days behind.
import { count, days, percent, wholeDays } from '../format.js';
import { html } from '../html.js';
import { hostsHref } from '../router.js';
import { SeverityCells } from './severity-cells.js';

/** Uptime (days) past which a host is flagged: half a year without a reboot hides unapplied kernels. */
const LONG_UPTIME_DAYS = 180;

/** @param {{ title: string, rows: Array<object>, dimension: 'bucket' | 'team' }} props */
export function FleetTable({ title, rows, dimension }) {
  return html`<section>
    <h2>${title}</h2>
    <table data-testid=${`${dimension}-table`}>
      <thead><tr><th>${dimension}</th><th class="num">hosts</th><th class="num">stale</th><th class="num">coverage</th>
        <th class="num">critical</th><th class="num">high</th><th class="num">medium</th><th class="num">low</th>
        <th class="num">pending reboot</th><th class="num">updates</th><th class="num">days behind</th><th class="num">max uptime (d)</th></tr></thead>
      <tbody>
        ${rows.map((row) => html`<tr key=${row.name} data-testid=${`row-${row.name}`}>
          <td><a href=${hostsHref({ [dimension]: row.name })}>${row.name}</a></td>
          <td class="num" data-testid="hosts">${count(row.hosts)}</td>
          <td class=${row.staleHosts ? 'num warn' : 'num'} data-testid="stale">${count(row.staleHosts)}</td>
          <td class="num" data-testid="coverage">${percent(row.patchCoverage)}</td>
          <${SeverityCells} open=${row.openFindings} />
          <td class=${row.pendingReboots ? 'num warn' : 'num'} data-testid="pending-reboots">${count(row.pendingReboots)}</td>
          <td class="num" data-testid="available-updates">${count(row.availableUpdates)}</td>
          <td class="num" data-testid="days-behind">${days(row.daysBehind)}</td>
          <td class=${row.maxUptimeDays > LONG_UPTIME_DAYS ? 'num warn' : 'num'}>${wholeDays(row.maxUptimeDays)}</td>
        </tr>`)}
      </tbody>
    </table>
  </section>`;
}
