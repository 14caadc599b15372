// The demo fleet: labelled as simulated, filed into the example policy's buckets, deterministic,
// each host offered exactly the simulated fixes it lacks, and teams that lag in the seed's order.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import { matchIdentity } from '../domain/detection/match-identity.js';
import { policyOwnership, selectableHost } from '../domain/policy/ownership.js';
import { judgePolicy } from '../domain/policy/policy-report.js';
import type { HostInventory } from '../domain/types.js';
import { demoFleet, type DemoFleet } from './demo-fleet.js';

const BASE: HostInventory = {
  hostname: 'real-host',
  osEcosystem: 'Debian:12',
  packages: [
    { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b7', arch: 'amd64' },
    { ecosystem: 'Debian:12', name: 'libssl3', version: '3.0.15-1~deb12u1', arch: 'amd64', sourceName: 'openssl' },
    { ecosystem: 'Debian:12', name: 'zlib1g', version: '1:1.2.13.dfsg-1', arch: 'amd64', sourceName: 'zlib' },
    { ecosystem: 'Debian:12', name: 'libxml2', version: '2.9.14+dfsg-1.3~deb12u1', arch: 'amd64' },
    { ecosystem: 'Debian:12', name: 'curl', version: '7.88.1-10+deb12u8', arch: 'amd64' },
    { ecosystem: 'Debian:12', name: 'tar', version: '1.34+dfsg-1.2+deb12u1', arch: 'amd64' },
    { ecosystem: 'Debian:12', name: 'sudo', version: '1.9.13p3-1+deb12u1', arch: 'amd64' },
    { ecosystem: 'Debian:12', name: 'libexpat1', version: '2.5.0-1', arch: 'amd64', sourceName: 'expat' },
    // This machine's own kernel: the simulated hosts run simulated kernels instead.
    { ecosystem: 'Debian:12', name: 'linux-image-6.1.0-28-amd64', version: '6.1.119-1', arch: 'amd64', sourceName: 'linux-signed-amd64', sourceVersion: '6.1.119+1' },
  ],
  kernel: { installed: [] },
  rebootRequired: false,
  labels: {},
};

const NOW = new Date('2026-11-24T10:00:00Z');
const DAY_MS = 86_400_000;

function fleetAt(now: Date, hosts = 120): DemoFleet {
  return demoFleet(BASE, { hosts, advisories: 9, seed: 7, now });
}

describe('demoFleet', () => {
  const fleet = fleetAt(NOW);

  it('labels every host and advisory as simulated', () => {
    expect(fleet.hosts.every(({ inventory }) => inventory.hostname.startsWith('sim-') && inventory.labels.simulated === 'true')).toBe(true);
    expect(fleet.advisories.every((advisory) => advisory.id.startsWith('SIM-') && advisory.summary?.startsWith('[simulated]'))).toBe(true);
    expect(fleet.knownExploited.every((entry) => entry.product.startsWith('[simulated]'))).toBe(true);
  });

  it('files the hosts into the example policy\'s four buckets, mostly nodes and a handful physical', () => {
    const policy = judgePolicy(readFileSync(new URL('../../examples/fleetpatch.yaml', import.meta.url), 'utf8'), { now: NOW }).policy!;
    const ownership = policyOwnership(policy);
    const counts = new Map<string, number>();
    for (const { inventory } of fleet.hosts) {
      const owner = ownership.ownerOf(selectableHost(inventory.hostname, inventory.labels, {}));
      // The bucket and team labels agree with the policy, for a server that has no policy yet.
      expect(owner).toEqual({ bucket: inventory.labels.bucket, team: inventory.labels.team });
      counts.set(owner.bucket, (counts.get(owner.bucket) ?? 0) + 1);
    }
    expect(Object.fromEntries(counts)).toEqual({ 'kubernetes-nodes': 62, stateless: 34, databases: 20, physical: 4 });
  });

  it('is the same fleet for the same seed and clock', () => {
    expect(JSON.stringify(fleetAt(NOW))).toBe(JSON.stringify(fleet));
    expect(JSON.stringify(demoFleet(BASE, { hosts: 120, advisories: 9, seed: 8, now: NOW }))).not.toBe(JSON.stringify(fleet));
  });

  it('publishes the advisories over the 90 days, with a kernel among them, fixed by this machine\'s versions', () => {
    expect(fleet.advisories).toHaveLength(9);
    for (const advisory of fleet.advisories) {
      expect(advisory.published!.getTime()).toBeGreaterThan(NOW.getTime() - 90 * DAY_MS);
      expect(advisory.published!.getTime()).toBeLessThan(NOW.getTime());
    }
    const span = fleet.advisories.at(-1)!.published!.getTime() - fleet.advisories[0]!.published!.getTime();
    expect(span).toBeGreaterThan(60 * DAY_MS);
    expect(fleet.advisories.some((advisory) => advisory.severity === 'critical')).toBe(true);
    expect(fleet.advisories.filter((advisory) => advisory.affected[0]!.name === 'linux')).toHaveLength(3);
    // Every non-kernel fix is a version this machine runs, so its own check-ins meet none of them.
    const identities = new Set(BASE.packages.map((pkg) => JSON.stringify(matchIdentity(pkg, versionSchemeFor(pkg.ecosystem)))));
    const packageFixes = fleet.advisories.filter((advisory) => advisory.affected[0]!.name !== 'linux');
    for (const advisory of packageFixes) {
      const affected = advisory.affected[0]!;
      const fixed = affected.ranges[0]!.events.find((event) => 'fixed' in event) as { fixed: string };
      expect(identities.has(JSON.stringify({ ecosystem: affected.ecosystem, name: affected.name, version: fixed.fixed }))).toBe(true);
    }
    expect(packageFixes.some((advisory) => advisory.affected[0]!.name === 'openssl')).toBe(true);
  });

  it('replays as a timeline in order: publications, then check-ins from enrollment to a few minutes ago', () => {
    const instants = fleet.timeline.map((event) => event.at.getTime());
    expect(instants).toEqual([...instants].sort((a, b) => a - b));
    expect(fleet.timeline.filter((event) => event.kind === 'publish')).toHaveLength(9);
    const first = fleet.timeline.find((event) => event.kind === 'check-in')!;
    expect(first.at.getTime()).toBeLessThan(NOW.getTime() - 89 * DAY_MS);
    const fresh = fleet.hosts.filter(({ lastSeenAt }) => NOW.getTime() - lastSeenAt.getTime() < 3_600_000);
    // A few agents stopped days ago: the dashboard's stale hosts.
    expect(fresh.length).toBeGreaterThan(fleet.hosts.length * 0.9);
    expect(fresh.length).toBeLessThan(fleet.hosts.length);
  });

  it('offers each host the published simulated fixes it has not installed, and nothing else', () => {
    const fixes = new Map(BASE.packages.map((pkg) => [pkg.name, pkg.version]));
    let offered = 0;
    for (const { inventory, lastSeenAt } of fleet.hosts) {
      for (const update of inventory.availableUpdates!) {
        if (update.name.startsWith('linux-image-')) {
          expect(inventory.packages.some((pkg) => pkg.name === update.name)).toBe(false);
          continue;
        }
        const installed = inventory.packages.find((pkg) => pkg.name === update.name)!;
        expect(update.installedVersion).toBe(installed.version);
        expect(update.installedVersion).toBe(`${update.candidateVersion}~pre1`);
        expect(update.candidateVersion).toBe(fixes.get(update.name));
        const advisory = fleet.advisories.find((candidate) => candidate.affected[0]!.name === (installed.sourceName ?? installed.name))!;
        expect(advisory.published!.getTime()).toBeLessThanOrEqual(lastSeenAt.getTime());
        offered++;
      }
    }
    expect(offered).toBeGreaterThan(0);
  });

  it('leaves kernels installed but not booted, mostly on databases, and one physical host up for 412 days', () => {
    const pending = fleet.hosts.filter(({ inventory }) => inventory.rebootRequired);
    expect(pending.length).toBeGreaterThan(0);
    for (const { inventory } of pending) {
      const images = inventory.packages.filter((pkg) => pkg.name.startsWith('linux-image-'));
      expect(images).toHaveLength(2);
      expect(images.map((pkg) => pkg.name)).toContain(`linux-image-${inventory.kernel.running!}`);
    }
    expect(pending.filter(({ inventory }) => inventory.labels.bucket === 'databases').length).toBeGreaterThan(pending.length / 2);
    const snowflake = fleet.hosts.find(({ inventory }) => inventory.hostname === 'sim-colo-01')!.inventory;
    expect(Math.round((NOW.getTime() - snowflake.bootTime!.getTime()) / DAY_MS)).toBe(412);
    expect(snowflake.rebootRequired).toBe(true);
    expect(fleet.hosts.every(({ inventory }) => !inventory.packages.some((pkg) => pkg.name === 'linux-image-6.1.0-28-amd64'))).toBe(true);
  });

  it('lags by team in the seed\'s order whatever the day: databases weeks behind, nodes and stateless days', () => {
    for (let day = 0; day < 7; day++) {
      const now = new Date(NOW.getTime() + day * (DAY_MS + 3 * 3_600_000));
      const ages = averageOpenFixAge(fleetAt(now, 200), now);
      expect(ages.databases, now.toISOString()).toBeGreaterThan(14);
      expect(ages.databases, now.toISOString()).toBeGreaterThan(ages.physical!);
      expect(ages.physical, now.toISOString()).toBeGreaterThan(Math.max(ages['kubernetes-nodes']!, ages.stateless!));
      expect(Math.max(ages['kubernetes-nodes']!, ages.stateless!), now.toISOString()).toBeLessThan(9);
    }
  });
});

/** Per bucket, the average age of the fixes the hosts' package managers offer (days behind, roughly). */
function averageOpenFixAge(fleet: DemoFleet, now: Date): Record<string, number> {
  const published = new Map(fleet.advisories.map((advisory) => [advisory.affected[0]!.name, advisory.published!.getTime()]));
  const sums = new Map<string, { age: number; fixes: number }>();
  for (const { inventory } of fleet.hosts) {
    const sum = sums.get(inventory.labels.bucket!) ?? { age: 0, fixes: 0 };
    sums.set(inventory.labels.bucket!, sum);
    for (const update of inventory.availableUpdates!) {
      const installed = inventory.packages.find((pkg) => pkg.name === update.name);
      const fixedAt = published.get(installed ? (installed.sourceName ?? installed.name) : 'linux');
      if (fixedAt === undefined) continue;
      sum.age += (now.getTime() - fixedAt) / DAY_MS;
      sum.fixes++;
    }
  }
  return Object.fromEntries([...sums].map(([bucket, { age, fixes }]) => [bucket, fixes === 0 ? 0 : age / fixes]));
}
