/**
 * Statements PostgreSQL parses and plans once per connection instead of on every call, for the ones
 * run hundreds of times a second (a result recorded, a host's news, the reads and writes of a
 * pass, a check-in's hosts upsert): planning alone was over a third of the database's time in
 * `bench:rollout`. The text must be fixed, values only as parameters: one name, one text. A
 * statement whose best plan depends on the size of a table that grows fast from empty (the job
 * fetch over `rollout_jobs`) is better left unprepared: the plan made while it was small stays.
 */
import type pg from 'pg';

/**
 * @example const FORGET = preparedStatement('forget-updates', 'DELETE FROM host_available_updates WHERE host_key = ANY($1::integer[])'); await pool.query(FORGET([[7]]))
 */
export function preparedStatement(name: string, text: string): (values: unknown[]) => pg.QueryConfig {
  return (values) => ({ name: `fleetpatch-${name}`, text, values });
}
