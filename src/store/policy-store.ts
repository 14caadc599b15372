/**
 * The `policy_revisions` table and the hosts' stored ownership: applied policy files are numbered
 * revisions (only ever added, the latest is in force), and a policy change re-assigns the bucket
 * and team of stored hosts in short batches. What a revision contains (hash, diff) is decided by
 * the caller; this module only reads and writes rows.
 */
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

export interface PolicyRevisionSummary {
  revision: number;
  contentHash: string;
  author: string;
  message: string;
  source: string;
  appliedAt: Date;
}

export interface PolicyRevision extends PolicyRevisionSummary {
  text: string;
  /** Unified diff against the previous revision. */
  diff: string;
}

export interface NewPolicyRevision {
  contentHash: string;
  author: string;
  message: string;
  source: string;
  text: string;
  diff: string;
}

/** Arbitrary, fixed: one policy apply at a time across processes ("fppo"). */
const POLICY_APPLY_LOCK_KEY = 0x6670706f;
/** Hosts re-assigned per UPDATE: each statement's row locks are held briefly beside check-ins. */
const OWNERSHIP_BATCH = 2_000;

const SUMMARY_COLUMNS = 'revision, content_hash, author, message, source, applied_at';

type SummaryRow = { revision: number; content_hash: string; author: string; message: string; source: string; applied_at: Date };
type RevisionRow = SummaryRow & { policy_text: string; diff: string };

const summaryOf = (row: SummaryRow): PolicyRevisionSummary => ({ revision: row.revision, contentHash: row.content_hash, author: row.author, message: row.message, source: row.source, appliedAt: row.applied_at });
const revisionOf = (row: RevisionRow): PolicyRevision => ({ ...summaryOf(row), text: row.policy_text, diff: row.diff });

/**
 * Serialises policy applies until the caller's transaction ends, so two applies never take the
 * same revision number or diff against the same predecessor.
 */
export async function lockPolicyRevisions(client: pg.PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [POLICY_APPLY_LOCK_KEY]);
}

/**
 * @example (await latestPolicyRevision(pool))?.revision // 7, or undefined before the first apply
 */
export async function latestPolicyRevision(db: Queryable): Promise<PolicyRevision | undefined> {
  const row = (await db.query<RevisionRow>(`SELECT ${SUMMARY_COLUMNS}, policy_text, diff FROM policy_revisions ORDER BY revision DESC LIMIT 1`)).rows[0];
  return row ? revisionOf(row) : undefined;
}

/** @example (await policyRevision(pool, 3))?.text */
export async function policyRevision(db: Queryable, revision: number): Promise<PolicyRevision | undefined> {
  const row = (await db.query<RevisionRow>(`SELECT ${SUMMARY_COLUMNS}, policy_text, diff FROM policy_revisions WHERE revision = $1`, [revision])).rows[0];
  return row ? revisionOf(row) : undefined;
}

/** Every revision, newest first, without the texts. */
export async function listPolicyRevisions(db: Queryable): Promise<PolicyRevisionSummary[]> {
  return (await db.query<SummaryRow>(`SELECT ${SUMMARY_COLUMNS} FROM policy_revisions ORDER BY revision DESC`)).rows.map(summaryOf);
}

/** Stores the next revision (call under `lockPolicyRevisions`) and returns its number. */
export async function insertPolicyRevision(client: pg.PoolClient, revision: NewPolicyRevision): Promise<PolicyRevisionSummary> {
  const row = (await client.query<SummaryRow>(
    `INSERT INTO policy_revisions (revision, content_hash, author, message, source, policy_text, diff)
     SELECT coalesce(max(revision), 0) + 1, $1, $2, $3, $4, $5, $6 FROM policy_revisions
     RETURNING ${SUMMARY_COLUMNS}`,
    [revision.contentHash, revision.author, revision.message, revision.source, revision.text, revision.diff],
  )).rows[0]!;
  return summaryOf(row);
}

/** A stored host as ownership rules see it, with the bucket and team it has now. */
export interface StoredHostOwnership {
  key: number;
  name: string;
  labels: Record<string, string>;
  osId: string | null;
  osIdLike: string[] | null;
  osVersion: string | null;
  bucket: string;
  team: string;
}

/** Stored hosts' names, labels, OS and ownership, by key: all of them, or a page after `afterKey`. */
export async function storedHostOwnership(db: Queryable, page?: { afterKey: number; limit: number }): Promise<StoredHostOwnership[]> {
  const result = await db.query<{ key: number; name: string; labels: Record<string, string>; os_id: string | null; os_id_like: string[] | null; os_version: string | null; bucket: string; team: string }>(
    `SELECT key, name, labels, os_id, os_id_like, os_version, bucket, team FROM hosts${page ? ' WHERE key > $1 ORDER BY key LIMIT $2' : ''}`,
    page ? [page.afterKey, page.limit] : [],
  );
  return result.rows.map((row) => ({ key: row.key, name: row.name, labels: row.labels, osId: row.os_id, osIdLike: row.os_id_like, osVersion: row.os_version, bucket: row.bucket, team: row.team }));
}

/**
 * Sets the bucket and team of the given hosts in batches of their own transactions; a host whose
 * row already says the same is not written. Returns how many rows changed.
 */
export async function updateHostOwnership(pool: pg.Pool, changes: Array<{ key: number; bucket: string; team: string }>): Promise<number> {
  let updated = 0;
  for (let start = 0; start < changes.length; start += OWNERSHIP_BATCH) {
    const batch = changes.slice(start, start + OWNERSHIP_BATCH);
    const result = await pool.query(
      `UPDATE hosts AS h SET bucket = u.bucket, team = u.team
         FROM unnest($1::int[], $2::text[], $3::text[]) AS u(key, bucket, team)
        WHERE h.key = u.key AND (h.bucket IS DISTINCT FROM u.bucket OR h.team IS DISTINCT FROM u.team)`,
      [batch.map((change) => change.key), batch.map((change) => change.bucket), batch.map((change) => change.team)],
    );
    updated += result.rowCount ?? 0;
  }
  return updated;
}
