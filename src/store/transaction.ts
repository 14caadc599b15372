/**
 * Runs a unit of work in one PostgreSQL transaction: an import either lands whole or not at all,
 * so a killed process or a rejected record never leaves the database half-written.
 */
import type pg from 'pg';

/**
 * `waitForFlush: false` suits writes the sender repeats when they are lost: the commit is still
 * atomic and ordered, only the last fraction of a second may be lost in a crash.
 * `genericPlans: true` has the transaction's prepared statements use their generic plan even where
 * PostgreSQL would plan each call anew: for statements over arrays whose generic plan is as good,
 * but whose estimate (100 rows an array) keeps PostgreSQL planning them on every call. Not for a
 * statement whose best plan depends on its values: the generic plan of a rollout pass's read made
 * it ten times slower in bench:rollout.
 *
 * @example await withTransaction(pool, async (client) => { await client.query('…'); })
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, options: { waitForFlush?: boolean; genericPlans?: boolean } = {}): Promise<T> {
  const client = await pool.connect();
  try {
    // One round trip: begin, and the transaction's settings.
    await client.query(['BEGIN', ...(options.waitForFlush === false ? ['SET LOCAL synchronous_commit = off'] : []), ...(options.genericPlans ? ['SET LOCAL plan_cache_mode = force_generic_plan'] : [])].join('; '));
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** PostgreSQL's deadlock_detected: the statement it aborted changed nothing. */
const DEADLOCK_DETECTED = '40P01';

/**
 * Runs `work` (one statement, or a transaction of its own) again when PostgreSQL broke a deadlock
 * by aborting it: batched writes lock many rows, and the engine's pass locks many of the same.
 *
 * @example await retryingDeadlocks(() => recordJobResults(pool, reports))
 */
export async function retryingDeadlocks<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= attempts || (error as { code?: unknown }).code !== DEADLOCK_DETECTED) throw error;
    }
  }
}
