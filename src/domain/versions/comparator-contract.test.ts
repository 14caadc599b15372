// The contract every comparator keeps, whatever its scheme (one shared suite, like Hono's
// common.case.test.ts): only -1/0/1, reflexive, antisymmetric and transitive on real versions.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import type { VersionScheme } from '../types.js';
import { ALL_SCHEMES, comparatorFor } from './index.js';

const SAMPLE_FILES: Record<VersionScheme, string[]> = {
  dpkg: ['dpkg.json', 'dpkg-osv-generated.json'],
  rpm: ['rpm.json'],
  apk: ['apk.json', 'apk-osv-generated.json'],
  semver: ['semver-compare.json', 'semver-osv.json'],
  pypi: ['pypi.json'],
};
const SAMPLE_SIZE = 90;

/** Distinct versions spread evenly over the vector files (not just their first lines). */
function sampleVersions(scheme: VersionScheme): string[] {
  const comparator = comparatorFor(scheme);
  const distinct = new Set<string>();
  for (const file of SAMPLE_FILES[scheme]) {
    for (const entry of JSON.parse(readFileSync(sharedData(`versions/${file}`), 'utf8')) as Array<{ a: string; b: string }>) {
      distinct.add(entry.a);
      distinct.add(entry.b);
    }
  }
  // Strings the tool rejects outright throw by contract; they are not part of the order.
  const orderable = [...distinct].filter((version) => {
    try {
      comparator.compare(version, version);
      return true;
    } catch {
      return false;
    }
  });
  const step = orderable.length / SAMPLE_SIZE;
  return Array.from({ length: SAMPLE_SIZE }, (_, index) => orderable[Math.floor(index * step)]!);
}

describe.each(ALL_SCHEMES)('%s comparator contract', (scheme) => {
  const comparator = comparatorFor(scheme);
  const sample = sampleVersions(scheme);
  const matrix = sample.map((a) => sample.map((b) => comparator.compare(a, b)));

  it('declares its scheme and samples 90 distinct real versions', () => {
    expect(comparator.scheme).toBe(scheme);
    expect(new Set(sample).size).toBe(SAMPLE_SIZE);
  });

  it('returns only -1, 0 or 1, is reflexive, and antisymmetric', () => {
    const broken: string[] = [];
    sample.forEach((a, i) => {
      if (matrix[i]![i] !== 0) broken.push(`${a} vs itself: ${matrix[i]![i]}`);
      sample.forEach((b, j) => {
        const forward = matrix[i]![j]!;
        if (forward !== -1 && forward !== 0 && forward !== 1) broken.push(`${a} vs ${b}: ${forward}`);
        if (matrix[j]![i] !== (forward === 0 ? 0 : -forward)) broken.push(`${a} vs ${b}: ${forward}, reversed ${matrix[j]![i]}`);
      });
    });
    expect(broken).toEqual([]);
  });

  it('is transitive over every triple of the sample (a ≤ b and b ≤ c imply a ≤ c; equality too)', () => {
    const broken: string[] = [];
    const n = sample.length;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const ij = matrix[i]![j]!;
        if (ij > 0) continue;
        for (let k = 0; k < n; k++) {
          const jk = matrix[j]![k]!;
          if (jk > 0) continue;
          const expected = ij === 0 && jk === 0 ? 0 : -1;
          if (matrix[i]![k] !== expected) broken.push(`${sample[i]} ≤ ${sample[j]} ≤ ${sample[k]} but compare gives ${matrix[i]![k]}`);
        }
      }
    }
    expect(broken.slice(0, 10)).toEqual([]);
  });

  it('orders the sample consistently with a sort', () => {
    const sorted = [...sample].sort((a, b) => comparator.compare(a, b));
    const outOfOrder = sorted.filter((version, index) => index > 0 && comparator.compare(sorted[index - 1]!, version) > 0);
    expect(outOfOrder).toEqual([]);
  });
});
