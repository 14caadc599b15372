/**
 * The audit log table: every state change appends one entry in the transaction that makes the
 * change, so the entry commits if and only if the change does. Entries are numbered under the
 * one-row `audit_head` (locked by the append's UPDATE until commit), which serialises appends from
 * every server replica and CLI process without gaps or forks. Appending last in a transaction keeps
 * that lock short and never waits on another lock while holding it.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { auditEntryText, type AuditEntry, type AuditEvent } from '../domain/audit/audit-entry.js';
import type { JsonValue } from '../domain/audit/canonical-json.js';
import { hexOf, rfc6962Hasher, type Sha256 } from '../domain/audit/merkle.js';
import type { StoredAuditRow } from '../domain/audit/verification.js';
import { withTransaction } from './transaction.js';

type Queryable = pg.Pool | pg.PoolClient;

/** node:crypto's SHA-256, the hash the pure Merkle code is given. */
export const sha256: Sha256 = (data) => createHash('sha256').update(data).digest();

/** The RFC 6962 hashes every append, checkpoint and verification uses. */
export const auditHasher = rfc6962Hasher(sha256);

const encoder = new TextEncoder();

/**
 * Appends `event` as the next entry, inside the caller's open transaction on `client` (the entry
 * is numbered and timed by the database under the head lock, so numbers and times follow commit
 * order). Call it last in the transaction.
 *
 * @example await withTransaction(pool, async (client) => { …the change…; await appendAudit(client, { action: 'api-token.revoked', actor: 'cli:alice', subject: 'api-token:3' }); })
 */
export async function appendAudit(client: pg.PoolClient, event: AuditEvent): Promise<AuditEntry> {
  const head = (await client.query<{ size: string; at: Date }>('UPDATE audit_head SET size = size + 1 RETURNING size, clock_timestamp() AS at')).rows[0];
  if (!head) throw new Error('the audit_head row is missing: the audit log migration did not run or the row was deleted');
  const entry: AuditEntry = { ...withoutUndefined(event), v: 1, seq: Number(head.size), at: head.at.toISOString() };
  const text = auditEntryText(entry);
  await client.query('INSERT INTO audit_log (seq, entry, leaf_hash, recorded_at, action, actor) VALUES ($1, $2, $3, $4, $5, $6)', [
    entry.seq,
    text,
    Buffer.from(auditHasher.leaf(encoder.encode(text))),
    entry.at,
    entry.action,
    entry.actor,
  ]);
  return entry;
}

/**
 * Makes `change` and records what `describe` says about its result in one transaction: a new one
 * on a pool, the caller's on a client (which must be inside a transaction). `describe` returns
 * undefined when nothing changed (e.g. revoking what was already revoked), and nothing is logged.
 *
 * @example await auditedChange(pool, (client) => client.query('UPDATE …'), (result) => result.rowCount ? { action: 'api-token.revoked', actor, subject: 'api-token:3' } : undefined)
 */
export async function auditedChange<T>(db: Queryable, change: (client: pg.PoolClient) => Promise<T>, describe: (result: T) => AuditEvent | undefined): Promise<T> {
  const run = async (client: pg.PoolClient) => {
    const result = await change(client);
    const event = describe(result);
    if (event) await appendAudit(client, event);
    return result;
  };
  return db instanceof pg.Pool ? withTransaction(db, run) : run(db);
}

/**
 * Records an event that changes nothing else, in its own transaction.
 *
 * @example await recordAudit(pool, { action: 'audit.verified', actor: 'cli:alice', subject: 'audit-log:1' })
 */
export async function recordAudit(pool: pg.Pool, event: AuditEvent): Promise<AuditEntry> {
  return withTransaction(pool, (client) => appendAudit(client, event));
}

/**
 * The actor of an entry from the names the access layer records (`token:ci`, `host:db-7`,
 * `cli:alice`); a bare name (`first start`) is taken to be `defaultKind`'s.
 *
 * @example auditActor('first start') // 'system:first start'
 */
export function auditActor(name: string | undefined, defaultKind = 'system'): string {
  if (name === undefined || name === '') return `${defaultKind}:unknown`;
  return /^[a-z][a-z0-9-]*:./s.test(name) ? name : `${defaultKind}:${name}`;
}

export interface AuditListFilter {
  since?: Date;
  /** An action (`api-token.created`) or a prefix of whole words (`api-token`). */
  action?: string;
  /** The newest this many; default all. */
  limit?: number;
}

export interface AuditListing extends AuditEntry {
  leafHash: string;
}

/**
 * Entries, newest first, as stored (verification is `fleetpatch audit verify`'s job).
 *
 * @example await listAudit(pool, { action: 'host', limit: 20 }) // the last 20 host.* entries
 */
export async function listAudit(db: Queryable, filter: AuditListFilter = {}): Promise<AuditListing[]> {
  const result = await db.query<{ entry: string; leaf_hash: Buffer }>(
    `SELECT entry, leaf_hash FROM audit_log
      WHERE ($1::timestamptz IS NULL OR recorded_at >= $1) AND ($2::text IS NULL OR action = $2 OR action LIKE replace(replace(replace($2, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '.%')
      ORDER BY seq DESC LIMIT $3`,
    [filter.since ?? null, filter.action ?? null, filter.limit ?? null],
  );
  return result.rows.map((row) => ({ ...(JSON.parse(row.entry) as AuditEntry), leafHash: hexOf(row.leaf_hash) }));
}

/**
 * Every stored row in order, for verification and checkpoints.
 *
 * @example (await readAuditRows(pool)).length // the log's size
 */
export async function readAuditRows(db: Queryable): Promise<StoredAuditRow[]> {
  const result = await db.query<{ seq: string; entry: string; leaf_hash: Buffer; action: string; actor: string; recorded_at: Date }>(
    'SELECT seq, entry, leaf_hash, action, actor, recorded_at FROM audit_log ORDER BY seq',
  );
  return result.rows.map((row) => ({ seq: Number(row.seq), entry: row.entry, leafHash: row.leaf_hash, action: row.action, actor: row.actor, recordedAt: row.recorded_at }));
}

/**
 * How many entries the append head has handed out (committed appends only).
 *
 * @example await auditHeadSize(pool) // 42
 */
export async function auditHeadSize(db: Queryable): Promise<number> {
  const row = (await db.query<{ size: string }>('SELECT size FROM audit_head')).rows[0];
  return row ? Number(row.size) : 0;
}

/** Optional fields left undefined are dropped, so an entry's text never depends on how it was built. */
function withoutUndefined(event: AuditEvent): AuditEvent {
  const copy: AuditEvent = { action: event.action, actor: event.actor, subject: event.subject };
  if (event.reason !== undefined) copy.reason = event.reason;
  if (event.details !== undefined) copy.details = Object.fromEntries(Object.entries(event.details).filter(([, value]) => value !== undefined)) as Record<string, JsonValue>;
  return copy;
}
