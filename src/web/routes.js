// The dashboard's pages: a path pattern (its one capture group is the page's parameter), the page
// component, and a label for those listed in the navigation. A new page is one entry.
import { AdvisoryPage } from './components/advisory-page.js';
import { ComplianceReportPage } from './components/compliance-report-page.js';
import { DebugPage } from './components/debug-page.js';
import { ExecutivePage } from './components/executive-page.js';
import { HostList } from './components/host-list.js';
import { IncidentList } from './components/incident-list.js';
import { IncidentPage } from './components/incident-page.js';
import { HostPage } from './components/host-page.js';
import { OnCallPage } from './components/on-call-page.js';
import { OverviewPage } from './components/overview-page.js';
import { PlanPage } from './components/plan-page.js';
import { RolloutList } from './components/rollout-list.js';
import { RolloutPage } from './components/rollout-page.js';

export const ROUTES = [
  { name: 'overview', pattern: /^\/$/, page: OverviewPage, navigation: { label: 'Overview', href: '#/' } },
  { name: 'hosts', pattern: /^\/hosts$/, page: HostList, navigation: { label: 'Hosts', href: '#/hosts' } },
  { name: 'plan', pattern: /^\/plan$/, page: PlanPage, navigation: { label: 'Plan', href: '#/plan' } },
  { name: 'rollouts', pattern: /^\/rollouts$/, page: RolloutList, navigation: { label: 'Rollouts', href: '#/rollouts' } },
  { name: 'rollout', pattern: /^\/rollouts\/(.+)$/, page: RolloutPage },
  { name: 'incidents', pattern: /^\/incidents$/, page: IncidentList, navigation: { label: 'Incidents', href: '#/incidents' } },
  { name: 'incident', pattern: /^\/incidents\/(.+)$/, page: IncidentPage },
  { name: 'executive', pattern: /^\/executive$/, page: ExecutivePage, navigation: { label: 'Executive', href: '#/executive' } },
  { name: 'on-call', pattern: /^\/on-call$/, page: OnCallPage, navigation: { label: 'On call', href: '#/on-call' } },
  { name: 'debug', pattern: /^\/debug$/, page: DebugPage, navigation: { label: 'Debug', href: '#/debug' } },
  { name: 'reports', pattern: /^\/reports$/, page: ComplianceReportPage, navigation: { label: 'Reports', href: '#/reports' } },
  { name: 'host', pattern: /^\/host\/(.+)$/, page: HostPage },
  { name: 'advisory', pattern: /^\/advisory\/(.+)$/, page: AdvisoryPage },
];

/** Unknown paths show the overview, as a bare `/` does. */
export const FALLBACK_ROUTE = ROUTES[0];
