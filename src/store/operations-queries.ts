/**
 * What the on-call and debug views read: what is failing, stuck or paging now (failed and
 * reboot-stuck hosts of rollouts, halted and paused rollouts, notifications waiting or failed in
 * the outbox, agents gone quiet), and the health of the agents, the advisory feeds and the rollout
 * engine as the database records it. Each is one bounded, set-based query.
 */
import type pg from 'pg';
import { FAILED_HOST_STATES } from '../domain/rollout/rollout-model.js';

type Queryable = pg.Pool | pg.PoolClient;

/** Lists are cut here; their counts are not. */
const LIST_LIMIT = 50;

export interface OnCallSnapshot {
  generatedAt: string;
  failingHosts: Array<{ rolloutId: number; bucket: string; host: string; state: string; since: Date; lastError?: string }>;
  stuckRollouts: Array<{ id: number; bucket: string; team: string; state: string; reason?: string; since: Date }>;
  notifications: { pending: number; failed: number; oldestPendingAt?: Date; recent: Array<{ id: number; state: string; kind: string; receiver: string; mode: string; rolloutId?: number; incidentId?: number; attempts: number; lastError?: string; occurredAt: Date }> };
  staleAgents: { count: number; hosts: Array<{ host: string; bucket: string; team: string; lastSeenAt?: Date }> };
}

/**
 * @example await onCallSnapshot(pool, { now: new Date(), staleAfterSeconds: 3600 })
 */
export async function onCallSnapshot(db: Queryable, options: { now: Date; staleAfterSeconds: number }): Promise<OnCallSnapshot> {
  const staleBefore = new Date(options.now.getTime() - options.staleAfterSeconds * 1000);
  const [failing, stuck, outbox, recent, stale] = await Promise.all([
    // Hosts still failing: rolling back, or failed in a rollout that has not ended (a retry or skip ends it).
    db.query<{ rollout_id: number; bucket: string; host: string; state: string; state_since: Date; last_error: string | null }>(
      `SELECT h.rollout_id, r.bucket, h.host, h.state, h.state_since, h.last_error
         FROM rollout_hosts h JOIN rollouts r ON r.id = h.rollout_id
        WHERE h.state = ANY($1::text[]) AND r.state NOT IN ('succeeded', 'completed-with-errors', 'canceled')
        ORDER BY h.state_since, h.rollout_id, h.host LIMIT $2`,
      [[...FAILED_HOST_STATES], LIST_LIMIT],
    ),
    db.query<{ id: number; bucket: string; team: string; state: string; reason: string | null; updated_at: Date }>(
      `SELECT id, bucket, team, state, coalesce(reason, halt_reason, pause_reason) AS reason, updated_at
         FROM rollouts WHERE state IN ('halted', 'paused', 'rolling-back') ORDER BY updated_at, id LIMIT $1`,
      [LIST_LIMIT],
    ),
    db.query<{ pending: number; failed: number; oldest_pending: Date | null }>(
      `SELECT count(*) FILTER (WHERE state = 'pending')::integer AS pending, count(*) FILTER (WHERE state = 'failed')::integer AS failed,
              min(occurred_at) FILTER (WHERE state = 'pending') AS oldest_pending
         FROM notification_outbox WHERE state IN ('pending', 'failed')`,
    ),
    db.query<{ id: string; state: string; kind: string; receiver: string; mode: string; rollout_id: string | null; incident_id: number | null; attempts: number; last_error: string | null; occurred_at: Date }>(
      `SELECT id, state, kind, receiver, mode, rollout_id, incident_id, attempts, last_error, occurred_at
         FROM notification_outbox WHERE state IN ('pending', 'failed') ORDER BY id DESC LIMIT $1`,
      [LIST_LIMIT],
    ),
    db.query<{ name: string; bucket: string; team: string; last_seen_at: Date | null; count: number }>(
      `SELECT name, bucket, team, last_seen_at, count(*) OVER ()::integer AS count
         FROM hosts WHERE last_seen_at IS NULL OR last_seen_at < $1 ORDER BY last_seen_at NULLS FIRST, name LIMIT $2`,
      [staleBefore, LIST_LIMIT],
    ),
  ]);
  const counts = outbox.rows[0]!;
  return {
    generatedAt: options.now.toISOString(),
    failingHosts: failing.rows.map((row) => ({ rolloutId: row.rollout_id, bucket: row.bucket, host: row.host, state: row.state, since: row.state_since, ...(row.last_error ? { lastError: row.last_error } : {}) })),
    stuckRollouts: stuck.rows.map((row) => ({ id: row.id, bucket: row.bucket, team: row.team, state: row.state, since: row.updated_at, ...(row.reason ? { reason: row.reason } : {}) })),
    notifications: {
      pending: counts.pending,
      failed: counts.failed,
      ...(counts.oldest_pending ? { oldestPendingAt: counts.oldest_pending } : {}),
      recent: recent.rows.map((row) => ({
        id: Number(row.id), state: row.state, kind: row.kind, receiver: row.receiver, mode: row.mode, attempts: row.attempts,
        ...(row.rollout_id !== null ? { rolloutId: Number(row.rollout_id) } : {}), ...(row.incident_id !== null ? { incidentId: row.incident_id } : {}),
        occurredAt: row.occurred_at, ...(row.last_error ? { lastError: row.last_error } : {}),
      })),
    },
    staleAgents: {
      count: stale.rows[0]?.count ?? 0,
      hosts: stale.rows.map((row) => ({ host: row.name, bucket: row.bucket, team: row.team, ...(row.last_seen_at ? { lastSeenAt: row.last_seen_at } : {}) })),
    },
  };
}

export interface StoredHealth {
  agents: { hosts: number; seenLast5Minutes: number; seenLastHour: number; inventoriesLastHour: number; stale: number; neverSeen: number };
  feeds: { advisories: number; lastImportedAt?: Date; lastModifiedAt?: Date; locations: Array<{ location: string; syncedAt: Date }> };
  engine: {
    activeRollouts: number;
    leases: Array<{ rolloutId: number; bucket: string; holder: string; expiresAt: Date; expired: boolean }>;
    overduePasses: number;
    jobsWaiting: number;
    outbox: { pending: number; due: number; oldestPendingAt?: Date };
  };
}

/**
 * The health the database shows, whichever replica asks: check-ins by recency, the feeds' last
 * syncs and the newest advisory, the engine's leases (an expired one is a replica gone), rollouts
 * past their pass time, jobs not yet reported and the notification outbox's backlog.
 *
 * @example await storedHealth(pool, { now: new Date(), staleAfterSeconds: 3600 })
 */
export async function storedHealth(db: Queryable, options: { now: Date; staleAfterSeconds: number }): Promise<StoredHealth> {
  const [agents, advisories, locations, leases, engine, outbox] = await Promise.all([
    db.query<{ hosts: number; seen5: number; seen60: number; inventories: number; stale: number; never: number }>(
      `SELECT count(*)::integer AS hosts,
              count(*) FILTER (WHERE last_seen_at >= $1::timestamptz - interval '5 minutes')::integer AS seen5,
              count(*) FILTER (WHERE last_seen_at >= $1::timestamptz - interval '1 hour')::integer AS seen60,
              count(*) FILTER (WHERE inventory_updated_at >= $1::timestamptz - interval '1 hour')::integer AS inventories,
              count(*) FILTER (WHERE last_seen_at IS NULL OR last_seen_at < $1::timestamptz - make_interval(secs => $2))::integer AS stale,
              count(*) FILTER (WHERE last_seen_at IS NULL)::integer AS never
         FROM hosts`,
      [options.now, options.staleAfterSeconds],
    ),
    db.query<{ count: number; imported: Date | null; modified: Date | null }>('SELECT count(*)::integer AS count, max(imported_at) AS imported, max(modified) AS modified FROM advisories'),
    db.query<{ location: string; synced_at: Date }>('SELECT location, synced_at FROM feed_state ORDER BY synced_at DESC LIMIT 20'),
    db.query<{ id: number; bucket: string; lease_holder: string; lease_expires_at: Date }>(
      `SELECT id, bucket, lease_holder, lease_expires_at FROM rollouts
        WHERE lease_holder IS NOT NULL AND state NOT IN ('succeeded', 'completed-with-errors', 'canceled') ORDER BY lease_expires_at LIMIT ${LIST_LIMIT}`,
    ),
    db.query<{ active: number; overdue: number; jobs: number }>(
      `SELECT (SELECT count(*) FROM rollouts WHERE state NOT IN ('succeeded', 'completed-with-errors', 'canceled'))::integer AS active,
              (SELECT count(*) FROM rollouts WHERE state NOT IN ('succeeded', 'completed-with-errors', 'canceled') AND next_pass_at < $1::timestamptz - interval '1 minute')::integer AS overdue,
              (SELECT count(*) FROM rollout_jobs WHERE reported_at IS NULL)::integer AS jobs`,
      [options.now],
    ),
    db.query<{ pending: number; due: number; oldest: Date | null }>(
      `SELECT count(*)::integer AS pending, count(*) FILTER (WHERE next_attempt_at IS NULL OR next_attempt_at <= $1)::integer AS due, min(occurred_at) AS oldest
         FROM notification_outbox WHERE state = 'pending'`,
      [options.now],
    ),
  ]);
  const agentRow = agents.rows[0]!;
  const advisoryRow = advisories.rows[0]!;
  const engineRow = engine.rows[0]!;
  const outboxRow = outbox.rows[0]!;
  return {
    agents: { hosts: agentRow.hosts, seenLast5Minutes: agentRow.seen5, seenLastHour: agentRow.seen60, inventoriesLastHour: agentRow.inventories, stale: agentRow.stale, neverSeen: agentRow.never },
    feeds: {
      advisories: advisoryRow.count,
      ...(advisoryRow.imported ? { lastImportedAt: advisoryRow.imported } : {}),
      ...(advisoryRow.modified ? { lastModifiedAt: advisoryRow.modified } : {}),
      locations: locations.rows.map((row) => ({ location: row.location, syncedAt: row.synced_at })),
    },
    engine: {
      activeRollouts: engineRow.active,
      leases: leases.rows.map((row) => ({ rolloutId: row.id, bucket: row.bucket, holder: row.lease_holder, expiresAt: row.lease_expires_at, expired: row.lease_expires_at.getTime() < options.now.getTime() })),
      overduePasses: engineRow.overdue,
      jobsWaiting: engineRow.jobs,
      outbox: { pending: outboxRow.pending, due: outboxRow.due, ...(outboxRow.oldest ? { oldestPendingAt: outboxRow.oldest } : {}) },
    },
  };
}
