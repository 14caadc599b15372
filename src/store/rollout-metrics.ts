/** Rollout numbers for /metrics, straight from the database so every replica shows the same. */
import type pg from 'pg';
import { TERMINAL_ROLLOUT_STATES } from '../domain/rollout/rollout-model.js';

type Queryable = pg.Pool | pg.PoolClient;

const TERMINAL = [...TERMINAL_ROLLOUT_STATES];

export interface RolloutMetricCounts {
  rollouts: Array<{ bucket: string; state: string; count: number }>;
  /** Hosts of rollouts that have not ended, by state. */
  hosts: Array<{ bucket: string; state: string; count: number }>;
  gateMeasurements: Array<{ phase: string; count: number }>;
}

/** What /metrics shows of rollouts: bounded labels only (bucket, state, phase). */
export async function rolloutMetricCounts(db: Queryable): Promise<RolloutMetricCounts> {
  const [rollouts, hosts, measurements] = await Promise.all([
    db.query<{ bucket: string; state: string; count: number }>('SELECT bucket, state, count(*)::int AS count FROM rollouts GROUP BY bucket, state'),
    db.query<{ bucket: string; state: string; count: number }>('SELECT r.bucket, c.state, sum(c.n)::int AS count FROM rollout_host_counts c JOIN rollouts r ON r.id = c.rollout_id WHERE r.state <> ALL($1::text[]) AND c.n > 0 GROUP BY r.bucket, c.state', [TERMINAL]),
    db.query<{ phase: string; count: number }>('SELECT phase, count(*)::int AS count FROM gate_measurements GROUP BY phase'),
  ]);
  return { rollouts: rollouts.rows, hosts: hosts.rows, gateMeasurements: measurements.rows };
}
