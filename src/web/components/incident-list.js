// Every incident, newest first: state, what it is about, its scope as one bar, when it opened and closed.
import { count, utc } from '../format.js';
import { html } from '../html.js';
import { incidentHref } from '../router.js';
import { useApi } from '../use-api.js';
import { IncidentScopeBars } from './incident-scope-bars.js';

export function IncidentList() {
  const incidents = useApi('/api/v1/incidents?limit=200');
  if (!incidents) return null;
  return html`<h1>Incidents <small>${count(incidents.filter((incident) => incident.state === 'open').length)} open</small></h1>
    ${incidents.length === 0 ? html`<p class="hint" data-testid="no-incidents">no incidents: an advisory that meets the policy's emergency triggers opens one, or <code>fleetpatch incident open</code></p>` : html`
    <table data-testid="incident-list">
      <thead><tr><th>incident</th><th>state</th><th>title</th><th>opened</th><th>closed</th></tr></thead>
      <tbody>${incidents.map((incident) => html`<tr key=${incident.id} data-testid=${`incident-row-${incident.label}`}>
        <td><a href=${incidentHref(incident.id)}>${incident.label}</a></td><td class=${incident.state === 'open' ? 'bad' : ''}>${incident.state}</td>
        <td>${incident.title}</td><td>${utc(incident.openedAt)}</td><td>${incident.closedAt ? utc(incident.closedAt) : ''}</td>
      </tr>`)}</tbody>
    </table>
    <h2>Scope</h2>
    <${IncidentScopeBars} heading="incident" testid="incident-list-scope" rows=${incidents.map((incident) => ({ name: incident.label, counts: incident.scope.total }))} />`}`;
}
