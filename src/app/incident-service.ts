/**
 * Incidents as the control plane runs them: opened by an advisory import or sync that brings an
 * advisory meeting the policy's emergency triggers and affecting hosts (unless an open incident
 * already covers it), or by an operator; their scope computed live from the findings of their
 * advisories; closed only when that scope says every host is live or excluded. Each change is
 * written with its timeline event and an audit entry in one transaction. The decisions are the
 * pure ones in `src/domain/incidents`.
 */
import type pg from 'pg';
import type { Advisory } from '../domain/advisories/advisory.js';
import { InputError } from '../domain/errors.js';
import { computeIncidentScope, type IncidentScope } from '../domain/incidents/incident-scope.js';
import { measureIncident, type IncidentDurations, type TimelineEvent, type TimelineExport } from '../domain/incidents/incident-timeline.js';
import { decideIncidentOpening, matchEmergencyTriggers } from '../domain/incidents/incident-trigger.js';
import { emergencySchema, type Policy } from '../domain/policy/policy-schema.js';
import type { NotificationEvent } from '../domain/notifications/notification-event.js';
import type { NotificationsPolicy } from '../domain/notifications/notification-schema.js';
import { appendAudit } from '../store/audit-log.js';
import {
  addIncidentAdvisory,
  appendIncidentEvent,
  getIncident,
  incidentEvents,
  incidentRelaxations,
  incidentRollouts,
  incidentScopeFindings,
  incidentUpdates,
  insertIncident,
  lockIncident,
  lockIncidentOpening,
  markIncidentClosed,
  openIncidentCovering,
  storedAdvisoryFacts,
  type IncidentRelaxation,
  type IncidentRollout,
  type ScopeFindingRow,
  type StoredAdvisoryFacts,
  type StoredIncident,
  type StoredIncidentUpdate,
} from '../store/incident-store.js';
import { withTransaction } from '../store/transaction.js';
import { enqueueNotification } from './notification-dispatcher.js';

type Queryable = pg.Pool | pg.PoolClient;

export type EmergencySettings = Policy['emergency'];

/** The actor of incidents the emergency triggers open. */
export const EMERGENCY_ACTOR = 'system:emergency';

/** The emergency settings a policy file without an `emergency` section gets; used when no policy is in force. */
export const DEFAULT_EMERGENCY: EmergencySettings = emergencySchema.parse({});

/** Longest title kept: the advisory id and the start of its summary. */
const TITLE_LENGTH = 200;

/** The action is refused in the incident's state (closing one whose scope is not done, a second incident for an advisory). */
export class IncidentConflict extends InputError {
  constructor(readonly detail: string, readonly field: string = 'id', readonly blockers: string[] = []) {
    super(detail, { field });
  }
}

export class UnknownIncident extends InputError {
  readonly detail: string;
  constructor(readonly id: number) {
    super(`no incident ${id}`, { field: 'id' });
    this.detail = `no incident ${id}`;
  }
}

/** The advisory an operator named is not stored. */
export class UnknownAdvisory extends InputError {
  constructor(readonly detail: string) {
    super(detail, { field: 'advisory' }, 'give an advisory id or CVE that fleetpatch advisories import or sync brought in');
  }
}

/** How incidents are named in words and exports. */
export function incidentLabel(id: number): string {
  return `INC-${id}`;
}

function titleOf(advisory: StoredAdvisoryFacts): string {
  const title = advisory.summary ? `${advisory.id}: ${advisory.summary}` : advisory.id;
  return title.length > TITLE_LENGTH ? `${title.slice(0, TITLE_LENGTH - 1)}…` : title;
}

export interface OpenedIncident {
  id: number;
  advisory: string;
  reason: string;
}

/**
 * Inside an advisory import's transaction, after its re-evaluation: opens one incident for each
 * imported advisory that the emergency triggers and the fleet's findings say opens one, unless an
 * open incident already covers it (by id or alias). Returns what was opened.
 *
 * @example await openIncidentsForImport(client, advisories, policy.emergency, now) // [{ id: 3, advisory: 'CVE-2026-1001', reason: '… affects 12 hosts …' }]
 */
export async function openIncidentsForImport(client: pg.PoolClient, advisories: readonly Advisory[], emergency: EmergencySettings, now: Date): Promise<OpenedIncident[]> {
  const ids = advisories.filter((advisory) => !advisory.withdrawn).map((advisory) => advisory.id);
  if (ids.length === 0) return [];
  const imported = new Set(ids);
  // Only the imported advisories themselves: an id that resolved through an alias names another record.
  const opening = (await storedAdvisoryFacts(client, ids, now))
    .filter((facts) => imported.has(facts.id))
    .map((facts) => ({ facts, decision: decideIncidentOpening(facts, emergency.triggers, facts.affectedHosts) }))
    .filter(({ decision }) => decision.opens);
  if (opening.length === 0) return [];
  await lockIncidentOpening(client);
  const opened: OpenedIncident[] = [];
  for (const { facts, decision } of opening) {
    const covering = await openIncidentCovering(client, [facts.id, ...facts.aliases]);
    if (covering !== undefined) {
      // Another record of the same vulnerability (a distribution's notice for the CVE) widens the open incident's scope.
      if (await addIncidentAdvisory(client, covering, facts.id)) await appendIncidentEvent(client, covering, { kind: 'advisory-added', at: now, advisory: facts.id });
      continue;
    }
    const id = await insertIncident(client, { title: titleOf(facts), advisories: [facts.id], triggerReason: decision.reason, openedAt: now, openedBy: EMERGENCY_ACTOR, statusEveryMs: emergency.statusEvery });
    await appendIncidentEvent(client, id, { kind: 'opened', at: now, by: EMERGENCY_ACTOR, advisories: [facts.id], reason: decision.reason });
    opened.push({ id, advisory: facts.id, reason: decision.reason });
  }
  // Audit entries last: the head's lock is then held only until the import commits.
  for (const incident of opened) {
    const facts = opening.find((candidate) => candidate.facts.id === incident.advisory)!;
    await appendAudit(client, {
      action: 'incident.opened', actor: EMERGENCY_ACTOR, subject: `incident:${incident.id}`, reason: incident.reason,
      details: { advisories: [incident.advisory], triggers: facts.decision.matches.map((match) => match.trigger), affectedHosts: facts.facts.affectedHosts },
    });
  }
  return opened;
}

/**
 * The hook an advisory import calls in its transaction (`importAdvisories`' `openIncidents`): with
 * the emergency settings of the policy in force, or none when no policy is (nothing opens by itself);
 * `clock` is the server's (an import without one is timed by the wall clock).
 */
export function incidentOpener(emergency: () => EmergencySettings | undefined, clock?: () => Date): (client: pg.PoolClient, advisories: readonly Advisory[], now: Date) => Promise<number[]> {
  return async (client, advisories, now) => {
    const settings = emergency();
    if (!settings) return [];
    return (await openIncidentsForImport(client, advisories, settings, clock?.() ?? now)).map((incident) => incident.id);
  };
}

export interface OperatorOpenRequest {
  /** A stored advisory's id, or an alias or related id of one (a CVE). */
  advisory: string;
  reason: string;
  actor: string;
  now: Date;
  emergency?: EmergencySettings;
  commander?: string;
}

/**
 * An operator declares an incident for an advisory, whatever the triggers say (which are recorded
 * in the audit entry). Refused for an advisory not stored, or one an open incident covers.
 *
 * @example await openIncident(pool, { advisory: 'CVE-2026-1001', reason: 'exploited in the wild per vendor', actor: 'cli:alice', now }) // 4
 */
export async function openIncident(pool: pg.Pool, request: OperatorOpenRequest): Promise<number> {
  const emergency = request.emergency ?? DEFAULT_EMERGENCY;
  return withTransaction(pool, async (client) => {
    const [facts] = await storedAdvisoryFacts(client, [request.advisory], request.now);
    if (!facts) throw new UnknownAdvisory(`no advisory ${request.advisory} is stored`);
    await lockIncidentOpening(client);
    const covering = await openIncidentCovering(client, [facts.id, ...facts.aliases]);
    if (covering !== undefined) throw new IncidentConflict(`${incidentLabel(covering)} is open and already covers ${facts.id}`, 'advisory');
    const id = await insertIncident(client, {
      title: titleOf(facts), advisories: [facts.id], triggerReason: request.reason, openedAt: request.now, openedBy: request.actor, statusEveryMs: emergency.statusEvery,
      ...(request.commander ? { commander: request.commander } : {}),
    });
    await appendIncidentEvent(client, id, { kind: 'opened', at: request.now, by: request.actor, advisories: [facts.id], reason: request.reason });
    await appendAudit(client, {
      action: 'incident.opened', actor: request.actor, subject: `incident:${id}`, reason: request.reason,
      details: { advisories: [facts.id], triggers: matchEmergencyTriggers(facts, emergency.triggers).map((match) => match.trigger), affectedHosts: facts.affectedHosts },
    });
    return id;
  });
}

export interface ScopeOptions {
  now: Date;
  staleAfterMs: number;
}

/** The live scope of an incident: the findings of its advisories on the stored hosts, now. */
export async function incidentScope(db: Queryable, incident: Pick<StoredIncident, 'advisories'>, options: ScopeOptions): Promise<{ scope: IncidentScope; findings: ScopeFindingRow[] }> {
  const findings = await incidentScopeFindings(db, incident.advisories, options.now);
  const scope = computeIncidentScope(findings.map((finding) => ({
    name: finding.host, bucket: finding.bucket, team: finding.team, state: finding.state, lastSeenAt: finding.lastSeenAt,
    excluded: finding.acceptedReason === undefined ? undefined : { reason: `accepted risk: ${finding.acceptedReason}` },
  })), options);
  return { scope, findings };
}

/**
 * The incident's durations: detection from the earliest publication of its advisories; a host is
 * patched when every finding of it has its fix on disk (the latest install), live when detection
 * judged every finding fixed (its latest fix's time).
 */
async function durationsOf(db: Queryable, incident: StoredIncident, scope: IncidentScope, findings: readonly ScopeFindingRow[], targetMs: number): Promise<IncidentDurations> {
  const published = (await storedAdvisoryFacts(db, incident.advisories, scope.asOf)).flatMap((facts) => (facts.published ? [facts.published.getTime()] : []));
  const latest = (into: Map<string, Date>, host: string, at: Date) => {
    const before = into.get(host);
    if (!before || before < at) into.set(host, at);
  };
  const liveAt = new Map<string, Date>();
  const installedAt = new Map<string, Date>();
  const notInstalled = new Set<string>();
  for (const finding of findings) {
    if (finding.state === 'live' && finding.resolvedAt) latest(liveAt, finding.host, finding.resolvedAt);
    if (finding.state === 'vulnerable' || !(finding.installedAt ?? finding.resolvedAt)) notInstalled.add(finding.host);
    else latest(installedAt, finding.host, (finding.installedAt ?? finding.resolvedAt)!);
  }
  return measureIncident({
    ...(published.length > 0 ? { publishedAt: new Date(Math.min(...published)) } : {}),
    openedAt: incident.openedAt,
    hosts: scope.hosts.map((host) => ({
      excluded: host.status === 'excluded',
      liveAt: host.status === 'live' ? liveAt.get(host.name) : undefined,
      installedAt: host.status === 'live' || host.status === 'pending-reboot' ? (notInstalled.has(host.name) ? undefined : installedAt.get(host.name)) : undefined,
    })),
    targetMs,
  });
}

export interface IncidentDetail {
  incident: StoredIncident;
  label: string;
  scope: IncidentScope;
  /** The emergency plan: its rollouts (one per bucket, and more for hosts that joined later) and the relaxations approved. */
  rollouts: IncidentRollout[];
  relaxations: IncidentRelaxation[];
  durations: IncidentDurations;
  events: TimelineEvent[];
  updates: StoredIncidentUpdate[];
}

/** Everything about one incident: the row, the live scope, the timeline, the updates, the durations. */
export async function incidentDetail(db: Queryable, id: number, options: ScopeOptions & { emergency?: EmergencySettings }): Promise<IncidentDetail> {
  const incident = await getIncident(db, id);
  if (!incident) throw new UnknownIncident(id);
  const { scope, findings } = await incidentScope(db, incident, options);
  const durations = await durationsOf(db, incident, scope, findings, (options.emergency ?? DEFAULT_EMERGENCY).target);
  return {
    incident, label: incidentLabel(id), scope, durations, rollouts: await incidentRollouts(db, id), relaxations: await incidentRelaxations(db, id),
    events: await incidentEvents(db, id), updates: await incidentUpdates(db, id),
  };
}

/** The timeline for the postmortem (`timelineToMarkdown` / `timelineToJson`). */
export async function incidentTimeline(db: Queryable, id: number, options: ScopeOptions & { emergency?: EmergencySettings }): Promise<TimelineExport> {
  const detail = await incidentDetail(db, id, options);
  return { incident: { id: detail.label, title: detail.incident.title }, events: detail.events, durations: detail.durations };
}

/** Sends an event about the incident through the policy's routes, in the caller's transaction: a route for any bucket or team in scope matches. */
export async function notifyIncident(
  client: pg.PoolClient, notifications: NotificationsPolicy | undefined, incident: StoredIncident, scope: Pick<IncidentScope, 'byBucket' | 'byTeam'>,
  event: { kind: NotificationEvent['kind']; severity: NotificationEvent['severity']; summary: string; details: Record<string, unknown>; update?: number; resolves?: boolean; at: Date },
): Promise<void> {
  if (!notifications) return;
  const buckets = scope.byBucket.map((entry) => entry.bucket);
  const teams = scope.byTeam.map((entry) => entry.team);
  await enqueueNotification(client, notifications, {
    kind: event.kind, severity: event.severity,
    incident: { id: incident.id, label: incidentLabel(incident.id), ...(event.update !== undefined ? { update: event.update } : {}) },
    bucket: buckets.join(', ') || 'none', team: teams.join(', ') || 'none', buckets, teams,
    summary: event.summary, details: event.details, ...(event.resolves ? { resolves: true } : {}),
    occurredAt: event.at,
  });
}

export interface CloseRequest extends ScopeOptions {
  id: number;
  actor: string;
  reason: string;
  /** The policy's routes: closing resolves the incident's opening alert. */
  notifications?: NotificationsPolicy;
}

/**
 * Closes an incident whose scope allows it (every host live or excluded with a reason); otherwise
 * refused with the blockers in words. The scope is computed in the closing transaction.
 *
 * @example await closeIncident(pool, { id: 3, actor: 'cli:alice', reason: 'every host live', now, staleAfterMs }) // throws IncidentConflict listing 'databases: 1 host patched but pending reboot (db-1)'
 */
export async function closeIncident(pool: pg.Pool, request: CloseRequest): Promise<StoredIncident> {
  return withTransaction(pool, async (client) => {
    const incident = await lockIncident(client, request.id);
    if (!incident) throw new UnknownIncident(request.id);
    if (incident.state === 'closed') throw new IncidentConflict(`${incidentLabel(incident.id)} was closed at ${incident.closedAt!.toISOString()} by ${incident.closedBy!}`);
    const { scope } = await incidentScope(client, incident, request);
    if (!scope.closable) {
      const blockers = scope.closeBlockers.map((blocker) => blocker.text);
      throw new IncidentConflict(`${incidentLabel(incident.id)} cannot close yet: ${blockers.join('; ')}`, 'id', blockers);
    }
    await markIncidentClosed(client, incident.id, { at: request.now, by: request.actor, reason: request.reason });
    await notifyIncident(client, request.notifications, incident, scope, { kind: 'incident-opened', severity: 'info', summary: `${incidentLabel(incident.id)} closed: ${request.reason}`, details: { reason: request.reason }, resolves: true, at: request.now });
    await appendIncidentEvent(client, incident.id, { kind: 'closed', at: request.now, by: request.actor, reason: request.reason });
    await appendAudit(client, {
      action: 'incident.closed', actor: request.actor, subject: `incident:${incident.id}`, reason: request.reason,
      details: { hosts: scope.total.hosts, live: scope.total.live, excluded: scope.total.excluded },
    });
    return { ...incident, state: 'closed', closedAt: request.now, closedBy: request.actor, closeReason: request.reason };
  });
}
