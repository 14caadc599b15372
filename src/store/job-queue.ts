/**
 * The jobs the server runs itself (SSH, command hooks, the Kubernetes API), taken from
 * `rollout_jobs` with leases: a worker claims due jobs with `FOR UPDATE SKIP LOCKED`, so replicas
 * never take one job twice, and renews its claim while the job runs; a dead worker's job is taken
 * again once its claim expires. The claim writes `started_at` before the executor acts, so the
 * next holder knows the job was started (migration 0011).
 */
import type pg from 'pg';
import type { JobExecutor, RolloutSettings } from '../domain/rollout/rollout-model.js';
import type { HostJob } from '../protocol/job-protocol.js';

type Queryable = pg.Pool | pg.PoolClient;

export interface ClaimedJob {
  key: string;
  host: string;
  rolloutId: number;
  bucket: string;
  executor: Exclude<JobExecutor, 'agent'>;
  job: HostJob;
  /** The rollout's frozen settings: which executor settings, which hook. */
  settings: RolloutSettings;
  labels: Record<string, string>;
  /** An earlier holder started it and died before its result: only a resumable step may run again. */
  startedBefore: boolean;
  firstStartedAt: Date;
}

interface ClaimRow {
  key: string;
  host: string;
  rollout_id: number;
  executor: ClaimedJob['executor'];
  job: HostJob;
  started_at: Date;
  started_before: Date | null;
  bucket: string;
  settings: RolloutSettings;
  labels: Record<string, string> | null;
}

/**
 * Claims up to `limit` unreported server-side jobs that nobody holds (or whose holder's claim
 * expired), oldest first, for `leaseMs`.
 *
 * @example await claimServerJobs(pool, 'replica-a', new Date(), 30_000, 8) // [{ key: '7:node-3:drain:1', executor: 'kubernetes', … }]
 */
export async function claimServerJobs(db: Queryable, holder: string, now: Date, leaseMs: number, limit: number): Promise<ClaimedJob[]> {
  if (limit <= 0) return [];
  const claimed = await db.query<ClaimRow>(
    `WITH due AS (
       SELECT key, started_at FROM rollout_jobs
        WHERE reported_at IS NULL AND executor <> 'agent' AND (claimed_until IS NULL OR claimed_until < $2)
        ORDER BY dispatched_at, key LIMIT $4 FOR UPDATE SKIP LOCKED
     ), claimed AS (
       UPDATE rollout_jobs j SET claimed_by = $1, claimed_until = $2::timestamptz + make_interval(secs => $3::double precision / 1000),
              started_at = COALESCE(j.started_at, $2), fetched_at = COALESCE(j.fetched_at, $2)
         FROM due WHERE j.key = due.key
       RETURNING j.key, j.host, j.rollout_id, j.executor, j.job, j.started_at, due.started_at AS started_before
     )
     SELECT c.*, r.bucket, r.settings, h.labels FROM claimed c JOIN rollouts r ON r.id = c.rollout_id LEFT JOIN hosts h ON h.name = c.host
      ORDER BY c.key`,
    [holder, now, leaseMs, limit],
  );
  return claimed.rows.map((row) => ({
    key: row.key,
    host: row.host,
    rolloutId: row.rollout_id,
    bucket: row.bucket,
    executor: row.executor,
    job: row.job,
    settings: row.settings,
    labels: row.labels ?? {},
    startedBefore: row.started_before !== null,
    firstStartedAt: row.started_at,
  }));
}

/** Extends `holder`'s claim on a running job; false when it is no longer this holder's (expired and taken, or reported). */
export async function renewJobClaim(db: Queryable, key: string, holder: string, now: Date, leaseMs: number): Promise<boolean> {
  const renewed = await db.query(
    `UPDATE rollout_jobs SET claimed_until = $3::timestamptz + make_interval(secs => $4::double precision / 1000)
      WHERE key = $1 AND claimed_by = $2 AND reported_at IS NULL`,
    [key, holder, now, leaseMs],
  );
  return (renewed.rowCount ?? 0) > 0;
}

/** Gives this holder's claims back (a server stopping): another worker may take the jobs at once. */
export async function releaseJobClaims(db: Queryable, holder: string): Promise<void> {
  await db.query('UPDATE rollout_jobs SET claimed_until = NULL WHERE claimed_by = $1 AND reported_at IS NULL', [holder]);
}
