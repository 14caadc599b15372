/**
 * The `--demo` fleet: simulated hosts, buckets, owners and advisories built around one real package
 * list (this machine's), so a newcomer can explore a populated dashboard offline. Every advisory id
 * starts with `SIM-` and says "[simulated]"; every host is `sim-…` with the label `simulated=true`.
 */
import type { Advisory } from '../domain/advisories/advisory.js';
import { matchIdentity } from '../domain/detection/match-identity.js';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import type { HostInventory, InstalledPackage, Severity, VersionScheme } from '../domain/types.js';
import { SIMULATED_BUCKETS } from './fleet-simulator.js';
import { pickWeighted, seededRandom } from './seeded-random.js';

export interface DemoFleet {
  advisories: Advisory[];
  hosts: Array<{ inventory: HostInventory; lastSeenAt: Date }>;
}

const SEVERITIES: Severity[] = ['critical', 'high', 'high', 'medium', 'medium', 'medium', 'low'];
const DAY_MS = 86_400_000;

/** A version the scheme orders just above `version`: the simulated fix. */
function nextVersion(version: string, scheme: VersionScheme | undefined): string {
  if (scheme === 'apk') return version.replace(/-r(\d+)$/, (_match, revision: string) => `-r${Number(revision) + 1}`);
  if (scheme === 'dpkg') return `${version}+fp1`;
  return `${version}.fp1`;
}

/**
 * @example demoFleet(localInventory, { hosts: 200, advisories: 30, seed: 1, now: new Date() })
 */
export function demoFleet(base: HostInventory, options: { hosts: number; advisories: number; seed: number; now: Date }): DemoFleet {
  const random = seededRandom(options.seed);
  const candidates = base.packages.filter((pkg) => versionSchemeFor(pkg.ecosystem) !== undefined);
  const chosen = [...candidates].sort(() => random() - 0.5).slice(0, options.advisories);
  const fixes = new Map<InstalledPackage, InstalledPackage>();
  const advisories = chosen.map((pkg, index): Advisory => {
    const scheme = versionSchemeFor(pkg.ecosystem);
    const fixed = { ...pkg, version: nextVersion(pkg.version, scheme), ...(pkg.sourceVersion ? { sourceVersion: nextVersion(pkg.sourceVersion, scheme) } : {}) };
    fixes.set(pkg, fixed);
    const identity = matchIdentity(pkg, scheme);
    const published = new Date(options.now.getTime() - Math.floor(random() * 60) * DAY_MS);
    return {
      id: `SIM-2026-${String(1000 + index)}`,
      aliases: [`CVE-2026-9${String(1000 + index)}`],
      related: [],
      modified: published,
      published,
      summary: `[simulated] ${identity.name}: demonstration advisory`,
      severity: SEVERITIES[Math.floor(random() * SEVERITIES.length)]!,
      cvss: [],
      affected: [{ ecosystem: identity.ecosystem, name: identity.name, versions: [], ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: identity.version === pkg.version ? fixed.version : (fixed.sourceVersion ?? fixed.version) }] }] }],
      references: [],
    };
  });
  const hosts = Array.from({ length: options.hosts }, (_unused, index) => {
    const owner = pickWeighted(SIMULATED_BUCKETS, random);
    // How diligent this host's owner is: the share of simulated fixes already installed.
    const diligence = random();
    const packages = base.packages.map((pkg) => (fixes.has(pkg) && random() < diligence ? fixes.get(pkg)! : pkg));
    // The simulated fixes this host has not installed are what its package manager would offer.
    const availableUpdates = packages.flatMap((pkg) => {
      const fixed = fixes.get(pkg);
      return fixed ? [{ name: pkg.name, ...(pkg.arch ? { arch: pkg.arch } : {}), installedVersion: pkg.version, candidateVersion: fixed.version, repository: 'simulated' }] : [];
    });
    const uptimeDays = random() < 0.08 ? 200 + Math.floor(random() * 300) : Math.floor(random() * 40);
    const stale = random() < 0.04;
    const inventory: HostInventory = {
      ...base,
      hostname: `sim-${owner.bucket}-${String(index).padStart(4, '0')}`,
      packages,
      rebootRequired: random() < 0.1,
      bootTime: new Date(options.now.getTime() - uptimeDays * DAY_MS),
      labels: { simulated: 'true', bucket: owner.bucket, team: owner.team, env: random() < 0.8 ? 'production' : 'staging' },
      availableUpdates,
    };
    return { inventory, lastSeenAt: stale ? new Date(options.now.getTime() - 3 * DAY_MS) : options.now };
  });
  return { advisories, hosts };
}
