// The real advisory data parses completely: every AlmaLinux, Go and PyPI record, and the KEV catalogue.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../test/data-path.js';
import { parseKevCatalogue } from '../domain/advisories/kev.js';
import { openAdvisoryFeed } from './open-feed.js';

describe('real advisory feeds', () => {
  it('parses all three AlmaLinux zips without an error', async () => {
    let records = 0;
    let affected = 0;
    const severities = new Map<string, number>();
    for (const release of [8, 9, 10]) {
      const batch = await openAdvisoryFeed(sharedData(`osv/almalinux/almalinux${release}.zip`)).read();
      expect(batch.errors).toEqual([]);
      records += batch.advisories.length;
      affected += batch.advisories.reduce((sum, advisory) => sum + advisory.affected.length, 0);
      for (const advisory of batch.advisories) severities.set(advisory.severity, (severities.get(advisory.severity) ?? 0) + 1);
    }
    expect(records).toBe(5680);
    expect(affected).toBe(71_329);
    // AlmaLinux writes the severity into the summary ("Important: …"); bug-fix errata have none.
    expect(severities.get('high')).toBeGreaterThan(1000);
    expect(severities.get('critical')).toBeGreaterThan(0);
  });

  it('parses the Go vulnerability database with CVSS-free SEMVER ranges', async () => {
    const batch = await openAdvisoryFeed(sharedData('osv/go/go-vulndb.zip')).read();
    expect(batch.errors).toEqual([]);
    expect(batch.advisories.length).toBe(4291);
    expect(batch.advisories.some((advisory) => advisory.affected.some((entry) => entry.name === 'stdlib'))).toBe(true);
  });

  it('parses the PyPI advisories written as YAML', async () => {
    const batch = await openAdvisoryFeed(sharedData('osv/pypi/pypa-advisory-database-yaml.zip')).read();
    expect(batch.errors).toEqual([]);
    // The archive holds 2,661 YAML records (its 2,662nd entry is the `.id-allocator` file).
    expect(batch.advisories.length).toBe(2661);
    expect(batch.advisories.some((advisory) => advisory.affected.some((entry) => entry.versions.length > 0))).toBe(true);
  });

  it('skips records whose modified time is already stored', async () => {
    const feed = openAdvisoryFeed(sharedData('osv/almalinux/almalinux10.zip'));
    const first = await feed.read();
    const known = new Map(first.advisories.map((advisory) => [advisory.id, advisory.modified]));
    const second = await feed.read({ knownModified: (id) => known.get(id) });
    expect(second.advisories).toEqual([]);
    expect(second.unchanged).toBe(first.advisories.length);
  });

  it('parses the CISA KEV catalogue', () => {
    const catalogue = parseKevCatalogue(readFileSync(sharedData('kev/known_exploited_vulnerabilities.json'), 'utf8'), 'kev.json');
    expect(catalogue.entries).toHaveLength(1404);
    expect(catalogue.entries.find((entry) => entry.cveId === 'CVE-2021-44228')?.vendorProject).toBe('Apache');
  });
});
