/**
 * What a host's packages should become: the canonical patch level. Without a baseline a package
 * moves only to fix its open advisories (the lowest version that fixes all of them, i.e. the
 * highest of their fixed versions). A baseline names the target for matching packages: `security`
 * (the same rule), an exact version, or `latest` once the candidate has been in the fleet for its
 * cooldown; rejected versions are never targets. The highest of the applicable targets wins, so a
 * baseline never holds a package below an advisory's fix.
 */
import { versionSchemeFor } from '../inventory/version-scheme.js';
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
export function compileBaselines(baselines: readonly Baseline[]): CompiledBaseline[] {
  return baselines.map((baseline) => {
    const pattern = new RegExp(`^${baseline.package.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
    const ecosystem = baseline.ecosystem;
    return {
      baseline,
      matches: (packageName, packageEcosystem) =>
        pattern.test(packageName) && (ecosystem === undefined || packageEcosystem === ecosystem || packageEcosystem.startsWith(`${ecosystem}:`)),
    };
  });
}

export function baselineFor(baselines: readonly CompiledBaseline[], packageName: string, ecosystem: string): Baseline | undefined {
  return baselines.find((candidate) => candidate.matches(packageName, ecosystem))?.baseline;
}

const comparators = new Map<string, VersionComparator | undefined>();

/** Orders two versions of an ecosystem; versions of an unknown scheme (or invalid ones) compare as text. */
function compareVersions(ecosystem: string, a: string, b: string): number {
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

/**
 * @example hostTargets(host, compileBaselines(policy.baselines), { now }).changes // [{ packageName: 'openssl', to: '3.0.15-1~deb12u1', because: 'advisory', … }]
 */
export function hostTargets(host: PlanHost, baselines: readonly CompiledBaseline[], options: TargetOptions): HostTargets {
  const byPackage = new Map<string, { packageName: string; ecosystem: string; from: string | undefined; to: string | undefined; because: PackageChange['because']; advisories: string[] }>();
  // Keyed by name alone in the usual case of one ecosystem per host; a second ecosystem gets composite keys.
  const hostEcosystem = host.findings[0]?.ecosystem ?? host.availableUpdates[0]?.ecosystem;
  const entryFor = (packageName: string, ecosystem: string, from: string | undefined) => {
    const key = ecosystem === hostEcosystem ? packageName : `${ecosystem}\u0000${packageName}`;
    let entry = byPackage.get(key);
    if (!entry) {
      entry = { packageName, ecosystem, from, to: undefined, because: 'advisory', advisories: [] };
      byPackage.set(key, entry);
    }
    return entry;
  };
  const raise = (entry: { ecosystem: string; to?: string }, version: string) => {
    if (entry.to === undefined || compareVersions(entry.ecosystem, version, entry.to) > 0) entry.to = version;
  };

  for (const finding of host.findings) {
    if (finding.state !== 'vulnerable' || finding.fixedVersion === undefined) continue;
    const entry = entryFor(finding.packageName, finding.ecosystem, finding.installedVersion);
    entry.advisories.push(finding.advisoryId);
    raise(entry, finding.fixedVersion);
  }

  if (baselines.length > 0) {
    const installed = new Map<string, string>();
    for (const pkg of host.baselinePackages ?? []) installed.set(`${pkg.ecosystem}\u0000${pkg.name}`, pkg.version);
    for (const update of host.availableUpdates) if (update.installedVersion) installed.set(`${update.ecosystem}\u0000${update.name}`, update.installedVersion);
    const now = options.now.getTime();
    for (const update of host.availableUpdates) {
      const baseline = baselineFor(baselines, update.name, update.ecosystem);
      if (!baseline || typeof baseline.target !== 'object' || !('latest' in baseline.target)) continue;
      const cooldown = options.ignoreCooldowns ? 0 : baseline.target.latest.cooldownDays * DAY_MS;
      if (update.availableSince.getTime() > now - cooldown) continue;
      const entry = entryFor(update.name, update.ecosystem, update.installedVersion);
      entry.because = 'baseline';
      raise(entry, update.candidateVersion);
    }
    for (const [key, version] of installed) {
      const [ecosystem, packageName] = key.split('\u0000') as [string, string];
      const baseline = baselineFor(baselines, packageName, ecosystem);
      if (!baseline || typeof baseline.target !== 'object' || !('version' in baseline.target)) continue;
      if (version === baseline.target.version) continue;
      const entry = entryFor(packageName, ecosystem, version);
      entry.because = 'baseline';
      raise(entry, baseline.target.version);
    }
  }

  const changes: PackageChange[] = [];
  const rejected: HostTargets['rejected'] = [];
  for (const entry of byPackage.values()) {
    if (entry.to === undefined || (entry.from !== undefined && compareVersions(entry.ecosystem, entry.to, entry.from) <= 0)) continue;
    const baseline = baselineFor(baselines, entry.packageName, entry.ecosystem);
    if (baseline?.rejected.includes(entry.to)) {
      rejected.push({ packageName: entry.packageName, version: entry.to });
      continue;
    }
    // The entry becomes the change itself (one object per package, not two).
    entry.advisories.sort();
    changes.push(entry as PackageChange);
  }
  changes.sort((a, b) => (a.packageName < b.packageName ? -1 : a.packageName > b.packageName ? 1 : 0));
  return { changes, rejected };
}
