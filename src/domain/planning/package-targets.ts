/**
 * What a host's packages should become: the canonical patch level. Without a baseline a package
 * moves only to fix its open advisories (the lowest version that fixes all of them, i.e. the
 * highest of their fixed versions). A baseline names the target for matching packages: `security`
 * (the same rule), an exact version, or `latest` once the candidate has been in the fleet for its
 * cooldown; rejected versions are never targets. The highest of the applicable targets wins, so a
 * baseline never holds a package below an advisory's fix.
 */
import { versionSchemeFor } from '../inventory/version-scheme.js';
import { globRegExp } from '../policy/glob.js';
import type { Baseline } from '../policy/policy-schema.js';
import type { VersionComparator } from '../versions/comparator.js';
import { comparatorFor } from '../versions/index.js';
import type { PackageChange, PlanHost } from './plan-types.js';

const DAY_MS = 86_400_000;

export interface CompiledBaseline {
  baseline: Baseline;
  matches(packageName: string, ecosystem: string): boolean;
}

/** Baselines with their globs compiled; the first matching one applies to a package. */
export function compileBaselines(baselines: readonly Baseline[]): CompiledBaselines {
  const compiled = baselines.map((baseline): CompiledBaseline => {
    const pattern = globRegExp(baseline.package);
    const ecosystem = baseline.ecosystem;
    return {
      baseline,
      matches: (packageName, packageEcosystem) =>
        pattern.test(packageName) && (ecosystem === undefined || packageEcosystem === ecosystem || packageEcosystem.startsWith(`${ecosystem}:`)),
    };
  });
  return { compiled, lookups: new Map() };
}

/** Compiled baselines and the answers already found: a fleet asks about the same packages again and again. */
export interface CompiledBaselines {
  compiled: readonly CompiledBaseline[];
  /** ecosystem → package name → the baseline (or none); two levels, so a lookup builds no key string. */
  lookups: Map<string, Map<string, Baseline | undefined>>;
}

function baselineFor(baselines: CompiledBaselines, packageName: string, ecosystem: string): Baseline | undefined {
  if (baselines.compiled.length === 0) return undefined;
  let byName = baselines.lookups.get(ecosystem);
  if (!byName) baselines.lookups.set(ecosystem, (byName = new Map()));
  const known = byName.get(packageName);
  if (known !== undefined || byName.has(packageName)) return known;
  const baseline = baselines.compiled.find((candidate) => candidate.matches(packageName, ecosystem))?.baseline;
  byName.set(packageName, baseline);
  return baseline;
}

const comparators = new Map<string, VersionComparator | undefined>();

/** Orders two versions of an ecosystem; versions of an unknown scheme (or invalid ones) compare as text. */
export function compareVersions(ecosystem: string, a: string, b: string): number {
  let comparator = comparators.get(ecosystem);
  if (comparator === undefined && !comparators.has(ecosystem)) {
    const scheme = versionSchemeFor(ecosystem);
    comparator = scheme ? comparatorFor(scheme) : undefined;
    comparators.set(ecosystem, comparator);
  }
  if (comparator) {
    try {
      return comparator.compare(a, b);
    } catch {
      // A version its ecosystem refuses is ordered as text rather than dropping the host's plan.
    }
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface TargetOptions {
  now: Date;
  /** The emergency path may skip cooldowns. */
  ignoreCooldowns?: boolean;
}

export interface HostTargets {
  changes: PackageChange[];
  /** Packages whose only target is a rejected version: they stay as they are, and the plan says so. */
  rejected: Array<{ packageName: string; version: string }>;
}

type TargetEntry = { packageName: string; ecosystem: string; from: string | undefined; to: string | undefined; because: PackageChange['because']; advisories: string[] };

/** The entry of a package in a host's short list (a host has a handful of packages to change: a scan beats a Map). */
function entryFor(entries: TargetEntry[], packageName: string, ecosystem: string, from: string | undefined): TargetEntry {
  for (const entry of entries) if (entry.packageName === packageName && entry.ecosystem === ecosystem) return entry;
  const entry: TargetEntry = { packageName, ecosystem, from, to: undefined, because: 'advisory', advisories: [] };
  entries.push(entry);
  return entry;
}

function raise(entry: TargetEntry, version: string): void {
  if (entry.to === undefined || compareVersions(entry.ecosystem, version, entry.to) > 0) entry.to = version;
}

/**
 * @example hostTargets(host, compileBaselines(policy.baselines), { now }).changes // [{ packageName: 'openssl', to: '3.0.15-1~deb12u1', because: 'advisory', … }]
 */
export function hostTargets(host: PlanHost, baselines: CompiledBaselines, options: TargetOptions): HostTargets {
  const entries: TargetEntry[] = [];
  for (const finding of host.findings) {
    if (finding.state !== 'vulnerable' || finding.fixedVersion === undefined) continue;
    const entry = entryFor(entries, finding.packageName, finding.ecosystem, finding.installedVersion);
    entry.advisories.push(finding.advisoryId);
    raise(entry, finding.fixedVersion);
  }

  if (baselines.compiled.length > 0 && (host.availableUpdates.length > 0 || (host.baselinePackages?.length ?? 0) > 0)) {
    const now = options.now.getTime();
    for (const update of host.availableUpdates) {
      const baseline = baselineFor(baselines, update.name, update.ecosystem);
      if (!baseline || typeof baseline.target !== 'object' || !('latest' in baseline.target)) continue;
      const cooldown = options.ignoreCooldowns ? 0 : baseline.target.latest.cooldownDays * DAY_MS;
      if (update.availableSince.getTime() > now - cooldown) continue;
      const entry = entryFor(entries, update.name, update.ecosystem, update.installedVersion);
      entry.because = 'baseline';
      raise(entry, update.candidateVersion);
    }
    const installed = [
      ...(host.baselinePackages ?? []).map((pkg) => ({ name: pkg.name, ecosystem: pkg.ecosystem, version: pkg.version })),
      ...host.availableUpdates.flatMap((update) => (update.installedVersion ? [{ name: update.name, ecosystem: update.ecosystem, version: update.installedVersion }] : [])),
    ];
    for (const pkg of installed) {
      const baseline = baselineFor(baselines, pkg.name, pkg.ecosystem);
      if (!baseline || typeof baseline.target !== 'object' || !('version' in baseline.target)) continue;
      if (pkg.version === baseline.target.version) continue;
      const entry = entryFor(entries, pkg.name, pkg.ecosystem, pkg.version);
      entry.because = 'baseline';
      raise(entry, baseline.target.version);
    }
  }

  const changes: PackageChange[] = [];
  const rejected: HostTargets['rejected'] = [];
  for (const entry of entries) {
    // An open finding exists because the installed version is below its fix, so a target set by
    // advisories alone is above it by construction; only a baseline's target needs comparing.
    if (entry.to === undefined || (entry.because === 'baseline' && entry.from !== undefined && compareVersions(entry.ecosystem, entry.to, entry.from) <= 0)) continue;
    if (baselineFor(baselines, entry.packageName, entry.ecosystem)?.rejected.includes(entry.to)) {
      rejected.push({ packageName: entry.packageName, version: entry.to });
      continue;
    }
    // The entry becomes the change itself (one object per package, not two).
    if (entry.advisories.length > 1) entry.advisories.sort();
    changes.push(entry as PackageChange);
  }
  if (changes.length > 1) changes.sort((a, b) => (a.packageName < b.packageName ? -1 : a.packageName > b.packageName ? 1 : 0));
  return { changes, rejected };
}
