/**
 * The demo's critical CVE, to walk the emergency path on the simulated fleet: an OSV record of a
 * simulated remote-code-execution flaw in a source package every simulated host runs, fixed in a
 * version just above the newest one the fleet has. Pushed to the server (`POST /api/v1/advisories`)
 * it meets the example policy's emergency triggers and opens an incident across every bucket.
 * Its id (`SIM-CVE-…`) and summary say it is simulated.
 */
import type { InstalledPackage } from '../domain/types.js';
import { compareVersions } from '../domain/planning/package-targets.js';

/** What the simulated fleet runs, as its hosts last checked in. */
export interface DemoCveHost {
  osEcosystem?: string;
  packages: readonly InstalledPackage[];
}

/** Preferred targets, in order: packages a real critical CVE often names. */
const PREFERRED_SOURCES = ['openssl', 'openssh', 'curl', 'zlib', 'sudo', 'bash'];
/** Kernels are judged on the running kernel, libc makes every host wait for a reboot: a plain library reads best. */
const AVOIDED_SOURCE = /^(linux|glibc|systemd)/;

/**
 * The OSV record, or undefined when no source package is on every simulated host.
 *
 * @example demoCriticalCve(inventories, new Date()) // { id: 'SIM-CVE-2026-9001', summary: 'simulated: openssl: …', affected: [{ package: { ecosystem: 'Debian:12', name: 'openssl' }, … }] }
 */
export function demoCriticalCve(hosts: readonly DemoCveHost[], now: Date): Record<string, unknown> | undefined {
  const ecosystem = hosts.find((host) => host.osEcosystem)?.osEcosystem;
  if (!ecosystem || hosts.length === 0) return undefined;
  // Per source package: the hosts that carry it and its newest source version in the fleet.
  const sources = new Map<string, { hosts: number; newest: string }>();
  for (const host of hosts) {
    const seen = new Set<string>();
    for (const pkg of host.packages) {
      const name = pkg.sourceName ?? pkg.name;
      const version = pkg.sourceVersion ?? pkg.version;
      if (pkg.ecosystem !== ecosystem || AVOIDED_SOURCE.test(name)) continue;
      const known = sources.get(name) ?? { hosts: 0, newest: version };
      if (!seen.has(name)) known.hosts += 1;
      if (compareVersions(ecosystem, version, known.newest) > 0) known.newest = version;
      seen.add(name);
      sources.set(name, known);
    }
  }
  const everywhere = [...sources].filter(([, source]) => source.hosts === hosts.length).map(([name]) => name).sort();
  const name = PREFERRED_SOURCES.find((candidate) => everywhere.includes(candidate)) ?? everywhere[0];
  if (!name) return undefined;
  // `.sim1` sorts after the version it extends in dpkg and rpm alike: the fleet is vulnerable, the fix one step up.
  const fixed = `${sources.get(name)!.newest}.sim1`;
  const year = now.getUTCFullYear();
  return {
    schema_version: '1.6.0',
    id: `SIM-CVE-${year}-9001`,
    modified: now.toISOString(),
    published: now.toISOString(),
    summary: `simulated: ${name}: remote code execution (the demo's critical CVE)`,
    details: 'A simulated advisory for the demo: it walks the emergency path (an incident, one emergency rollout per bucket, status updates) on the simulated fleet. No real software is affected.',
    database_specific: { severity: 'critical' },
    affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
  };
}
