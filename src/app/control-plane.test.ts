// The control plane's delta merge against the protocol's definition of a delta: any base (sorted,
// as the control plane keeps it), any additions and removals, repeats included, give the same
// package list and the same digest as `applyPackageDelta` and `packageListDigest`.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstalledPackage } from '../domain/types.js';
import { applyPackageDelta, packageLine, packageListDigest } from '../protocol/agent-protocol.js';
import { applySortedDelta } from './control-plane.js';

// Few names and versions, so that additions, removals and the base often meet.
const installedPackage: fc.Arbitrary<InstalledPackage> = fc.record(
  {
    ecosystem: fc.constantFrom('Debian:12', 'AlmaLinux:9'),
    name: fc.constantFrom('bash', 'openssl', 'libc6', 'zlib', 'bash-completion'),
    version: fc.constantFrom('1.0-1', '1.0-2', '2:1.0-1', '10.1'),
    arch: fc.constantFrom('amd64', 'x86_64'),
    purl: fc.constantFrom('pkg:deb/debian/bash', 'pkg:rpm/almalinux/bash'),
  },
  { requiredKeys: ['ecosystem', 'name', 'version'] },
);

function sortedWithoutRepeats(packages: InstalledPackage[]): InstalledPackage[] {
  const byLine = new Map<string, InstalledPackage>();
  for (const pkg of packages) if (!byLine.has(packageLine(pkg))) byLine.set(packageLine(pkg), pkg);
  return [...byLine.keys()].sort().map((line) => byLine.get(line)!);
}

describe('applySortedDelta', () => {
  it('leads to the list and digest the protocol defines', () => {
    const lists = fc.array(installedPackage, { maxLength: 30 });
    fc.assert(
      fc.property(lists, lists, lists, fc.array(fc.nat(), { maxLength: 10 }), (baseWithRepeats, added, removedElsewhere, picks) => {
        const base = sortedWithoutRepeats(baseWithRepeats);
        // Removals are mostly packages of the base (an upgrade removes the old version).
        const removed = [...removedElsewhere.slice(0, 3), ...picks.flatMap((pick) => (base.length === 0 ? [] : [base[pick % base.length]!]))];
        const expected = applyPackageDelta(base, added, removed);
        const result = applySortedDelta(base, added, removed, packageLine);
        expect(result.digest).toBe(packageListDigest(expected));
        expect(result.packages).toEqual(sortedWithoutRepeats(expected));
      }),
      { numRuns: 2_000 },
    );
  });
});
