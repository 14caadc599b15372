/**
 * What a bucket's past rollouts teach: how long a host really takes, from notification to
 * success, so admission before a window's cutoff uses the bucket's own numbers once it has them.
 */
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

/** Hosts measured before the policy's seed gives way to the bucket's own p95. */
export const LEARNED_DURATION_SAMPLES = 5;

/**
 * The p95 of the last 200 hosts' times from `notified` to success in the bucket's rollouts, and
 * how many hosts it is over; undefined before any.
 *
 * @example await hostDurationP95(pool, 'databases') // { p95Ms: 1_260_000, samples: 48 }
 */
export async function hostDurationP95(db: Queryable, bucket: string): Promise<{ p95Ms: number; samples: number } | undefined> {
  const result = await db.query<{ p95_ms: number | null; samples: number }>(
    `SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95_ms, count(*)::int AS samples
       FROM (SELECT extract(epoch FROM done.at - started.at) * 1000 AS duration_ms
               FROM rollout_events done
               JOIN rollouts r ON r.id = done.rollout_id AND r.bucket = $1
               JOIN LATERAL (SELECT at FROM rollout_events n
                              WHERE n.rollout_id = done.rollout_id AND n.host = done.host AND n.kind = 'host' AND n.to_state = 'notified' AND n.id < done.id
                              ORDER BY n.id DESC LIMIT 1) started ON true
              WHERE done.kind = 'host' AND done.to_state IN ('succeeded', 'succeeded-reboot-pending')
              ORDER BY done.id DESC LIMIT 200) recent`,
    [bucket],
  );
  const row = result.rows[0];
  return row && row.samples > 0 && row.p95_ms !== null ? { p95Ms: Math.round(row.p95_ms), samples: row.samples } : undefined;
}
