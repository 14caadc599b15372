/**
 * Advisories indexed by (ecosystem key, package name), so detection looks up the handful of
 * records that can apply to a package instead of scanning every advisory. Supports adding and
 * removing single advisories for incremental re-evaluation.
 */
import type { Advisory, AffectedPackage } from '../advisories/advisory.js';
import { ecosystemBase, ecosystemKey } from './ecosystem-key.js';
import { normalizePypiName } from './match-identity.js';

export interface IndexedAffected {
  advisory: Advisory;
  affected: AffectedPackage;
}

export class AdvisoryIndex {
  private readonly byPackage = new Map<string, IndexedAffected[]>();
  private readonly byId = new Map<string, Advisory>();

  constructor(advisories: Iterable<Advisory> = []) {
    for (const advisory of advisories) this.add(advisory);
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): Advisory | undefined {
    return this.byId.get(id);
  }

  advisories(): IterableIterator<Advisory> {
    return this.byId.values();
  }

  /** Adds or replaces an advisory. Withdrawn advisories are removed from matching. */
  add(advisory: Advisory): void {
    this.remove(advisory.id);
    if (advisory.withdrawn) return;
    this.byId.set(advisory.id, advisory);
    for (const affected of advisory.affected) {
      const key = packageKey(affected.ecosystem, affected.name);
      const entries = this.byPackage.get(key);
      if (entries) entries.push({ advisory, affected });
      else this.byPackage.set(key, [{ advisory, affected }]);
    }
  }

  remove(id: string): void {
    const previous = this.byId.get(id);
    if (!previous) return;
    this.byId.delete(id);
    for (const affected of previous.affected) {
      const key = packageKey(affected.ecosystem, affected.name);
      const remaining = (this.byPackage.get(key) ?? []).filter((entry) => entry.advisory.id !== id);
      if (remaining.length > 0) this.byPackage.set(key, remaining);
      else this.byPackage.delete(key);
    }
  }

  /**
   * Entries that may apply to a package of `ecosystem` named `name`: those of the same release,
   * and those written for the whole ecosystem without a release suffix.
   */
  candidates(ecosystem: string, name: string): IndexedAffected[] {
    const exact = this.byPackage.get(packageKey(ecosystem, name)) ?? [];
    const base = ecosystemBase(ecosystem);
    if (base === ecosystem) return exact;
    const releaseless = this.byPackage.get(packageKey(base, name));
    return releaseless ? [...exact, ...releaseless] : exact;
  }

  /** Distinct (ecosystem key, name) pairs an advisory touches: what to re-evaluate when it changes. */
  static packagesOf(advisory: Advisory): Array<{ ecosystem: string; name: string }> {
    const seen = new Map<string, { ecosystem: string; name: string }>();
    for (const affected of advisory.affected) {
      seen.set(packageKey(affected.ecosystem, affected.name), { ecosystem: ecosystemKey(affected.ecosystem), name: indexName(affected.ecosystem, affected.name) });
    }
    return [...seen.values()];
  }
}

function indexName(ecosystem: string, name: string): string {
  return ecosystemBase(ecosystem) === 'PyPI' ? normalizePypiName(name) : name;
}

function packageKey(ecosystem: string, name: string): string {
  return `${ecosystemKey(ecosystem)}\u0000${indexName(ecosystem, name)}`;
}
