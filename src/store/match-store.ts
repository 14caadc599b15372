/**
 * Detection results per distinct package version (`package_version_matches`): the fleet-wide
 * answer to "which versions does this advisory affect", independent of any host.
 */
import type pg from 'pg';
import type { VersionMatch } from '../domain/detection/version-matcher.js';
import type { StoredPackageVersion } from './inventory-store.js';

const MATCH_BATCH = 10_000;

/**
 * Replaces the stored matches of `packages` with what `matchesOf` says now. Another process may
 * write the same versions' matches at the same moment (a version new to two replicas at once):
 * both hold the same advisory generation, so they write the same rows, and an upsert in key order
 * lets the second wait for the first instead of failing on the primary key.
 */
export async function replacePackageMatches(
  client: pg.PoolClient,
  packages: StoredPackageVersion[],
  matchesOf: (pkg: StoredPackageVersion) => VersionMatch[],
  advisoryKeys: Map<string, number>,
): Promise<void> {
  const rows: Array<[advisoryKey: number, packageKey: number, fixedVersion: string | null]> = [];
  for (const pkg of packages) for (const match of matchesOf(pkg)) rows.push([advisoryKeys.get(match.advisory.id)!, pkg.key, match.fixedVersion ?? null]);
  rows.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  // The first batch goes with the delete in one statement (one round trip for a check-in's few new
  // versions): the delete takes only rows outside the new matches, the upsert only rows inside.
  for (let start = 0; start === 0 || start < rows.length; start += MATCH_BATCH) {
    const batch = rows.slice(start, start + MATCH_BATCH);
    const upsert = `INSERT INTO package_version_matches AS m (advisory_key, package_key, fixed_version)
       SELECT * FROM unnest($1::integer[], $2::integer[], $3::text[])
       ON CONFLICT (advisory_key, package_key) DO UPDATE SET fixed_version = excluded.fixed_version
        WHERE m.fixed_version IS DISTINCT FROM excluded.fixed_version`;
    const columns = [batch.map((row) => row[0]), batch.map((row) => row[1]), batch.map((row) => row[2])];
    if (start > 0) {
      await client.query(upsert, columns);
      continue;
    }
    await client.query(
      `WITH deleted AS (
         DELETE FROM package_version_matches m
          WHERE m.package_key = ANY($4::integer[])
            AND (m.advisory_key, m.package_key) NOT IN (SELECT * FROM unnest($5::integer[], $6::integer[]))
       ), upserted AS (${upsert} RETURNING 1)
       SELECT 1`,
      [...columns, packages.map((pkg) => pkg.key), rows.map((row) => row[0]), rows.map((row) => row[1])],
    );
  }
}
