/**
 * A simulated fleet from the real data (AlmaLinux advisories and package lists, the Debian 12
 * image), for control-plane tests and benchmarks: fleetpatch's own simulator, fed real versions.
 */
import { readFileSync } from 'node:fs';
import type { Advisory } from '../src/domain/advisories/advisory.js';
import { parseInventory } from '../src/domain/inventory/index.js';
import type { HostInventory, InstalledPackage } from '../src/domain/types.js';
import { openAdvisoryFeed } from '../src/feeds/open-feed.js';
import { simulateFleet } from '../src/simulator/fleet-simulator.js';
import { sharedData } from './data-path.js';

export async function almaLinuxAdvisories(releases: number[] = [8, 9, 10]): Promise<Advisory[]> {
  const advisories: Advisory[] = [];
  for (const release of releases) advisories.push(...(await openAdvisoryFeed(sharedData(`osv/almalinux/almalinux${release}.zip`)).read()).advisories);
  return advisories;
}

export function realBaselines(): Map<string, InstalledPackage[]> {
  const debian = parseInventory({ text: readFileSync(sharedData('inventories/debian12-node-image/dpkg-status'), 'utf8'), fileName: 'dpkg-status', format: 'dpkg-status', osEcosystem: 'Debian:12' }).packages;
  const inferred = JSON.parse(readFileSync(sharedData('inventories/almalinux-9.2-packages-epoch-inferred.json'), 'utf8')) as {
    packages: Array<{ name: string; version: string; release: string; arch: string; epoch_inferred: string }>;
  };
  const alma9 = inferred.packages.map((pkg): InstalledPackage => ({
    ecosystem: 'AlmaLinux:9',
    name: pkg.name,
    version: `${pkg.epoch_inferred === '0' ? '' : `${pkg.epoch_inferred}:`}${pkg.version}-${pkg.release}`,
    arch: pkg.arch,
  }));
  return new Map([['Debian:12', debian], ['AlmaLinux:9', alma9]]);
}

export async function simulatedFleet(hosts: number, seed = 7, now = new Date()): Promise<{ advisories: Advisory[]; fleet: HostInventory[] }> {
  const advisories = await almaLinuxAdvisories();
  return { advisories, fleet: simulateFleet({ advisories, baselines: realBaselines() }, { hosts, seed, now }) };
}

export { fullCheckInOf as fullCheckIn } from '../src/protocol/agent-protocol.js';
