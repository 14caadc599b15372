// An incident's scope per bucket (or team) as stacked bars: vulnerable, patched but pending reboot,
// live, excluded and unknown, each row's numbers beside its bar (the bar for the eye, the numbers
// for screen readers and the tests).
import { count } from '../format.js';
import { html } from '../html.js';

/** The scope's statuses in the order a bar stacks them, with their colours. */
export const SCOPE_STATUSES = [
  { key: 'vulnerable', label: 'vulnerable', color: 'var(--bad)' },
  { key: 'pendingReboot', label: 'pending reboot', color: 'var(--warn)' },
  { key: 'live', label: 'live', color: 'var(--good)' },
  { key: 'excluded', label: 'excluded', color: 'var(--muted)' },
  { key: 'unknown', label: 'unknown', color: '#b48cff' },
];

/** `3 vulnerable, 1 pending reboot, 8 live` (zeros left out). */
export const scopeCountsText = (counts) => SCOPE_STATUSES.filter((status) => counts[status.key] > 0).map((status) => `${count(counts[status.key])} ${status.label}`).join(', ') || 'no hosts';

/**
 * @param {{ rows: Array<{ name: string, counts: Record<string, number> }>, heading: string, testid: string }} props
 */
export function IncidentScopeBars({ rows, heading, testid }) {
  const widest = Math.max(1, ...rows.map((row) => row.counts.hosts));
  return html`<table class="scope-bars" data-testid=${testid}>
    <thead><tr><th>${heading}</th><th class="num">hosts</th><th>status</th></tr></thead>
    <tbody>${rows.map((row) => html`<tr key=${row.name} data-testid=${`${testid}-${row.name}`}>
      <td>${row.name}</td><td class="num">${count(row.counts.hosts)}</td>
      <td><span class="state-bar" aria-hidden="true" style=${`width: ${Math.max(8, (row.counts.hosts / widest) * 100)}%`}>${SCOPE_STATUSES.filter((status) => row.counts[status.key] > 0).map((status) => html`<span key=${status.key}
        title=${`${row.counts[status.key]} ${status.label}`} style=${`width: ${(row.counts[status.key] / Math.max(row.counts.hosts, 1)) * 100}%; background: ${status.color}`}></span>`)}</span>
        <span class="state-counts" data-testid=${`${testid}-${row.name}-text`}>${scopeCountsText(row.counts)}</span></td>
    </tr>`)}</tbody>
  </table>`;
}
