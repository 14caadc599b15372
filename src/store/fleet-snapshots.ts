/**
 * Daily fleet snapshots: once a day (UTC) the per-(bucket, team) sums of the fleet summary are
 * kept as rows, so a team's days behind, coverage and open findings can be drawn over 13 months
 * although each host only knows its present. A snapshot is one aggregate over the hosts and a few
 * dozen rows, whatever the fleet's size; the first replica to take a day's snapshot wins
 * (`ON CONFLICT DO NOTHING`), so several replicas never double it.
 */
import type pg from 'pg';
import { addRows, emptyRow, fleetRowOf, HOST_GROUPS_SQL, type FleetRow, type HostGroupRow } from './fleet-queries.js';

type Queryable = pg.Pool | pg.PoolClient;

const DAY_MS = 86_400_000;
/** 13 months and a little: a year-over-year comparison always has its month. */
export const SNAPSHOT_RETENTION_DAYS = 400;

/** `2026-12-02` for any instant of that UTC day. */
export function snapshotDay(instant: Date): string {
  return instant.toISOString().slice(0, 10);
}

/**
 * Takes the snapshot of `day` (by default `now`'s) as the hosts stand at `now`, unless that day has
 * one already, and drops the snapshots past the retention. Answers whether this call took it.
 *
 * @example await takeFleetSnapshot(pool, { now: new Date(), staleAfterSeconds: 3600 })
 */
export async function takeFleetSnapshot(db: Queryable, options: { now: Date; staleAfterSeconds: number; day?: string; replace?: boolean }): Promise<{ day: string; taken: boolean; groups: number }> {
  const day = options.day ?? snapshotDay(options.now);
  // Replacing is for a day whose history was just rebuilt (the demo's replay), never the daily look.
  if (options.replace) await db.query('DELETE FROM fleet_snapshots WHERE day = $1::date', [day]);
  const inserted = await db.query(
    `INSERT INTO fleet_snapshots (day, bucket, team, taken_at, hosts, stale, clean, critical, high, medium, low, other, pending_reboots, fixes, fix_day_sum, available_updates, under7, under30, under90, under365, over365, max_uptime_days)
     SELECT $3::date, bucket, team, $1::timestamptz, hosts, stale, clean, coalesce(critical, 0), coalesce(high, 0), coalesce(medium, 0), coalesce(low, 0), coalesce(other, 0), pending_reboots,
            coalesce(fixes, 0), coalesce(fix_day_sum, 0), available_updates, under7, under30, under90, under365, over365, max_uptime_days
       FROM (${HOST_GROUPS_SQL}) AS groups
      WHERE NOT EXISTS (SELECT 1 FROM fleet_snapshots WHERE day = $3::date)
     ON CONFLICT (day, bucket, team) DO NOTHING`,
    [options.now, options.staleAfterSeconds, day],
  );
  await db.query('DELETE FROM fleet_snapshots WHERE day < $1::date - $2::integer', [day, SNAPSHOT_RETENTION_DAYS]);
  return { day, taken: (inserted.rowCount ?? 0) > 0, groups: inserted.rowCount ?? 0 };
}

export interface FleetTrendPoint extends Omit<FleetRow, 'dimension' | 'name'> {
  day: string;
}

export interface FleetTrends {
  dimension: 'bucket' | 'team';
  from: string;
  until: string;
  /** One series per bucket or team (and the fleet), a point per day that has a snapshot, oldest first. */
  series: Array<{ name: string; points: FleetTrendPoint[] }>;
  fleet: FleetTrendPoint[];
}

/**
 * The snapshots of the `days` days up to `until`, summed per bucket or per team; days behind are
 * counted to the moment each snapshot was taken.
 *
 * @example await fleetTrends(pool, { dimension: 'team', days: 90, until: new Date() })
 */
export async function fleetTrends(db: Queryable, options: { dimension: 'bucket' | 'team'; days: number; until: Date }): Promise<FleetTrends> {
  const until = snapshotDay(options.until);
  const from = snapshotDay(new Date(Date.parse(`${until}T00:00:00Z`) - (options.days - 1) * DAY_MS));
  const rows = await db.query<HostGroupRow & { day: string; taken_at: Date }>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, taken_at, bucket, team, hosts, stale, clean, critical, high, medium, low, other, pending_reboots,
            fixes, fix_day_sum, available_updates, under7, under30, under90, under365, over365, max_uptime_days
       FROM fleet_snapshots WHERE day BETWEEN $1::date AND $2::date ORDER BY day`,
    [from, until],
  );
  const byGroup = new Map<string, Map<string, { row: HostGroupRow; takenAt: Date }>>();
  const fleet = new Map<string, { row: HostGroupRow; takenAt: Date }>();
  for (const row of rows.rows) {
    const name = options.dimension === 'bucket' ? row.bucket! : row.team!;
    const days = byGroup.get(name) ?? new Map<string, { row: HostGroupRow; takenAt: Date }>();
    byGroup.set(name, days);
    days.set(row.day, { row: addRows(days.get(row.day)?.row ?? emptyRow(), row), takenAt: row.taken_at });
    fleet.set(row.day, { row: addRows(fleet.get(row.day)?.row ?? emptyRow(), row), takenAt: row.taken_at });
  }
  const points = (days: Map<string, { row: HostGroupRow; takenAt: Date }>): FleetTrendPoint[] =>
    [...days].map(([day, { row, takenAt }]) => {
      const { dimension: _dimension, name: _name, ...numbers } = fleetRowOf('fleet', 'fleet', row, takenAt.getTime() / DAY_MS);
      return { day, ...numbers };
    });
  return {
    dimension: options.dimension,
    from,
    until,
    series: [...byGroup].map(([name, days]) => ({ name, points: points(days) })).sort((a, b) => a.name.localeCompare(b.name)),
    fleet: points(fleet),
  };
}
