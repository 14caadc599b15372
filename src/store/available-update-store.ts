/**
 * When each candidate version was first offered to the fleet: the date an update became available
 * when no advisory dates it, so days behind can count from it.
 */
import type pg from 'pg';
import type { AvailableUpdate } from '../domain/types.js';

/** An available update with the moment the fleet first saw its candidate version. */
export interface DatedUpdate extends AvailableUpdate {
  availableSince: string;
}

/**
 * Records first sight of every candidate version (earlier sightings win) and returns each host's
 * list with `availableSince` filled in, in input order.
 *
 * @example await dateAvailableUpdates(client, [{ ecosystem: 'Debian:12', updates }], new Date())
 */
export async function dateAvailableUpdates(db: pg.PoolClient | pg.Pool, hosts: Array<{ ecosystem: string; updates: AvailableUpdate[] }>, now: Date): Promise<DatedUpdate[][]> {
  const keyOf = (ecosystem: string, name: string, version: string) => `${ecosystem}\u0000${name}\u0000${version}`;
  const distinct = new Map<string, [string, string, string]>();
  for (const { ecosystem, updates } of hosts) for (const update of updates) distinct.set(keyOf(ecosystem, update.name, update.candidateVersion), [ecosystem, update.name, update.candidateVersion]);
  if (distinct.size === 0) return hosts.map(() => []);
  const tuples = [...distinct.values()];
  const columns = [tuples.map((tuple) => tuple[0]), tuples.map((tuple) => tuple[1]), tuples.map((tuple) => tuple[2])];
  // Sorted, so concurrent check-ins offering the same versions take their row locks in one order.
  await db.query(
    `INSERT INTO update_first_seen (ecosystem, name, version, first_seen_at)
     SELECT u.ecosystem, u.name, u.version, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(ecosystem, name, version)
      ORDER BY 1, 2, 3
     ON CONFLICT DO NOTHING`,
    [...columns, now],
  );
  const seen = await db.query<{ ecosystem: string; name: string; version: string; first_seen_at: Date }>(
    `SELECT f.ecosystem, f.name, f.version, f.first_seen_at FROM update_first_seen f
       JOIN unnest($1::text[], $2::text[], $3::text[]) AS u(ecosystem, name, version)
         ON (f.ecosystem, f.name, f.version) = (u.ecosystem, u.name, u.version)`,
    columns,
  );
  const firstSeen = new Map(seen.rows.map((row) => [keyOf(row.ecosystem, row.name, row.version), row.first_seen_at.toISOString()]));
  return hosts.map(({ ecosystem, updates }) =>
    updates.map((update) => ({ ...update, availableSince: firstSeen.get(keyOf(ecosystem, update.name, update.candidateVersion)) ?? now.toISOString() })),
  );
}

/** Replaces the stored lists of these hosts; a host without a list (undefined) keeps none. */
export async function replaceAvailableUpdates(db: pg.PoolClient | pg.Pool, hosts: Array<{ hostKey: number; updates: DatedUpdate[] | undefined }>): Promise<void> {
  if (hosts.length === 0) return;
  await db.query('DELETE FROM host_available_updates WHERE host_key = ANY($1::integer[])', [hosts.map((host) => host.hostKey)]);
  const reporting = hosts.filter((host) => host.updates !== undefined);
  if (reporting.length === 0) return;
  await db.query(
    `INSERT INTO host_available_updates (host_key, updates)
     SELECT r.host_key, r.updates FROM jsonb_to_recordset($1::jsonb) AS r(host_key integer, updates jsonb) ORDER BY r.host_key`,
    [JSON.stringify(reporting.map((host) => ({ host_key: host.hostKey, updates: host.updates })))],
  );
}
