/**
 * Statements PostgreSQL parses and plans once per connection instead of on every call, for the ones
 * run hundreds of times a second (a job fetched, a result recorded, the reads and writes of a
 * pass): planning alone was over a third of the database's time in `bench:rollout`. The text must
 * be fixed, values only as parameters: one name, one text.
 */
import type pg from 'pg';

/**
 * @example const FETCH = preparedStatement('fetch-job', 'SELECT job FROM rollout_jobs WHERE key = $1'); await pool.query(FETCH([key]))
 */
export function preparedStatement(name: string, text: string): (values: unknown[]) => pg.QueryConfig {
  return (values) => ({ name: `fleetpatch-${name}`, text, values });
}
