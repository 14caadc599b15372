// The hosts up the longest: an old boot means kernel fixes that are on disk but not live.
import { wholeDays } from '../format.js';
import { html } from '../html.js';
import { hostHref } from '../router.js';

/** @param {{ hosts: Array<{ host: string, bucket: string, team: string, uptimeDays: number, rebootRequired: boolean }> }} props */
export function UptimeTable({ hosts }) {
  return html`<section>
    <h2>Longest uptimes</h2>
    <p class="hint">412 days up is a liability, not a badge.</p>
    <table data-testid="uptime-table">
      <thead><tr><th>host</th><th>bucket</th><th>team</th><th class="num">uptime (days)</th><th>reboot required</th></tr></thead>
      <tbody>
        ${hosts.map((host) => html`<tr key=${host.host}>
          <td class="host-name"><a href=${hostHref(host.host)}>${host.host}</a></td><td class="label">${host.bucket}</td><td class="label">${host.team}</td>
          <td class="num">${wholeDays(host.uptimeDays)}</td><td>${host.rebootRequired ? 'yes' : ''}</td>
        </tr>`)}
      </tbody>
    </table>
  </section>`;
}
