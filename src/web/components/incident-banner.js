// The active incidents on top of every page: what, since when, how far the fix is live, a link to
// the incident. Nothing when none is open.
import { html } from '../html.js';
import { incidentHref } from '../router.js';
import { utc } from '../format.js';
import { useApi } from '../use-api.js';
import { scopeCountsText } from './incident-scope-bars.js';

export function IncidentBanner() {
  const incidents = useApi('/api/v1/incidents?state=open&limit=5');
  if (!incidents || incidents.length === 0) return null;
  return html`<div class="banner-slot" data-testid="banner"><ul class="incident-banner">${incidents.map((incident) => html`<li key=${incident.id} data-testid=${`banner-${incident.label}`}>
    <a href=${incidentHref(incident.id)}>${incident.label}</a> open since ${utc(incident.openedAt)}: ${incident.title}
    — <span data-testid=${`banner-${incident.label}-scope`}>${incident.scope.total.live} of ${incident.scope.total.hosts} hosts live (${scopeCountsText(incident.scope.total)})</span>
  </li>`)}</ul></div>`;
}
