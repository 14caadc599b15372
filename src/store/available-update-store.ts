/**
 * When each candidate version was first offered to the fleet: the date an update became available
 * when no advisory dates it, so days behind can count from it.
 */
import type pg from 'pg';
import type { AvailableUpdate } from '../domain/types.js';
import { preparedStatement } from './prepared-statement.js';

/** An available update with the moment the fleet first saw its candidate version. */
export interface DatedUpdate extends AvailableUpdate {
  availableSince: string;
}

/**
 * Committed first sightings by candidate, so a check-in offering what the fleet has seen before
 * (the usual case) needs no round trip. A sighting only ever moves earlier, so a remembered one no
 * later than `now` is final as far as this import can tell.
 */
export type FirstSightings = Map<string, string>;

/**
 * Records first sight of every candidate version (the earliest sighting wins) and returns each
 * host's list with `availableSince` filled in, in input order. Runs on its own, outside any
 * transaction: a sighting is a fleet-wide fact, and taking its row locks inside a check-in's
 * transaction could deadlock against another check-in.
 *
 * @example await dateAvailableUpdates(pool, [{ ecosystem: 'Debian:12', updates }], new Date(), new Map())
 */
export async function dateAvailableUpdates(db: pg.Pool, hosts: Array<{ ecosystem: string; updates: AvailableUpdate[] }>, now: Date, known: FirstSightings): Promise<DatedUpdate[][]> {
  const keyOf = (ecosystem: string, name: string, version: string) => `${ecosystem}\u0000${name}\u0000${version}`;
  const nowIso = now.toISOString();
  const distinct = new Map<string, [string, string, string]>();
  for (const { ecosystem, updates } of hosts) {
    for (const update of updates) {
      const key = keyOf(ecosystem, update.name, update.candidateVersion);
      const remembered = known.get(key);
      if (remembered === undefined || remembered > nowIso) distinct.set(key, [ecosystem, update.name, update.candidateVersion]);
    }
  }
  const dated = () => hosts.map(({ ecosystem, updates }) => updates.map((update) => ({ ...update, availableSince: known.get(keyOf(ecosystem, update.name, update.candidateVersion)) ?? nowIso })));
  if (distinct.size === 0) return dated();
  const tuples = [...distinct.values()];
  const columns = [tuples.map((tuple) => tuple[0]), tuples.map((tuple) => tuple[1]), tuples.map((tuple) => tuple[2])];
  // One round trip: rows this statement writes come back from RETURNING, others from the table
  // (an import dated earlier, e.g. a backfill, moves a first sighting back). Sorted, so concurrent check-ins offering the same versions lock rows in one order; a
  // version another check-in records at this very moment is not yet visible and counts from `now`.
  const seen = await db.query<{ ecosystem: string; name: string; version: string; first_seen_at: Date | null }>(
    `WITH offered AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS u(ecosystem, name, version)
     ), recorded AS (
       INSERT INTO update_first_seen AS s (ecosystem, name, version, first_seen_at)
       SELECT ecosystem, name, version, $4 FROM offered ORDER BY 1, 2, 3
       ON CONFLICT (ecosystem, name, version) DO UPDATE SET first_seen_at = excluded.first_seen_at
          WHERE excluded.first_seen_at < s.first_seen_at
       RETURNING ecosystem, name, version, first_seen_at
     )
     SELECT o.ecosystem, o.name, o.version, coalesce(r.first_seen_at, f.first_seen_at) AS first_seen_at
       FROM offered o
       LEFT JOIN recorded r ON (r.ecosystem, r.name, r.version) = (o.ecosystem, o.name, o.version)
       LEFT JOIN update_first_seen f ON (f.ecosystem, f.name, f.version) = (o.ecosystem, o.name, o.version)`,
    [...columns, now],
  );
  for (const row of seen.rows) if (row.first_seen_at) known.set(keyOf(row.ecosystem, row.name, row.version), row.first_seen_at.toISOString());
  return dated();
}

/** Run on every check-in without a list: prepared once per connection. */
const FORGET_UPDATES = preparedStatement('forget-updates', 'DELETE FROM host_available_updates WHERE host_key = ANY($1::integer[])');

/** Replaces the stored lists of these hosts; a host without a list (undefined) keeps none. */
export async function replaceAvailableUpdates(db: pg.PoolClient | pg.Pool, hosts: Array<{ hostKey: number; updates: DatedUpdate[] | undefined }>): Promise<void> {
  const silent = hosts.filter((host) => host.updates === undefined);
  if (silent.length > 0) await db.query(FORGET_UPDATES([silent.map((host) => host.hostKey)]));
  const reporting = hosts.filter((host) => host.updates !== undefined);
  if (reporting.length === 0) return;
  // An unchanged list (the usual delta) is not rewritten.
  await db.query(
    `INSERT INTO host_available_updates AS s (host_key, updates)
     SELECT r.host_key, r.updates FROM jsonb_to_recordset($1::jsonb) AS r(host_key integer, updates jsonb) ORDER BY r.host_key
     ON CONFLICT (host_key) DO UPDATE SET updates = excluded.updates WHERE s.updates IS DISTINCT FROM excluded.updates`,
    [JSON.stringify(reporting.map((host) => ({ host_key: host.hostKey, updates: host.updates })))],
  );
}
