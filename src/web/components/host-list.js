// Hosts worst first, 50 to a page, filtered by bucket, team, search text or staleness: the hosts
// page, and the first page of it under the overview.
import { count, dateTime } from '../format.js';
import { html } from '../html.js';
import { hostHref, hostsHref } from '../router.js';
import { useApi } from '../use-api.js';
import { SeverityCells } from './severity-cells.js';

const PAGE_SIZE = 50;
const FILTERS = ['bucket', 'team', 'q', 'stale'];

/** @param {{ query: URLSearchParams }} props */
export function HostList({ query }) {
  const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
  const filters = Object.fromEntries(FILTERS.filter((key) => query.get(key)).map((key) => [key, query.get(key)]));
  const result = useApi(`/api/v1/hosts?${new URLSearchParams({ page: String(page), pageSize: String(PAGE_SIZE), ...filters })}`);
  if (!result) return null;
  const pages = Math.max(1, Math.ceil(result.total / PAGE_SIZE));
  const filterText = Object.entries(filters).map(([key, value]) => `${key}: ${value}`).join(', ');
  return html`<section>
    <h2>Hosts ${filterText ? html`<small>(${filterText}) <a href=${hostsHref()}>clear</a></small>` : null}</h2>
    <p class="hint" data-testid="host-count">
      ${count(result.total)} hosts, worst first — page ${page} of ${pages}
      ${page > 1 ? html` <a href=${hostsHref({ ...filters, page: page - 1 })}>previous</a>` : null}
      ${page < pages ? html` <a href=${hostsHref({ ...filters, page: page + 1 })}>next</a>` : null}
    </p>
    <table data-testid="host-table">
      <thead><tr><th>host</th><th>bucket</th><th>team</th><th>os</th><th>kernel</th>
        <th class="num">critical</th><th class="num">high</th><th class="num">medium</th><th class="num">low</th><th>reboot</th><th>last check-in</th></tr></thead>
      <tbody>
        ${result.hosts.map((host) => html`<tr key=${host.name} class=${host.stale ? 'stale' : ''}>
          <td class="host-name"><a href=${hostHref(host.name)}>${host.name}</a></td><td class="label">${host.bucket}</td><td class="label">${host.team}</td>
          <td>${host.os}</td><td class="mono">${host.runningKernel}</td>
          <${SeverityCells} open=${host.openFindings} />
          <td>${host.rebootRequired || host.pendingRebootFindings ? 'pending' : ''}</td>
          <td>${host.stale ? html`<span class="warn">stale</span> ` : null}${dateTime(host.lastSeenAt)}</td>
        </tr>`)}
      </tbody>
    </table>
  </section>`;
}
