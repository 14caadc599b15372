// The demo fleet: labelled as simulated, and each host offers exactly the simulated fixes it lacks.
import { describe, expect, it } from 'vitest';
import type { HostInventory } from '../domain/types.js';
import { demoFleet } from './demo-fleet.js';

const BASE: HostInventory = {
  hostname: 'real-host',
  osEcosystem: 'Debian:12',
  packages: [
    { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b7', arch: 'amd64' },
    { ecosystem: 'Debian:12', name: 'libssl3', version: '3.0.15-1~deb12u1', arch: 'amd64', sourceName: 'openssl' },
    { ecosystem: 'Debian:12', name: 'zlib1g', version: '1:1.2.13.dfsg-1', arch: 'amd64', sourceName: 'zlib' },
  ],
  kernel: { installed: [] },
  rebootRequired: false,
  labels: {},
};

describe('demoFleet', () => {
  const fleet = demoFleet(BASE, { hosts: 50, advisories: 2, seed: 7, now: new Date('2026-11-24T00:00:00Z') });

  it('labels every host and advisory as simulated', () => {
    expect(fleet.hosts.every(({ inventory }) => inventory.hostname.startsWith('sim-') && inventory.labels.simulated === 'true')).toBe(true);
    expect(fleet.advisories.every((advisory) => advisory.id.startsWith('SIM-') && advisory.summary?.startsWith('[simulated]'))).toBe(true);
  });

  it('offers each host the simulated fixes it has not installed, and nothing else', () => {
    const fixedVersions = new Map(fleet.advisories.map((advisory) => [advisory.affected[0]!.name, advisory]));
    let offered = 0;
    for (const { inventory } of fleet.hosts) {
      for (const update of inventory.availableUpdates!) {
        const installed = inventory.packages.find((pkg) => pkg.name === update.name)!;
        expect(update.installedVersion).toBe(installed.version);
        expect(update.candidateVersion).toBe(`${installed.version}+fp1`);
        offered++;
      }
      const behind = inventory.packages.filter((pkg) => BASE.packages.includes(pkg) && fixedVersions.has(pkg.sourceName ?? pkg.name));
      expect(inventory.availableUpdates!.map((update) => update.name).sort()).toEqual(behind.map((pkg) => pkg.name).sort());
    }
    expect(offered).toBeGreaterThan(0);
  });
});
