/**
 * Remembers which package versions and package sets are stored, so a check-in of known packages
 * needs no round trip. A tuple's key and a set's key never change, but unreferenced rows are
 * pruned (`prunePackages`), also by other processes, so an entry is trusted only for `trustSeconds`
 * after a check-in confirmed the row (which keeps the row from being pruned for longer than that);
 * later it is looked up, and confirmed, again. It holds committed rows only: a transaction's new
 * rows wait in its `CatalogStage` until `publish`, because a concurrent check-in that used an
 * uncommitted set key would fail its foreign key check (and one that rolled back would leave keys
 * to nothing). Both maps are bounded: the oldest confirmations go first.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { InstalledPackage } from '../domain/types.js';
import { ensurePackageSets, ensurePackageVersions, packageTupleKey, type StoredPackageVersion } from './inventory-store.js';

type Queryable = pg.Pool | pg.PoolClient;

interface Confirmed<T> {
  value: T;
  /** `Date.now()` when a check-in confirmed the row. */
  confirmedAt: number;
}

/** Rows one transaction added or confirmed: its own later lookups see them, other transactions after `publish`. */
export class CatalogStage {
  readonly tuples = new Map<string, StoredPackageVersion>();
  readonly sets = new Map<string, number>();
  /** Package versions this transaction inserted (not merely found). */
  inserted = 0;
  readonly startedAt = Date.now();
}

export interface PackageCatalogOptions {
  /** How long a confirmed row is used without asking the database again. */
  trustSeconds: number;
  maxVersions: number;
  maxSets: number;
}

export const DEFAULT_CATALOG_OPTIONS: PackageCatalogOptions = { trustSeconds: 600, maxVersions: 300_000, maxSets: 100_000 };

export class PackageCatalog {
  private readonly byTuple = new Map<string, Confirmed<StoredPackageVersion>>();
  /**
   * The same entries as `byTuple`, by their shared object: a check-in passes these objects back (a
   * delta's unchanged packages are the ones the host's previous check-in resolved to), and knowing
   * the object spares building its tuple string.
   */
  private readonly byObject = new Map<StoredPackageVersion, Confirmed<StoredPackageVersion>>();
  private readonly setByDigest = new Map<string, Confirmed<number>>();
  /** Canonical objects of rows read back from the database, not confirmed (see `adopt`). */
  private readonly adopted = new Map<string, StoredPackageVersion>();

  constructor(readonly options: PackageCatalogOptions = DEFAULT_CATALOG_OPTIONS) {}

  /**
   * The stored (keyed) version of each package, inserting the ones not stored yet. Returns one
   * shared object per distinct tuple, so every host running a version points at the same object.
   * Looked up by tuple, not remembered per input object: a server parses fresh objects on every
   * check-in, and a weak map of millions of dead entries costs more (rehashing, ephemeron
   * marking in every GC) than building the tuple strings. `stage.inserted` counts the new rows.
   */
  async resolve(db: Queryable, packages: Iterable<InstalledPackage>, stage: CatalogStage): Promise<Map<InstalledPackage, StoredPackageVersion>> {
    const resolved = new Map<InstalledPackage, StoredPackageVersion>();
    const missing = new Map<string, InstalledPackage[]>();
    const trustedSince = stage.startedAt - this.options.trustSeconds * 1000;
    for (const pkg of packages) {
      if (resolved.has(pkg)) continue;
      const shared = this.byObject.get(pkg as StoredPackageVersion);
      if (shared && shared.confirmedAt >= trustedSince) {
        resolved.set(pkg, shared.value);
        continue;
      }
      const tuple = packageTupleKey(pkg);
      const cached = this.byTuple.get(tuple);
      const known = (cached && cached.confirmedAt >= trustedSince ? cached.value : undefined) ?? stage.tuples.get(tuple);
      if (known) resolved.set(pkg, known);
      else {
        const same = missing.get(tuple);
        if (same) same.push(pkg);
        else missing.set(tuple, [pkg]);
      }
    }
    if (missing.size > 0) {
      const { keys, inserted } = await ensurePackageVersions(db, [...missing.values()].map((same) => same[0]!), this.options.trustSeconds);
      stage.inserted += inserted;
      for (const [tuple, same] of missing) {
        const key = keys.get(tuple)!;
        // Keep the object hosts already share when the row is the same one.
        const previous = this.byTuple.get(tuple)?.value ?? this.adopted.get(tuple);
        const stored = previous?.key === key ? previous : { ...same[0]!, key };
        stage.tuples.set(tuple, stored);
        for (const pkg of same) resolved.set(pkg, stored);
      }
    }
    return resolved;
  }

  /**
   * Canonical objects for package versions read back from the database (re-evaluations), shared
   * with the confirmed ones. Reading a row does not keep it from being pruned, so these are not
   * trusted by `resolve`.
   */
  adopt(stored: StoredPackageVersion): StoredPackageVersion {
    const tuple = packageTupleKey(stored);
    const known = this.byTuple.get(tuple)?.value ?? this.adopted.get(tuple);
    if (known?.key === stored.key) return known;
    this.adopted.set(tuple, stored);
    if (this.adopted.size > this.options.maxVersions) this.adopted.delete(this.adopted.keys().next().value!);
    return stored;
  }

  /** Keys of the package sets holding exactly these lists of package keys, in input order. */
  async packageSets(db: Queryable, packageKeyLists: number[][], stage: CatalogStage): Promise<number[]> {
    const digests = packageKeyLists.map(digestOf);
    const trustedSince = stage.startedAt - this.options.trustSeconds * 1000;
    const keyOf = (digest: string) => {
      const cached = this.setByDigest.get(digest);
      return (cached && cached.confirmedAt >= trustedSince ? cached.value : undefined) ?? stage.sets.get(digest);
    };
    const unknown = [...new Set(digests.filter((digest) => keyOf(digest) === undefined))];
    if (unknown.length > 0) {
      const listByDigest = new Map(digests.map((digest, index) => [digest, packageKeyLists[index]!]));
      const keys = await ensurePackageSets(db, unknown.map((digest) => ({ digest, packageKeys: sortedUnique(listByDigest.get(digest)!) })), this.options.trustSeconds);
      unknown.forEach((digest, index) => stage.sets.set(digest, keys[index]!));
    }
    return digests.map((digest) => keyOf(digest)!);
  }

  /**
   * Makes a committed transaction's new and confirmed rows known to every later lookup, as
   * confirmed when the transaction started (its `now()`, which is what the rows carry).
   */
  publish(stage: CatalogStage): void {
    for (const [tuple, stored] of stage.tuples) {
      const previous = this.byTuple.get(tuple);
      if (previous) this.byObject.delete(previous.value);
      this.byTuple.delete(tuple);
      const confirmed = { value: stored, confirmedAt: stage.startedAt };
      this.byTuple.set(tuple, confirmed);
      this.byObject.set(stored, confirmed);
      this.adopted.delete(tuple);
    }
    for (const [digest, key] of stage.sets) {
      this.setByDigest.delete(digest);
      this.setByDigest.set(digest, { value: key, confirmedAt: stage.startedAt });
    }
    evictOldest(this.byTuple, this.options.maxVersions, (evicted) => this.byObject.delete(evicted.value));
    evictOldest(this.setByDigest, this.options.maxSets);
  }

  get size(): { versions: number; sets: number } {
    return { versions: this.byTuple.size + this.adopted.size, sets: this.setByDigest.size };
  }
}

/** Maps keep insertion order and entries are re-inserted when confirmed: the first are the oldest. */
function evictOldest<K, V>(map: Map<K, V>, limit: number, evicted?: (value: V) => void): void {
  for (const [key, value] of map) {
    if (map.size <= limit) return;
    map.delete(key);
    evicted?.(value);
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
