/**
 * Matches installed packages against the advisory index, evaluating each distinct
 * (ecosystem, name, version) once: a fleet shares most package versions, so detection cost grows
 * with distinct versions, not with hosts × packages.
 */
import type { Advisory } from '../advisories/advisory.js';
import type { InstalledPackage, VersionScheme } from '../types.js';
import type { VersionComparator } from '../versions/comparator.js';
import { comparatorFor } from '../versions/index.js';
import type { AdvisoryIndex } from './advisory-index.js';
import { evaluateAffected, type CompareInstalled } from './affected-range.js';
import { advisoriesOmitEpoch, ecosystemKey } from './ecosystem-key.js';
import { matchIdentity, type MatchIdentity } from './match-identity.js';

export interface VersionMatch {
  advisory: Advisory;
  /** The version that fixes this package for this advisory, when the advisory names one. */
  fixedVersion?: string;
}

export interface MatchWarning {
  advisoryId: string;
  ecosystem: string;
  name: string;
  message: string;
}

/** Returns the version scheme of an OSV ecosystem, or undefined when fleetpatch cannot order it. */
export type SchemeResolver = (ecosystem: string) => VersionScheme | undefined;

const RPM_EPOCH = /^(\d+):/;

/** Verdicts kept by default: beyond, the oldest are forgotten (and evaluated again if seen again). */
const DEFAULT_CACHED_VERSIONS = 500_000;

export class VersionMatcher {
  private readonly cache = new Map<string, VersionMatch[]>();
  // Inventories share package objects across hosts; remembering the verdict per object skips
  // rebuilding the identity key on the hot path.
  private byPackage = new WeakMap<InstalledPackage, VersionMatch[]>();
  private readonly warningKeys = new Set<string>();
  readonly warnings: MatchWarning[] = [];
  /** How many distinct versions were evaluated (cache misses). */
  evaluations = 0;

  constructor(
    private readonly index: AdvisoryIndex,
    private readonly schemeFor: SchemeResolver,
    private readonly maxCachedVersions = DEFAULT_CACHED_VERSIONS,
  ) {}

  /**
   * Advisories affecting one installed package.
   *
   * @example matcher.match({ ecosystem: 'AlmaLinux:9', name: 'openssl', version: '1:3.0.7-6.el9_2' })
   */
  match(pkg: InstalledPackage): VersionMatch[] {
    const remembered = this.byPackage.get(pkg);
    if (remembered) return remembered;
    const matches = this.matchUncached(pkg);
    this.byPackage.set(pkg, matches);
    return matches;
  }

  private matchUncached(pkg: InstalledPackage): VersionMatch[] {
    const scheme = this.schemeFor(pkg.ecosystem);
    const identity = matchIdentity(pkg, scheme);
    const epochUnknown = scheme === 'rpm' && pkg.epochKnown === false;
    const cacheKey = `${ecosystemKey(identity.ecosystem)}\u0000${identity.name}\u0000${identity.version}\u0000${epochUnknown ? '?' : ''}`;
    const cached = this.cache.get(cacheKey);
    if (cached) return cached;
    const matches = this.evaluate(identity, scheme, epochUnknown);
    this.cache.set(cacheKey, matches);
    // Bounded: one host sending endless new versions must not grow the server's memory.
    if (this.cache.size > this.maxCachedVersions) this.cache.delete(this.cache.keys().next().value!);
    this.evaluations++;
    return matches;
  }

  /** Identity under which `pkg` meets advisories (exposed so callers group by it). */
  identityOf(pkg: InstalledPackage): MatchIdentity {
    return matchIdentity(pkg, this.schemeFor(pkg.ecosystem));
  }

  /** Forgets cached verdicts for packages an added, changed or withdrawn advisory touches. */
  invalidate(packages: Array<{ ecosystem: string; name: string }>): void {
    this.byPackage = new WeakMap();
    const prefixes = packages.map(({ ecosystem, name }) => `${ecosystemKey(ecosystem)}\u0000${name}\u0000`);
    for (const key of this.cache.keys()) {
      if (prefixes.some((prefix) => key.startsWith(prefix))) this.cache.delete(key);
    }
  }

  get distinctVersions(): number {
    return this.cache.size;
  }

  private evaluate(identity: MatchIdentity, scheme: VersionScheme | undefined, epochUnknown: boolean): VersionMatch[] {
    const candidates = this.index.candidates(identity.ecosystem, identity.name);
    if (candidates.length === 0) return [];
    if (scheme === undefined) {
      for (const { advisory } of candidates) {
        this.warn(advisory.id, identity, `no version ordering is known for ecosystem ${identity.ecosystem}`);
      }
      return [];
    }
    const comparator = comparatorFor(scheme);
    const byAdvisory = new Map<string, VersionMatch>();
    for (const { advisory, affected } of candidates) {
      if (identity.version === '') {
        // An unknown installed version cannot be cleared: a missed vulnerability is the worse error.
        byAdvisory.set(advisory.id, { advisory });
        continue;
      }
      const compareInstalled = installedComparison(comparator, identity.version, epochUnknown, advisoriesOmitEpoch(affected.ecosystem));
      try {
        const verdict = evaluateAffected(affected, identity.version, compareInstalled, (a, b) => comparator.compare(a, b));
        if (!verdict.affected) continue;
        const previous = byAdvisory.get(advisory.id);
        if (!previous || previous.fixedVersion === undefined) {
          byAdvisory.set(advisory.id, verdict.fixedVersion === undefined ? { advisory } : { advisory, fixedVersion: verdict.fixedVersion });
        }
      } catch (error) {
        this.warn(advisory.id, identity, error instanceof Error ? error.message : String(error));
      }
    }
    return [...byAdvisory.values()];
  }

  private warn(advisoryId: string, identity: MatchIdentity, message: string): void {
    const key = `${advisoryId}\u0000${identity.ecosystem}\u0000${identity.name}\u0000${message}`;
    if (this.warningKeys.has(key)) return;
    this.warningKeys.add(key);
    this.warnings.push({ advisoryId, ecosystem: identity.ecosystem, name: identity.name, message });
  }
}

/**
 * How the installed version is compared with an advisory's version, given what is known of the
 * rpm epoch: an inventory without epochs borrows the advisory version's epoch (grype's `auto`
 * rule — assuming 0 invents findings wherever a package carries an epoch), and ecosystems whose
 * advisories omit epochs are compared without the installed epoch.
 */
function installedComparison(
  comparator: VersionComparator,
  installedVersion: string,
  epochUnknown: boolean,
  advisoryOmitsEpoch: boolean,
): CompareInstalled {
  if (comparator.scheme !== 'rpm') return (advisoryVersion) => comparator.compare(installedVersion, advisoryVersion);
  if (advisoryOmitsEpoch) {
    const withoutEpoch = installedVersion.replace(RPM_EPOCH, '');
    return (advisoryVersion) => comparator.compare(withoutEpoch, advisoryVersion);
  }
  if (epochUnknown) {
    const bare = installedVersion.replace(RPM_EPOCH, '');
    return (advisoryVersion) => {
      const epoch = RPM_EPOCH.exec(advisoryVersion)?.[1];
      return comparator.compare(epoch === undefined ? bare : `${epoch}:${bare}`, advisoryVersion);
    };
  }
  return (advisoryVersion) => comparator.compare(installedVersion, advisoryVersion);
}
