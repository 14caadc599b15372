/**
 * fleetpatch's fleet simulator: builds realistic simulated hosts from real package data, for the
 * `--demo` fleet and the benchmarks. Every simulated host is named `sim-…` and labelled
 * `simulated=true`, so simulated records can never pass for real ones.
 *
 * Versions come from the real advisories: for each package the simulator knows the sequence of
 * fixed versions the distribution shipped, and places each host at, before or after them, with the
 * variance of a real fleet: most hosts share a baseline, some lag a few releases, a few are far
 * behind, and some run an older kernel than the newest one installed (a pending reboot).
 */
import type { Advisory } from '../domain/advisories/advisory.js';
import type { HostInventory, InstalledPackage, OsRelease } from '../domain/types.js';
import { comparatorFor } from '../domain/versions/index.js';
import { pickWeighted, seededRandom, type Random } from './seeded-random.js';

export interface SimulatorInputs {
  /** Real advisories; their fixed versions give each package's release history. */
  advisories: Advisory[];
  /** Real package lists keyed by OSV ecosystem (e.g. the Debian 12 image, the AlmaLinux 9.2 host). */
  baselines: Map<string, InstalledPackage[]>;
}

export interface FleetShape {
  hosts: number;
  /** Same seed, same fleet. */
  seed: number;
  now: Date;
  /** Share of hosts per OSV ecosystem; ecosystems without history or baseline are skipped. */
  mix?: Record<string, number>;
}

const DEFAULT_MIX: Record<string, number> = { 'AlmaLinux:9': 0.45, 'AlmaLinux:8': 0.2, 'AlmaLinux:10': 0.1, 'Debian:12': 0.25 };

/** Buckets and owners as a real company has them (the seed's four buckets). */
export const SIMULATED_BUCKETS = [
  { bucket: 'k8s-nodes', team: 'platform', weight: 0.45 },
  { bucket: 'databases', team: 'dba', weight: 0.15 },
  { bucket: 'stateless', team: 'web', weight: 0.35 },
  { bucket: 'physical', team: 'infra', weight: 0.05 },
] as const;

const ALMALINUX_PACKAGES_PER_HOST = 900;
const KERNEL_NAMES = new Set(['kernel', 'kernel-core', 'kernel-modules', 'kernel-modules-core']);

/** Each package's shipped versions, oldest first, per ecosystem. */
function releaseHistories(advisories: Advisory[]): Map<string, Map<string, string[]>> {
  const rpm = comparatorFor('rpm');
  const histories = new Map<string, Map<string, Set<string>>>();
  for (const advisory of advisories) {
    for (const affected of advisory.affected) {
      if (!affected.ecosystem.startsWith('AlmaLinux:')) continue;
      for (const range of affected.ranges) {
        for (const event of range.events) {
          if (!('fixed' in event)) continue;
          const byName = histories.get(affected.ecosystem) ?? new Map<string, Set<string>>();
          histories.set(affected.ecosystem, byName);
          const versions = byName.get(affected.name) ?? new Set<string>();
          byName.set(affected.name, versions);
          versions.add(event.fixed);
        }
      }
    }
  }
  const sorted = new Map<string, Map<string, string[]>>();
  for (const [ecosystem, byName] of histories) {
    sorted.set(ecosystem, new Map([...byName].map(([name, versions]) => [name, [...versions].sort((a, b) => rpm.compare(a, b))])));
  }
  return sorted;
}

/** How far behind a host is: the fleet baseline, a laggard, or a forgotten box. */
type Cohort = 'baseline' | 'lagging' | 'stale';

function cohortOf(random: Random): Cohort {
  const roll = random();
  return roll < 0.7 ? 'baseline' : roll < 0.93 ? 'lagging' : 'stale';
}

function osReleaseOf(ecosystem: string): OsRelease {
  const [family, release] = ecosystem.split(':') as [string, string];
  if (family === 'Debian') return { id: 'debian', idLike: [], versionId: release, prettyName: `Debian GNU/Linux ${release} (simulated)` };
  return { id: 'almalinux', idLike: ['rhel', 'centos', 'fedora'], versionId: `${release}.4`, prettyName: `AlmaLinux ${release}.4 (simulated)` };
}

function rpmVersionRelease(version: string): string {
  return version.replace(/^\d+:/, '');
}

/**
 * @example simulateFleet({ advisories, baselines }, { hosts: 10_000, seed: 1, now: new Date() })
 */
export function simulateFleet(inputs: SimulatorInputs, shape: FleetShape): HostInventory[] {
  const random = seededRandom(shape.seed);
  const histories = releaseHistories(inputs.advisories);
  const mix = Object.entries(shape.mix ?? DEFAULT_MIX).filter(([ecosystem]) => histories.has(ecosystem) || inputs.baselines.has(ecosystem));
  const images = new Map(mix.map(([ecosystem]) => [ecosystem, imageOf(ecosystem, inputs.baselines.get(ecosystem), histories.get(ecosystem), random)]));
  const ecosystems = mix.map(([ecosystem, weight]) => ({ ecosystem, weight }));
  const previousKernels = new Map<InstalledPackage, InstalledPackage>();
  const hosts: HostInventory[] = [];
  for (let index = 0; index < shape.hosts; index++) {
    const { ecosystem } = pickWeighted(ecosystems, random);
    const owner = pickWeighted(SIMULATED_BUCKETS, random);
    const cohort = cohortOf(random);
    const image = images.get(ecosystem)!;
    const packages = image.map((slot) => slot.versionFor(cohort, random));
    // What dnf check-update would offer: the newest shipped version of every package behind it.
    const availableUpdates = image.flatMap((slot, slotIndex) => {
      const installed = packages[slotIndex]!;
      return installed === slot.newest ? [] : [{ name: installed.name, arch: installed.arch ?? 'x86_64', installedVersion: installed.version, candidateVersion: slot.newest.version, repository: 'baseos' }];
    });
    const kernel = kernelState(packages, previousKernels, random);
    const uptimeDays = cohort === 'stale' ? 60 + Math.floor(random() * 400) : Math.floor(random() * 45);
    hosts.push({
      hostname: `sim-${owner.bucket}-${String(index).padStart(6, '0')}`,
      os: osReleaseOf(ecosystem),
      osEcosystem: ecosystem,
      arch: 'x86_64',
      packages: kernel.packages,
      kernel: kernel.running === undefined ? { installed: [] } : { running: kernel.running, installed: kernel.installed },
      rebootRequired: kernel.pendingReboot,
      bootTime: new Date(shape.now.getTime() - uptimeDays * 86_400_000 - Math.floor(random() * 86_400_000)),
      labels: { simulated: 'true', bucket: owner.bucket, team: owner.team, env: random() < 0.8 ? 'production' : 'staging', cohort },
      availableUpdates,
    });
  }
  return hosts;
}

interface PackageSlot {
  versionFor(cohort: Cohort, random: Random): InstalledPackage;
  /** The newest version the distribution ships: what an upgrade would install. */
  newest: InstalledPackage;
}

/**
 * The package slots of one OS image. Package objects are created once per version and shared by
 * every host that runs it, as a real fleet shares a baseline.
 */
function imageOf(ecosystem: string, baseline: InstalledPackage[] | undefined, history: Map<string, string[]> | undefined, random: Random): PackageSlot[] {
  if (!history) {
    return (baseline ?? []).map((pkg) => ({ versionFor: () => pkg, newest: pkg }));
  }
  const names = baseline
    ? [...new Set(baseline.map((pkg) => pkg.name))]
    : [...history.keys()].filter((name) => !name.includes('debug')).sort().filter(() => random() < ALMALINUX_PACKAGES_PER_HOST / history.size);
  const baselineByName = new Map((baseline ?? []).map((pkg) => [pkg.name, pkg]));
  return names.map((name) => slotOf(ecosystem, name, baselineByName.get(name), history.get(name), random));
}

function slotOf(ecosystem: string, name: string, original: InstalledPackage | undefined, fixedVersions: string[] | undefined, random: Random): PackageSlot {
  const versions = [...(original ? [original.version] : []), ...(fixedVersions ?? [])];
  if (versions.length === 0) throw new Error(`no version known for ${name}`);
  const packages = versions.map((version): InstalledPackage => ({ ecosystem, name, version, arch: original?.arch ?? 'x86_64' }));
  const newest = packages.length - 1;
  // The fleet baseline image is one release behind on a few packages: a real fleet always has
  // something waiting for the next window.
  const baselineIndex = random() < 0.04 ? Math.max(0, newest - 1) : newest;
  return {
    newest: packages[newest]!,
    versionFor(cohort, hostRandom) {
      if (cohort === 'baseline') return packages[baselineIndex]!;
      if (cohort === 'lagging') return hostRandom() < 0.2 ? packages[Math.max(0, baselineIndex - 1 - Math.floor(hostRandom() * 3))]! : packages[baselineIndex]!;
      return packages[Math.max(0, newest - 2 - Math.floor(hostRandom() * 5))]!;
    },
  };
}

/**
 * Installs a second, older kernel beside the chosen one; on some hosts the older kernel is the one
 * running (the newer one arrived but the host was not rebooted).
 */
interface SimulatedKernel {
  packages: InstalledPackage[];
  running?: string;
  installed: InstalledPackage[];
  pendingReboot: boolean;
}

function kernelState(packages: InstalledPackage[], previousKernels: Map<InstalledPackage, InstalledPackage>, random: Random): SimulatedKernel {
  const kernelCore = packages.find((pkg) => pkg.name === 'kernel-core');
  if (!kernelCore) return { packages, installed: [], pendingReboot: false };
  let previous = previousKernels.get(kernelCore);
  if (!previous) {
    previous = { ...kernelCore, version: olderKernelVersion(kernelCore.version) };
    previousKernels.set(kernelCore, previous);
  }
  const pendingReboot = random() < 0.08;
  const running = `${rpmVersionRelease(pendingReboot ? previous.version : kernelCore.version)}.x86_64`;
  const withKernels = [...packages, previous];
  return { packages: withKernels, running, installed: withKernels.filter((pkg) => KERNEL_NAMES.has(pkg.name)), pendingReboot };
}

/** A plausible previous kernel build: one release number lower (`5.14.0-427.el9` → `5.14.0-426.el9`). */
function olderKernelVersion(version: string): string {
  return version.replace(/-(\d+)/, (_match, release: string) => `-${Math.max(1, Number(release) - 1)}`);
}
