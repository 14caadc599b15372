/**
 * Remembers which package versions and package sets are already stored. Both are immutable rows
 * (a tuple's key and a set's key never change), so the cache is always safe to use, also beside
 * other fleetpatch replicas: a miss just asks the database.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { InstalledPackage } from '../domain/types.js';
import { ensurePackageSets, ensurePackageVersions, packageTupleKey, type StoredPackageVersion } from './inventory-store.js';

type Queryable = pg.Pool | pg.PoolClient;

export class PackageCatalog {
  private readonly byTuple = new Map<string, StoredPackageVersion>();
  private readonly setByDigest = new Map<string, number>();

  /**
   * The stored (keyed) version of each package, inserting the ones not stored yet. Returns one
   * shared object per distinct tuple, so every host running a version points at the same object.
   * Looked up by tuple, not remembered per input object: a server parses fresh objects on every
   * check-in, and a weak map of millions of dead entries costs more (rehashing, ephemeron
   * marking in every GC) than building the tuple strings.
   */
  async resolve(db: Queryable, packages: Iterable<InstalledPackage>): Promise<Map<InstalledPackage, StoredPackageVersion>> {
    const resolved = new Map<InstalledPackage, StoredPackageVersion>();
    const missing = new Map<string, InstalledPackage[]>();
    for (const pkg of packages) {
      if (resolved.has(pkg)) continue;
      const tuple = packageTupleKey(pkg);
      const known = this.byTuple.get(tuple);
      if (known) resolved.set(pkg, known);
      else missing.set(tuple, [...(missing.get(tuple) ?? []), pkg]);
    }
    if (missing.size > 0) {
      const keys = await ensurePackageVersions(db, [...missing.values()].map((same) => same[0]!));
      for (const [tuple, same] of missing) {
        const stored = { ...same[0]!, key: keys.get(tuple)! };
        this.byTuple.set(tuple, stored);
        for (const pkg of same) resolved.set(pkg, stored);
      }
    }
    return resolved;
  }

  /** Canonical objects for package versions read back from the database. */
  adopt(stored: StoredPackageVersion): StoredPackageVersion {
    const tuple = packageTupleKey(stored);
    const known = this.byTuple.get(tuple);
    if (known) return known;
    this.byTuple.set(tuple, stored);
    return stored;
  }

  /** Keys of the package sets holding exactly these lists of package keys, in input order. */
  async packageSets(db: Queryable, packageKeyLists: number[][]): Promise<number[]> {
    const digests = packageKeyLists.map(digestOf);
    const unknown = [...new Set(digests.filter((digest) => !this.setByDigest.has(digest)))];
    if (unknown.length > 0) {
      const listByDigest = new Map(digests.map((digest, index) => [digest, packageKeyLists[index]!]));
      const keys = await ensurePackageSets(db, unknown.map((digest) => ({ digest, packageKeys: sortedUnique(listByDigest.get(digest)!) })));
      unknown.forEach((digest, index) => this.setByDigest.set(digest, keys[index]!));
    }
    return digests.map((digest) => this.setByDigest.get(digest)!);
  }
}

function sortedUnique(keys: number[]): number[] {
  return [...new Set(keys)].sort((a, b) => a - b);
}

/** SHA-256 of the sorted, de-duplicated keys as 32-bit integers: the set's content address. */
export function digestOf(keys: number[]): string {
  const sorted = Int32Array.from(new Set(keys)).sort();
  return createHash('sha256').update(new Uint8Array(sorted.buffer)).digest('hex');
}
