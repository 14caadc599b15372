// Conformance vectors from the ecosystems' own test suites (../shared/data/versions), run through
// every comparator, plus the contract every comparator must keep.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import type { VersionScheme } from '../types.js';
import { ALL_SCHEMES, comparatorFor } from './index.js';

interface ComparisonVector {
  a: string;
  b: string;
  cmp: -1 | 0 | 1;
  src?: string;
}

function vectors(file: string): ComparisonVector[] {
  return JSON.parse(readFileSync(sharedData(`versions/${file}`), 'utf8')) as ComparisonVector[];
}

function disagreements(scheme: VersionScheme, cases: ComparisonVector[]): string[] {
  const comparator = comparatorFor(scheme);
  const wrong: string[] = [];
  for (const { a, b, cmp } of cases) {
    let forward: number;
    let backward: number;
    try {
      forward = comparator.compare(a, b);
      backward = comparator.compare(b, a);
    } catch (error) {
      wrong.push(`${a} vs ${b}: threw ${String(error)}`);
      continue;
    }
    if (forward !== cmp || backward !== -cmp) wrong.push(`${a} vs ${b}: expected ${cmp}, got ${forward} / reverse ${backward}`);
  }
  return wrong;
}

const LEGACY_DISAGREEMENTS = { scalibr: 4, generated: 0 };

describe('version comparison conformance', () => {
  it.each([
    ['dpkg', 'dpkg.json', 73],
    ['dpkg', 'dpkg-osv-generated.json', 14_442],
    ['rpm', 'rpm.json', 256],
    ['semver', 'semver-compare.json', 68],
    ['semver', 'semver-osv.json', 86],
    ['pypi', 'pypi.json', 12_412],
  ] as const)('%s agrees with every vector in %s', (scheme, file, count) => {
    const cases = vectors(file);
    expect(cases).toHaveLength(count);
    expect(disagreements(scheme, cases)).toEqual([]);
  });

  it('apk agrees with every apk-tools vector', () => {
    const cases = vectors('apk.json').filter((entry) => entry.src?.startsWith('apk-tools'));
    expect(cases.length).toBe(738);
    expect(disagreements('apk', cases)).toEqual([]);
  });

  it('apk agrees with the osv-scalibr vectors except where they contradict apk-tools', () => {
    const scalibr = vectors('apk.json').filter((entry) => !entry.src?.startsWith('apk-tools'));
    const generated = vectors('apk-osv-generated.json');
    const apk = comparatorFor('apk');
    // Entries using versions apk-tools 3.x calls invalid are scalibr's own choices, not apk's.
    const valid = (entry: ComparisonVector) => apk.isValid(entry.a) && apk.isValid(entry.b);
    expect(disagreements('apk', scalibr.filter(valid))).toEqual([]);
    expect(disagreements('apk', generated.filter(valid))).toEqual([]);
    // On the legacy versions we order as apk-tools 2.x did, we differ from scalibr's choices this often:
    expect(disagreements('apk', scalibr.filter((entry) => !valid(entry))).length).toBe(LEGACY_DISAGREEMENTS.scalibr);
    expect(disagreements('apk', generated.filter((entry) => !valid(entry))).length).toBe(LEGACY_DISAGREEMENTS.generated);
  });

  it('apk validity follows apk-tools', () => {
    const cases = JSON.parse(readFileSync(sharedData('versions/apk-validity.json'), 'utf8')) as Array<{ version: string; valid: boolean }>;
    const wrong = cases.filter((entry) => comparatorFor('apk').isValid(entry.version) !== entry.valid);
    expect(wrong).toEqual([]);
  });

  it('semver validity follows node-semver', () => {
    const cases = JSON.parse(readFileSync(sharedData('versions/semver-valid.json'), 'utf8')) as Array<{ version: string; valid: boolean }>;
    const wrong = cases.filter((entry) => comparatorFor('semver').isValid(entry.version) !== entry.valid);
    expect(wrong).toEqual([]);
  });
});

describe.each(ALL_SCHEMES)('%s comparator contract', (scheme) => {
  const comparator = comparatorFor(scheme);
  const sampleFile: Record<VersionScheme, string> = {
    dpkg: 'dpkg-osv-generated.json',
    rpm: 'rpm.json',
    apk: 'apk-osv-generated.json',
    semver: 'semver-osv.json',
    pypi: 'pypi.json',
  };
  const sample = [...new Set(vectors(sampleFile[scheme]).flatMap((entry) => [entry.a, entry.b]))].slice(0, 120);

  it('is reflexive and antisymmetric and returns only -1, 0 or 1', () => {
    for (const a of sample) {
      expect(comparator.compare(a, a)).toBe(0);
      for (const b of sample) {
        const forward = comparator.compare(a, b);
        expect([-1, 0, 1]).toContain(forward);
        expect(comparator.compare(b, a)).toBe(-forward || 0);
      }
    }
  });

  it('is transitive: sorting is consistent with every pairwise comparison', () => {
    const sorted = [...sample].sort((a, b) => comparator.compare(a, b));
    for (let i = 0; i < sorted.length; i++) {
      for (let j = i + 1; j < sorted.length; j++) expect(comparator.compare(sorted[i]!, sorted[j]!)).toBeLessThanOrEqual(0);
    }
  });
});
