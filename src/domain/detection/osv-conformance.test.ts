// The OSV "is affected" cases translated from osv-scalibr, run through the real matcher.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import type { Advisory } from '../advisories/advisory.js';
import { versionSchemeFor } from '../inventory/version-scheme.js';
import type { InstalledPackage } from '../types.js';
import { AdvisoryIndex } from './advisory-index.js';
import { VersionMatcher } from './version-matcher.js';

interface VectorCase {
  vuln: string;
  package: { ecosystem: string; name: string; version: string; source_name?: string; origin_name?: string; epoch?: number };
  expect_affected: boolean;
  note?: string;
}

const vectors = JSON.parse(readFileSync(sharedData('versions/osv-isaffected-scalibr.json'), 'utf8')) as {
  vulns: Array<{ id: string; affected: Advisory['affected'] }>;
  cases: VectorCase[];
};

function advisoryOf(vuln: { id: string; affected: Array<Partial<Advisory['affected'][number]> & { package?: { ecosystem: string; name: string } }> }): Advisory {
  return {
    id: vuln.id,
    aliases: [],
    related: [],
    modified: new Date(0),
    severity: 'unknown',
    cvss: [],
    references: [],
    affected: vuln.affected.map((entry) => ({
      ecosystem: entry.package!.ecosystem,
      name: entry.package!.name,
      ranges: entry.ranges ?? [],
      versions: entry.versions ?? [],
    })),
  };
}

function installedOf(vector: VectorCase['package']): InstalledPackage {
  const sourceName = vector.source_name ?? vector.origin_name;
  const version = vector.epoch ? `${vector.epoch}:${vector.version}` : vector.version;
  return { ecosystem: vector.ecosystem, name: vector.name, version, ...(sourceName ? { sourceName } : {}) };
}

describe('OSV is-affected conformance (osv-scalibr cases)', () => {
  const advisories = new Map(vectors.vulns.map((vuln) => [vuln.id, advisoryOf(vuln as never)]));

  it('covers every case', () => {
    expect(vectors.cases.length).toBe(202);
  });

  it.each(vectors.cases.map((vector, index) => [index, vector] as const))('case %i', (_index, vector) => {
    const advisory = advisories.get(vector.vuln);
    expect(advisory, `vuln ${vector.vuln}`).toBeDefined();
    const matcher = new VersionMatcher(new AdvisoryIndex([advisory!]), versionSchemeFor);
    const matched = matcher.match(installedOf(vector.package)).some((match) => match.advisory.id === vector.vuln);
    expect(matched, `${vector.vuln} ${JSON.stringify(vector.package)} ${vector.note ?? ''}`).toBe(vector.expect_affected);
  });
});
