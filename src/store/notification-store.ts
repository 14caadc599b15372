/**
 * The notification outbox and its delivery log. Rows are queued in the caller's transaction (the
 * rollout engine's state change and its notification commit together or not at all), claimed by
 * any number of dispatchers with `FOR UPDATE SKIP LOCKED` and a lease, and every attempt is logged.
 */
import type pg from 'pg';
import type { DeliveryVerdict } from '../domain/notifications/delivery-retry.js';
import type { NotificationKind, NotificationMode } from '../domain/notifications/notification-event.js';
import type { Receiver } from '../domain/notifications/notification-schema.js';

export type NotificationState = 'pending' | 'delivered' | 'failed' | 'suppressed';
export type NotificationAction = 'trigger' | 'resolve';

export interface QueuedNotification {
  kind: NotificationKind;
  /** Exactly one of the two: what the notification is about. */
  rolloutId?: number;
  incidentId?: number;
  host?: string;
  receiver: string;
  target: Receiver;
  mode: NotificationMode;
  dedupKey: string;
  action: NotificationAction;
  payload: object;
  state: 'pending' | 'suppressed';
  occurredAt: Date;
}

export interface ClaimedNotification {
  id: number;
  messageId: string;
  receiver: string;
  target: Receiver;
  dedupKey: string;
  action: NotificationAction;
  payload: Record<string, unknown>;
  /** Attempts made before this one. */
  attempts: number;
}

export interface AttemptRecord {
  startedAt: Date;
  durationMs: number;
  statusCode?: number;
  error?: string;
}

export interface NotificationListing {
  id: number;
  messageId: string;
  kind: string;
  rolloutId: number | null;
  incidentId: number | null;
  host: string | null;
  receiver: string;
  receiverKind: Receiver['kind'];
  as: NotificationMode;
  dedupKey: string;
  action: NotificationAction;
  state: NotificationState;
  coalesced: number;
  attempts: number;
  /** When a pending row is tried next; null when at once or not pending. */
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  occurredAt: string;
  createdAt: string;
  finishedAt: string | null;
  payload: unknown;
  attemptLog: Array<{ attempt: number; dispatcher: string; startedAt: string; durationMs: number; statusCode: number | null; error: string | null; outcome: 'delivered' | 'retry' | 'failed' }>;
}

/** Class of the transaction-scoped advisory locks that serialise queuing per (receiver, dedup key). */
const QUEUE_LOCK_CLASS = 0x666c746e;

/**
 * Queues a notification inside the caller's open transaction. A pending row of the same receiver,
 * dedup key, action and kind that is the newest of its key takes this one in (its `coalesced`
 * count goes up) instead of a second request; anything else, a resolve after a trigger say, is a
 * row of its own, sent after the older ones of its key.
 *
 * @example await withTransaction(pool, async (client) => { …the state change…; await queueNotification(client, row); })
 */
export async function queueNotification(client: pg.ClientBase, row: QueuedNotification): Promise<{ id: number; coalesced: boolean }> {
  if (row.state === 'pending') {
    // Two transactions queuing the same key at once would both find nothing to fold into.
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [QUEUE_LOCK_CLASS, `${row.receiver}\n${row.dedupKey}`]);
    const folded = await client.query<{ id: string }>(
      `UPDATE notification_outbox SET coalesced = coalesced + 1
       WHERE id = (SELECT id FROM notification_outbox WHERE state = 'pending' AND receiver = $1 AND dedup_key = $2 ORDER BY id DESC LIMIT 1)
         AND action = $3 AND kind = $4
       RETURNING id`,
      [row.receiver, row.dedupKey, row.action, row.kind],
    );
    if (folded.rows[0]) return { id: Number(folded.rows[0].id), coalesced: true };
  }
  const inserted = await client.query<{ id: string }>(
    `INSERT INTO notification_outbox (kind, rollout_id, incident_id, host, receiver, target, mode, dedup_key, action, payload, state, occurred_at, finished_at)
     VALUES ($1, $2, $12, $3, $4, $5, $6, $7, $8, $9, $10, $11, CASE WHEN $10 = 'suppressed' THEN now() END)
     RETURNING id`,
    [row.kind, row.rolloutId ?? null, row.host ?? null, row.receiver, JSON.stringify(row.target), row.mode, row.dedupKey, row.action, JSON.stringify(row.payload), row.state, row.occurredAt, row.incidentId ?? null],
  );
  return { id: Number(inserted.rows[0]!.id), coalesced: false };
}

/**
 * Leases up to `limit` due rows to `holder` until `now + leaseMs`. Rows another dispatcher holds
 * (locked, or leased and not expired) are skipped; a row waits while an older row of its receiver
 * and dedup key is pending, so a key's notifications arrive in order.
 *
 * @example await claimDueNotifications(pool, { holder: 'replica-1', now: new Date(), leaseMs: 120_000, limit: 10 })
 */
export async function claimDueNotifications(pool: pg.Pool, options: { holder: string; now: Date; leaseMs: number; limit: number }): Promise<ClaimedNotification[]> {
  const result = await pool.query<{ id: string; message_id: string; receiver: string; target: Receiver; dedup_key: string; action: NotificationAction; payload: Record<string, unknown>; attempts: number }>(
    `UPDATE notification_outbox SET lease_holder = $1, lease_expires_at = $2::timestamptz + make_interval(secs => $3::double precision / 1000)
     WHERE id IN (
       SELECT candidate.id FROM notification_outbox candidate
       WHERE candidate.state = 'pending' AND (candidate.next_attempt_at IS NULL OR candidate.next_attempt_at <= $2)
         AND (candidate.lease_expires_at IS NULL OR candidate.lease_expires_at <= $2)
         AND NOT EXISTS (SELECT 1 FROM notification_outbox older WHERE older.state = 'pending' AND older.receiver = candidate.receiver AND older.dedup_key = candidate.dedup_key AND older.id < candidate.id)
       ORDER BY candidate.next_attempt_at NULLS FIRST, candidate.id
       LIMIT $4
       FOR UPDATE SKIP LOCKED)
     RETURNING id, message_id, receiver, target, dedup_key, action, payload, attempts`,
    [options.holder, options.now, options.leaseMs, options.limit],
  );
  return result.rows.map((row) => ({ id: Number(row.id), messageId: row.message_id, receiver: row.receiver, target: row.target, dedupKey: row.dedup_key, action: row.action, payload: row.payload, attempts: row.attempts }))
    .sort((a, b) => a.id - b.id);
}

/**
 * Logs an attempt and applies its verdict, if `holder` still holds the row's lease (a dispatcher
 * that overran its lease lost the row to another: its attempt is logged, the row left alone).
 * Returns whether the verdict was applied.
 */
export async function recordAttempt(pool: pg.Pool, options: { id: number; holder: string; attempt: AttemptRecord; verdict: DeliveryVerdict; now: Date }): Promise<boolean> {
  const { verdict } = options;
  const state = verdict.state === 'retry' ? 'pending' : verdict.state;
  const error = options.attempt.error ?? null;
  const result = await pool.query<{ applied: boolean }>(
    `WITH applied AS (
       UPDATE notification_outbox SET
         attempts = attempts + 1, state = $3, last_status = $4, last_error = $5,
         next_attempt_at = COALESCE($6, next_attempt_at),
         finished_at = CASE WHEN $3 = 'pending' THEN NULL ELSE $7::timestamptz END,
         lease_holder = NULL, lease_expires_at = NULL
       WHERE id = $1 AND lease_holder = $2 AND state = 'pending'
       RETURNING attempts
     )
     INSERT INTO notification_attempts (notification_id, attempt, dispatcher, started_at, duration_ms, status_code, error, outcome)
     SELECT $1, COALESCE((SELECT attempts FROM applied), (SELECT attempts + 1 FROM notification_outbox WHERE id = $1)), $2, $8, $9, $4, $5, $10
     RETURNING EXISTS (SELECT 1 FROM applied) AS applied`,
    [options.id, options.holder, state, options.attempt.statusCode ?? null, error, verdict.state === 'retry' ? verdict.nextAttemptAt : null, options.now, options.attempt.startedAt, Math.max(0, Math.round(options.attempt.durationMs)), verdict.state],
  );
  return result.rows[0]?.applied === true;
}

/**
 * Notifications newest first, each with its attempts in order.
 *
 * @example await listNotifications(pool, { state: 'failed', limit: 20 })
 */
export async function listNotifications(pool: pg.Pool, options: { state?: NotificationState; limit: number }): Promise<NotificationListing[]> {
  const result = await pool.query<NotificationListing>(
    `SELECT o.id::int AS id, o.message_id AS "messageId", o.kind, o.rollout_id::int AS "rolloutId", o.incident_id AS "incidentId", o.host, o.receiver, o.target->>'kind' AS "receiverKind",
            o.mode AS "as", o.dedup_key AS "dedupKey", o.action, o.state, o.coalesced, o.attempts,
            CASE WHEN o.state = 'pending' THEN ${iso('o.next_attempt_at')} END AS "nextAttemptAt",
            o.last_status AS "lastStatus", o.last_error AS "lastError",
            ${iso('o.occurred_at')} AS "occurredAt", ${iso('o.created_at')} AS "createdAt", ${iso('o.finished_at')} AS "finishedAt",
            o.payload,
            COALESCE((SELECT json_agg(json_build_object('attempt', a.attempt, 'dispatcher', a.dispatcher, 'startedAt', ${iso('a.started_at')}, 'durationMs', a.duration_ms,
                                                        'statusCode', a.status_code, 'error', a.error, 'outcome', a.outcome) ORDER BY a.id)
                      FROM notification_attempts a WHERE a.notification_id = o.id), '[]'::json) AS "attemptLog"
     FROM notification_outbox o
     WHERE $1::text IS NULL OR o.state = $1
     ORDER BY o.id DESC
     LIMIT $2`,
    [options.state ?? null, options.limit],
  );
  return result.rows;
}

/** A timestamp as ISO 8601 in UTC with milliseconds, whatever the session's time zone. */
function iso(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
