/**
 * The incident tables (migration 0013): incidents, their timeline events and their status
 * updates, and the two reads the incident service decides from — what an advisory is (severity,
 * KEV, EPSS, the hosts it affects) and the findings of an incident's advisories with their hosts.
 * What the rows mean is decided in `src/domain/incidents`; this module only reads and writes them.
 */
import type pg from 'pg';
import type { ScopeFindingState } from '../domain/incidents/incident-scope.js';
import type { TimelineEvent } from '../domain/incidents/incident-timeline.js';
import { TERMINAL_HOST_STATES, TERMINAL_ROLLOUT_STATES, type Relaxation, type RolloutState } from '../domain/rollout/rollout-model.js';
import type { Severity } from '../domain/types.js';

type Queryable = pg.Pool | pg.PoolClient;

/** Arbitrary, fixed: one incident opening at a time across processes ("fpin"), so two never cover one advisory. */
const INCIDENT_OPENING_LOCK_KEY = 0x6670696e;

export type IncidentState = 'open' | 'closed';

export interface StoredIncident {
  id: number;
  state: IncidentState;
  title: string;
  advisories: string[];
  triggerReason: string;
  openedAt: Date;
  openedBy: string;
  closedAt?: Date;
  closedBy?: string;
  closeReason?: string;
  statusEveryMs: number;
  commander?: string;
  /** The hosts in scope at the last look; undefined before the first. */
  scopeHosts?: string[];
  /** Per bucket, why its emergency rollout could not be made. */
  planNotes: Record<string, string>;
}

interface IncidentRow {
  id: number;
  state: IncidentState;
  title: string;
  advisories: string[];
  trigger_reason: string;
  opened_at: Date;
  opened_by: string;
  closed_at: Date | null;
  closed_by: string | null;
  close_reason: string | null;
  status_every_ms: string;
  commander: string | null;
  scope_hosts: string[] | null;
  plan_notes: Record<string, string>;
}

const INCIDENT_COLUMNS = 'id, state, title, advisories, trigger_reason, opened_at, opened_by, closed_at, closed_by, close_reason, status_every_ms, commander, scope_hosts, plan_notes';

function incidentOf(row: IncidentRow): StoredIncident {
  const incident: StoredIncident = {
    id: row.id, state: row.state, title: row.title, advisories: row.advisories, triggerReason: row.trigger_reason,
    openedAt: row.opened_at, openedBy: row.opened_by, statusEveryMs: Number(row.status_every_ms), planNotes: row.plan_notes,
  };
  if (row.scope_hosts !== null) incident.scopeHosts = row.scope_hosts;
  if (row.closed_at !== null) incident.closedAt = row.closed_at;
  if (row.closed_by !== null) incident.closedBy = row.closed_by;
  if (row.close_reason !== null) incident.closeReason = row.close_reason;
  if (row.commander !== null) incident.commander = row.commander;
  return incident;
}

/** Serialises openings until the caller's transaction ends (an import's and an operator's). */
export async function lockIncidentOpening(client: pg.PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [INCIDENT_OPENING_LOCK_KEY]);
}

/**
 * The open incident that already covers any of `ids` (advisory ids or CVE aliases): one whose
 * advisories include one of them, or whose stored advisories name one as an alias or related id.
 */
export async function openIncidentCovering(db: Queryable, ids: readonly string[]): Promise<number | undefined> {
  const result = await db.query<{ id: number }>(
    `SELECT i.id FROM incidents i
      WHERE i.state = 'open'
        AND (i.advisories && $1::text[]
             OR EXISTS (SELECT 1 FROM advisories a WHERE a.id = ANY(i.advisories) AND (a.aliases || a.related) && $1::text[]))
      ORDER BY i.id LIMIT 1`,
    [ids],
  );
  return result.rows[0]?.id;
}

export interface NewIncident {
  title: string;
  advisories: string[];
  triggerReason: string;
  openedAt: Date;
  openedBy: string;
  statusEveryMs: number;
  commander?: string;
}

export async function insertIncident(client: pg.PoolClient, incident: NewIncident): Promise<number> {
  const result = await client.query<{ id: number }>(
    `INSERT INTO incidents (title, advisories, trigger_reason, opened_at, opened_by, status_every_ms, commander)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
    [incident.title, incident.advisories, incident.triggerReason, incident.openedAt, incident.openedBy, incident.statusEveryMs, incident.commander ?? null],
  );
  return result.rows[0]!.id;
}

export async function getIncident(db: Queryable, id: number): Promise<StoredIncident | undefined> {
  const row = (await db.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1`, [id])).rows[0];
  return row ? incidentOf(row) : undefined;
}

/** The incident's row, locked until the caller's transaction ends (closing, posting an update). */
export async function lockIncident(client: pg.PoolClient, id: number): Promise<StoredIncident | undefined> {
  const row = (await client.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1 FOR UPDATE`, [id])).rows[0];
  return row ? incidentOf(row) : undefined;
}

/**
 * An open incident's row, locked; undefined when it is closed or another replica holds it (that
 * one advances it now). NO KEY UPDATE: the emergency rollouts the look inserts on other connections
 * reference the row, and their foreign-key check's KEY SHARE lock must not wait for this one.
 */
export async function lockOpenIncidentUnlessHeld(client: pg.PoolClient, id: number): Promise<StoredIncident | undefined> {
  const row = (await client.query<IncidentRow>(`SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE id = $1 AND state = 'open' FOR NO KEY UPDATE SKIP LOCKED`, [id])).rows[0];
  return row ? incidentOf(row) : undefined;
}

export async function openIncidentIds(db: Queryable): Promise<number[]> {
  return (await db.query<{ id: number }>("SELECT id FROM incidents WHERE state = 'open' ORDER BY id")).rows.map((row) => row.id);
}

export async function recordIncidentLook(client: pg.PoolClient, id: number, look: { scopeHosts: readonly string[]; planNotes: Record<string, string> }): Promise<void> {
  await client.query('UPDATE incidents SET scope_hosts = $2, plan_notes = $3 WHERE id = $1', [id, look.scopeHosts, JSON.stringify(look.planNotes)]);
}

/** Another stored record of the same vulnerability (a distribution's notice for the CVE) joins the incident's advisories. */
export async function addIncidentAdvisory(client: pg.PoolClient, id: number, advisory: string): Promise<boolean> {
  const result = await client.query("UPDATE incidents SET advisories = array_append(advisories, $2) WHERE id = $1 AND state = 'open' AND NOT ($2 = ANY(advisories))", [id, advisory]);
  return (result.rowCount ?? 0) > 0;
}

/** Newest first. */
export async function listIncidents(db: Queryable, filter: { state?: IncidentState; limit?: number } = {}): Promise<StoredIncident[]> {
  const result = await db.query<IncidentRow>(
    `SELECT ${INCIDENT_COLUMNS} FROM incidents WHERE ($1::text IS NULL OR state = $1) ORDER BY opened_at DESC, id DESC LIMIT $2`,
    [filter.state ?? null, filter.limit ?? null],
  );
  return result.rows.map(incidentOf);
}

export async function markIncidentClosed(client: pg.PoolClient, id: number, closing: { at: Date; by: string; reason: string }): Promise<void> {
  await client.query(`UPDATE incidents SET state = 'closed', closed_at = $2, closed_by = $3, close_reason = $4 WHERE id = $1`, [id, closing.at, closing.by, closing.reason]);
}

/** Appends one timeline event, numbered after the incident's last (the caller holds the incident's row lock or just made it). */
export async function appendIncidentEvent(client: pg.PoolClient, incidentId: number, event: TimelineEvent): Promise<number> {
  const result = await client.query<{ seq: number }>(
    `INSERT INTO incident_events (incident_id, seq, at, kind, event)
     SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4 FROM incident_events WHERE incident_id = $1
     RETURNING seq`,
    [incidentId, event.at, event.kind, JSON.stringify(event)],
  );
  return result.rows[0]!.seq;
}

/** Fields of a timeline event that are dates (JSON carries them as ISO strings). */
const DATE_FIELDS = ['at', 'reviewDueAt', 'slotDueAt'] as const;

/** The incident's timeline, in the order it was recorded. */
export async function incidentEvents(db: Queryable, incidentId: number): Promise<TimelineEvent[]> {
  const result = await db.query<{ event: Record<string, unknown> }>('SELECT event FROM incident_events WHERE incident_id = $1 ORDER BY seq', [incidentId]);
  return result.rows.map(({ event }) => {
    const revived: Record<string, unknown> = { ...event };
    for (const field of DATE_FIELDS) if (typeof revived[field] === 'string') revived[field] = new Date(revived[field]);
    return revived as unknown as TimelineEvent;
  });
}

export interface StoredIncidentUpdate {
  id: number;
  incidentId: number;
  postedAt: Date;
  author: string;
  automatic: boolean;
  markdown: string;
  counts: unknown;
  /** An automatic post made because nobody posted in time: the slot it stood in for. */
  missedSlot?: Date;
}

export async function insertIncidentUpdate(client: pg.PoolClient, update: Omit<StoredIncidentUpdate, 'id'>): Promise<number> {
  const result = await client.query<{ id: number }>(
    'INSERT INTO incident_updates (incident_id, posted_at, author, automatic, markdown, counts, missed_slot) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
    [update.incidentId, update.postedAt, update.author, update.automatic, update.markdown, JSON.stringify(update.counts), update.missedSlot ?? null],
  );
  return result.rows[0]!.id;
}

/** Oldest first. */
export async function incidentUpdates(db: Queryable, incidentId: number): Promise<StoredIncidentUpdate[]> {
  const result = await db.query<{ id: number; incident_id: number; posted_at: Date; author: string; automatic: boolean; markdown: string; counts: unknown; missed_slot: Date | null }>(
    'SELECT id, incident_id, posted_at, author, automatic, markdown, counts, missed_slot FROM incident_updates WHERE incident_id = $1 ORDER BY posted_at, id',
    [incidentId],
  );
  return result.rows.map((row) => ({
    id: row.id, incidentId: row.incident_id, postedAt: row.posted_at, author: row.author, automatic: row.automatic, markdown: row.markdown, counts: row.counts,
    ...(row.missed_slot !== null ? { missedSlot: row.missed_slot } : {}),
  }));
}

/** An incident's emergency rollouts, oldest first, with the hosts each took. */
export interface IncidentRollout {
  id: number;
  bucket: string;
  state: RolloutState;
  strategy: string;
  relaxations: Relaxation[];
  hosts: string[];
  /** Hosts that failed, timed out, whose reboot never returned or whose drain is stuck, with the step's error. */
  troubled: Array<{ host: string; state: string; lastError?: string }>;
  expectedHostMs: number;
  maxInFlight: number;
  remaining: number;
}

export async function incidentRollouts(db: Queryable, incidentId: number): Promise<IncidentRollout[]> {
  const result = await db.query<{ id: number; bucket: string; state: RolloutState; strategy: string | null; relaxations: Relaxation[]; hosts: string[]; troubled: Array<{ host: string; state: string; last_error: string | null }>; expected_host_ms: number | null; max_in_flight: number | null; remaining: number }>(
    `SELECT r.id, r.bucket, r.state, r.settings->'strategy'->>'kind' AS strategy, r.relaxations,
            array_agg(h.host ORDER BY h.position) AS hosts,
            coalesce(jsonb_agg(jsonb_build_object('host', h.host, 'state', h.state, 'last_error', coalesce(h.last_error, r.reason)) ORDER BY h.host)
              FILTER (WHERE h.state = ANY($2::text[]) OR (r.pause_reason = 'drain-stuck' AND h.state = 'draining')), '[]') AS troubled,
            (r.settings->>'expectedHostMs')::double precision AS expected_host_ms, (r.settings->>'maxInFlight')::integer AS max_in_flight,
            count(*) FILTER (WHERE NOT (h.state = ANY($3::text[])))::integer AS remaining
       FROM rollouts r JOIN rollout_hosts h ON h.rollout_id = r.id
      WHERE r.incident_id = $1
      GROUP BY r.id ORDER BY r.id`,
    [incidentId, ['failed', 'timed-out', 'reboot-stuck', 'rolled-back'], [...TERMINAL_HOST_STATES]],
  );
  return result.rows.map((row) => ({
    id: row.id, bucket: row.bucket, state: row.state, strategy: row.strategy ?? 'in-place', relaxations: row.relaxations, hosts: row.hosts,
    troubled: row.troubled.map((entry) => ({ host: entry.host, state: entry.state, ...(entry.last_error !== null ? { lastError: entry.last_error } : {}) })),
    expectedHostMs: row.expected_host_ms ?? 0, maxInFlight: Math.max(1, row.max_in_flight ?? 1), remaining: row.remaining,
  }));
}

/** A relaxation a person approved for one bucket of an incident, and the review it owes. */
export interface IncidentRelaxation {
  bucket: string;
  relaxes: Relaxation[];
  approvedBy: string;
  approvedAt: Date;
  why: string;
  reviewDueAt: Date;
  review?: { at: Date; by: string; notes: string };
}

export async function incidentRelaxations(db: Queryable, incidentId: number): Promise<IncidentRelaxation[]> {
  const result = await db.query<{ bucket: string; relaxes: Relaxation[]; approved_by: string; approved_at: Date; why: string; review_due_at: Date; reviewed_at: Date | null; reviewed_by: string | null; review_notes: string | null }>(
    'SELECT bucket, relaxes, approved_by, approved_at, why, review_due_at, reviewed_at, reviewed_by, review_notes FROM incident_relaxations WHERE incident_id = $1 ORDER BY bucket',
    [incidentId],
  );
  return result.rows.map((row) => ({
    bucket: row.bucket, relaxes: row.relaxes, approvedBy: row.approved_by, approvedAt: row.approved_at, why: row.why, reviewDueAt: row.review_due_at,
    ...(row.reviewed_at !== null ? { review: { at: row.reviewed_at, by: row.reviewed_by!, notes: row.review_notes! } } : {}),
  }));
}

/** Adds to what the bucket may skip (a later approval widens it, and the review it owes is the later one). Returns what it may skip now. */
export async function approveIncidentRelaxation(client: pg.PoolClient, incidentId: number, approval: Omit<IncidentRelaxation, 'review'>): Promise<Relaxation[]> {
  const result = await client.query<{ relaxes: Relaxation[] }>(
    `INSERT INTO incident_relaxations (incident_id, bucket, relaxes, approved_by, approved_at, why, review_due_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (incident_id, bucket) DO UPDATE SET
       relaxes = ARRAY(SELECT DISTINCT unnest(incident_relaxations.relaxes || excluded.relaxes) ORDER BY 1),
       approved_by = excluded.approved_by, approved_at = excluded.approved_at, why = excluded.why, review_due_at = excluded.review_due_at,
       reviewed_at = NULL, reviewed_by = NULL, review_notes = NULL
     RETURNING relaxes`,
    [incidentId, approval.bucket, approval.relaxes, approval.approvedBy, approval.approvedAt, approval.why, approval.reviewDueAt],
  );
  const relaxes = result.rows[0]!.relaxes;
  // The bucket's running emergency rollout skips them from its next pass, which is now.
  await client.query(
    'UPDATE rollouts SET relaxations = $3, next_pass_at = $4 WHERE incident_id = $1 AND bucket = $2 AND NOT (state = ANY($5::text[]))',
    [incidentId, approval.bucket, relaxes, approval.approvedAt, [...TERMINAL_ROLLOUT_STATES]],
  );
  return relaxes;
}

/** Records the post-change review; false when no unreviewed relaxation of the bucket exists. */
export async function recordRelaxationReview(client: pg.PoolClient, incidentId: number, bucket: string, review: { at: Date; by: string; notes: string }): Promise<boolean> {
  const result = await client.query(
    'UPDATE incident_relaxations SET reviewed_at = $3, reviewed_by = $4, review_notes = $5 WHERE incident_id = $1 AND bucket = $2 AND reviewed_at IS NULL',
    [incidentId, bucket, review.at, review.by, review.notes],
  );
  return (result.rowCount ?? 0) > 0;
}

/** What deciding whether an advisory opens an incident needs, read from the stored advisory. */
export interface StoredAdvisoryFacts {
  id: string;
  aliases: string[];
  severity: Severity;
  summary?: string;
  published?: Date;
  knownExploited: boolean;
  epss?: number;
  /** Hosts with an open (vulnerable or pending-reboot) finding of it that no accepted risk covers. */
  affectedHosts: number;
}

/** The accepted-risk test finding reads apply (finding-queries.ts), for a finding `f` of advisory `a` on host `h`. */
const ACCEPTED = `EXISTS (SELECT 1 FROM risk_acceptances r
   WHERE (r.advisory_id = a.id OR r.advisory_id = ANY(a.aliases || a.related)) AND r.expires_at > $2
     AND (r.host_name IS NULL OR r.host_name = h.name)
     AND (r.package_name IS NULL OR r.package_name = f.package_name))`;

/**
 * The facts of the stored advisories named by `ids` (their ids, or an alias or related id when no
 * advisory has it as its id), in the order of `ids`; unknown ids are left out.
 */
export async function storedAdvisoryFacts(db: Queryable, ids: readonly string[], now: Date): Promise<StoredAdvisoryFacts[]> {
  const result = await db.query<{ wanted: string; id: string; aliases: string[]; severity: Severity; summary: string | null; published: Date | null; known_exploited: boolean; epss: number | null; affected_hosts: number }>(
    `SELECT w.wanted, a.id, a.aliases || a.related AS aliases, a.severity, a.summary, a.published,
            EXISTS (SELECT 1 FROM kev_entries k WHERE k.cve_id = ANY(a.aliases || a.related || a.id)) AS known_exploited,
            (SELECT max(e.epss) FROM epss_scores e WHERE e.cve_id = ANY(a.aliases || a.related || a.id)) AS epss,
            (SELECT count(DISTINCT f.host_key)::integer FROM findings f JOIN hosts h ON h.key = f.host_key
              WHERE f.advisory_key = a.key AND f.state IN ('vulnerable', 'pending-reboot') AND f.resolved_at IS NULL AND NOT ${ACCEPTED}) AS affected_hosts
       FROM unnest($1::text[]) WITH ORDINALITY AS w(wanted, position)
       JOIN LATERAL (SELECT * FROM advisories a WHERE a.id = w.wanted OR w.wanted = ANY(a.aliases) OR w.wanted = ANY(a.related)
                      ORDER BY (a.id = w.wanted) DESC, a.id LIMIT 1) a ON true
      ORDER BY w.position`,
    [ids, now],
  );
  return result.rows.map((row) => {
    const facts: StoredAdvisoryFacts = { id: row.id, aliases: row.aliases, severity: row.severity, knownExploited: row.known_exploited, affectedHosts: row.affected_hosts };
    if (row.summary !== null) facts.summary = row.summary;
    if (row.published !== null) facts.published = row.published;
    if (row.epss !== null) facts.epss = row.epss;
    return facts;
  });
}

/** One finding of an incident's advisory on a host, as the scope and the milestones read it. */
export interface ScopeFindingRow {
  host: string;
  bucket: string;
  team: string;
  state: ScopeFindingState;
  lastSeenAt?: Date;
  /** When detection judged it fixed (live): the host's milestone. */
  resolvedAt?: Date;
  /** When the fix was first on disk (pending reboot or live at once). */
  installedAt?: Date;
  /** The accepted risk's reason, when one covers the finding now. */
  acceptedReason?: string;
}

/**
 * Every finding of the advisories on a stored host, with its host's bucket, team and last
 * check-in. Fixed is live; so is not-applicable, which detection says only of a vulnerable kernel
 * on disk that is not running (after the reboot into the fixed one, the old kernel's row turns
 * not-applicable and the fixed kernel has none): it went live when the host booted, if known.
 */
export async function incidentScopeFindings(db: Queryable, advisories: readonly string[], now: Date): Promise<ScopeFindingRow[]> {
  const result = await db.query<{ host: string; bucket: string; team: string; state: 'vulnerable' | 'pending-reboot' | 'fixed' | 'not-applicable'; last_seen_at: Date | null; resolved_at: Date | null; installed_at: Date | null; accepted_reason: string | null }>(
    `SELECT h.name AS host, h.bucket, h.team, f.state, h.last_seen_at, f.installed_at,
            CASE WHEN f.state = 'not-applicable' THEN h.boot_time ELSE f.resolved_at END AS resolved_at,
            CASE WHEN f.state IN ('vulnerable', 'pending-reboot') THEN (
              SELECT r.reason || ' (accepted by ' || r.accepted_by || ' until ' || to_char(r.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ')'
                FROM risk_acceptances r
               WHERE (r.advisory_id = a.id OR r.advisory_id = ANY(a.aliases || a.related)) AND r.expires_at > $2
                 AND (r.host_name IS NULL OR r.host_name = h.name)
                 AND (r.package_name IS NULL OR r.package_name = f.package_name)
               ORDER BY r.id LIMIT 1) END AS accepted_reason
       FROM advisories a
       JOIN findings f ON f.advisory_key = a.key
       JOIN hosts h ON h.key = f.host_key
      WHERE a.id = ANY($1::text[])
      ORDER BY h.name, f.package_name`,
    [advisories, now],
  );
  return result.rows.map((row) => {
    const finding: ScopeFindingRow = { host: row.host, bucket: row.bucket, team: row.team, state: row.state === 'fixed' || row.state === 'not-applicable' ? 'live' : row.state };
    if (row.last_seen_at !== null) finding.lastSeenAt = row.last_seen_at;
    if (row.resolved_at !== null) finding.resolvedAt = row.resolved_at;
    if (row.installed_at !== null) finding.installedAt = row.installed_at;
    if (row.accepted_reason !== null) finding.acceptedReason = row.accepted_reason;
    return finding;
  });
}
