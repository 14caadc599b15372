/**
 * Runs a unit of work in one PostgreSQL transaction: an import either lands whole or not at all,
 * so a killed process or a rejected record never leaves the database half-written.
 */
import type pg from 'pg';

/**
 * @example await withTransaction(pool, async (client) => { await client.query('…'); })
 */
export async function withTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
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
