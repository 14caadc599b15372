/**
 * Remembers which package versions and package sets are already stored. Both are immutable rows
 * (a tuple's key and a set's key never change), so the cache is always safe to use, also beside
 * other fleetpatch replicas: a miss just asks the database. It holds committed rows only: a
 * transaction's new rows wait in its `CatalogStage` until `publish`, because a concurrent check-in
 * that used an uncommitted set key would fail its foreign key check (and one that rolled back
 * would leave keys to nothing).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { InstalledPackage } from '../domain/types.js';
import { ensurePackageSets, ensurePackageVersions, packageTupleKey, type StoredPackageVersion } from './inventory-store.js';

type Queryable = pg.Pool | pg.PoolClient;

/** Rows one transaction added: its own later lookups see them, other transactions after `publish`. */
export class CatalogStage {
  readonly tuples = new Map<string, StoredPackageVersion>();
  readonly sets = new Map<string, number>();
}

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
  async resolve(db: Queryable, packages: Iterable<InstalledPackage>, stage: CatalogStage): Promise<Map<InstalledPackage, StoredPackageVersion>> {
    const resolved = new Map<InstalledPackage, StoredPackageVersion>();
    const missing = new Map<string, InstalledPackage[]>();
    for (const pkg of packages) {
      if (resolved.has(pkg)) continue;
      const tuple = packageTupleKey(pkg);
      const known = this.byTuple.get(tuple) ?? stage.tuples.get(tuple);
      if (known) resolved.set(pkg, known);
      else missing.set(tuple, [...(missing.get(tuple) ?? []), pkg]);
    }
    if (missing.size > 0) {
      const keys = await ensurePackageVersions(db, [...missing.values()].map((same) => same[0]!));
      for (const [tuple, same] of missing) {
        const stored = { ...same[0]!, key: keys.get(tuple)! };
        stage.tuples.set(tuple, stored);
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
  async packageSets(db: Queryable, packageKeyLists: number[][], stage: CatalogStage): Promise<number[]> {
    const digests = packageKeyLists.map(digestOf);
    const keyOf = (digest: string) => this.setByDigest.get(digest) ?? stage.sets.get(digest);
    const unknown = [...new Set(digests.filter((digest) => keyOf(digest) === undefined))];
    if (unknown.length > 0) {
      const listByDigest = new Map(digests.map((digest, index) => [digest, packageKeyLists[index]!]));
      const keys = await ensurePackageSets(db, unknown.map((digest) => ({ digest, packageKeys: sortedUnique(listByDigest.get(digest)!) })));
      unknown.forEach((digest, index) => stage.sets.set(digest, keys[index]!));
    }
    return digests.map((digest) => keyOf(digest)!);
  }

  /** Makes a committed transaction's new rows known to every later lookup. */
  publish(stage: CatalogStage): void {
    for (const [tuple, stored] of stage.tuples) if (!this.byTuple.has(tuple)) this.byTuple.set(tuple, stored);
    for (const [digest, key] of stage.sets) this.setByDigest.set(digest, key);
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
