/**
 * Canonical-level drift as the fleet stores it: for the packages whose name matches a baseline's
 * glob, which versions each owner team runs and on how many hosts. Read from hosts →
 * package_sets.package_keys → package_versions, so hosts that share a package set are counted
 * together and no per-host package rows are scanned.
 */
import type pg from 'pg';

type Queryable = pg.Pool | pg.PoolClient;

export interface InstalledVersionCount {
  team: string;
  packageName: string;
  ecosystem: string;
  version: string;
  /** Hosts of the team with this version installed (a host with two versions counts in both). */
  hosts: number;
}

/** A baseline glob (`*` any run, `?` one character) as a LIKE pattern with `\` escaping. */
export function globToLike(glob: string): string {
  return glob.replace(/[\\%_]/g, '\\$&').replaceAll('*', '%').replaceAll('?', '_');
}

/**
 * Installed versions of the packages matching `glob` (and `ecosystem`, which also matches its
 * releases: `Debian` matches `Debian:12`, as baselines do), per team and version.
 *
 * @example await installedVersionsByTeam(pool, 'postgresql-*') // [{ team: 'data-platform', packageName: 'postgresql-16', version: '16.4-1', hosts: 12, … }, …]
 */
export async function installedVersionsByTeam(db: Queryable, glob: string, ecosystem?: string): Promise<InstalledVersionCount[]> {
  const result = await db.query<{ team: string; name: string; ecosystem: string; version: string; hosts: number }>(
    `WITH matching AS (
            SELECT key, name, ecosystem, version FROM package_versions
             WHERE name LIKE $1 ESCAPE '\\' AND ($2::text IS NULL OR ecosystem = $2 OR starts_with(ecosystem, $2 || ':'))),
          set_hosts AS (
            SELECT package_set_key, team, count(*)::integer AS hosts FROM hosts WHERE package_set_key IS NOT NULL GROUP BY 1, 2),
          -- Distinct per set: two architectures of one version are one version on the host.
          set_versions AS (
            SELECT DISTINCT s.key, m.name, m.ecosystem, m.version
              FROM package_sets s
              CROSS JOIN LATERAL unnest(s.package_keys) AS k(key)
              JOIN matching m ON m.key = k.key
             WHERE s.package_keys && ARRAY(SELECT key FROM matching)
               AND s.key IN (SELECT package_set_key FROM set_hosts))
     SELECT sh.team, sv.name, sv.ecosystem, sv.version, sum(sh.hosts)::integer AS hosts
       FROM set_hosts sh JOIN set_versions sv ON sv.key = sh.package_set_key
      GROUP BY 1, 2, 3, 4
      ORDER BY sv.name, sh.team, hosts DESC, sv.version`,
    [globToLike(glob), ecosystem ?? null],
  );
  return result.rows.map((row) => ({ team: row.team, packageName: row.name, ecosystem: row.ecosystem, version: row.version, hosts: row.hosts }));
}
