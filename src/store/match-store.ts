/**
 * Detection results per distinct package version (`package_version_matches`): the fleet-wide
 * answer to "which versions does this advisory affect", independent of any host.
 */
import type pg from 'pg';
import type { VersionMatch } from '../domain/detection/version-matcher.js';
import { copyRows, type CopyValue } from './copy-rows.js';
import type { StoredPackageVersion } from './inventory-store.js';

/** Replaces the stored matches of `packages` with what `matchesOf` says now. */
export async function replacePackageMatches(
  client: pg.PoolClient,
  packages: StoredPackageVersion[],
  matchesOf: (pkg: StoredPackageVersion) => VersionMatch[],
  advisoryKeys: Map<string, number>,
): Promise<void> {
  await client.query('DELETE FROM package_version_matches WHERE package_key = ANY($1::integer[])', [packages.map((pkg) => pkg.key)]);
  await copyRows(client, 'package_version_matches', ['package_key', 'advisory_key', 'fixed_version'], matchRows(packages, matchesOf, advisoryKeys));
}

function* matchRows(
  packages: StoredPackageVersion[],
  matchesOf: (pkg: StoredPackageVersion) => VersionMatch[],
  advisoryKeys: Map<string, number>,
): Generator<CopyValue[]> {
  for (const pkg of packages) {
    for (const match of matchesOf(pkg)) yield [pkg.key, advisoryKeys.get(match.advisory.id)!, match.fixedVersion];
  }
}
