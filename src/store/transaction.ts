/**
 * Runs a unit of work in one PostgreSQL transaction: an import either lands whole or not at all,
 * so a killed process or a rejected record never leaves the database half-written.
 */
import type pg from 'pg';

/**
 * `waitForFlush: false` suits writes the sender repeats when they are lost: the commit is still
 * atomic and ordered, only the last fraction of a second may be lost in a crash.
 *
 * @example await withTransaction(pool, async (client) => { await client.query('…'); })
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, options: { waitForFlush?: boolean } = {}): Promise<T> {
  const client = await pool.connect();
  try {
    // One round trip: begin, and (for work that is safe to replay) do not wait for the WAL flush.
    await client.query(options.waitForFlush === false ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
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
