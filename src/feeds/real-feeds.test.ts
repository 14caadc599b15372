// The real advisory data parses completely: every AlmaLinux, Go and PyPI record, and the KEV catalogue.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../test/data-path.js';
import { openAdvisoryFeed } from './open-feed.js';
import { readEpssFile, readKevFile } from './signal-files.js';

describe('real advisory feeds', () => {
  it('parses all three AlmaLinux zips without an error (their speed is measured by bench:scan)', async () => {
    let records = 0;
    let affected = 0;
    const severities = new Map<string, number>();
    for (const release of [8, 9, 10]) {
      const progress: Array<number | undefined> = [];
      const batch = await openAdvisoryFeed(sharedData(`osv/almalinux/almalinux${release}.zip`)).read({ onProgress: (_done, total) => progress.push(total) });
      expect(batch.errors).toEqual([]);
      expect(batch.warnings).toEqual([]);
      // The progress total comes from the central directory before anything is inflated.
      expect(progress[0]).toBe(batch.advisories.length);
      records += batch.advisories.length;
      affected += batch.advisories.reduce((sum, advisory) => sum + advisory.affected.length, 0);
      for (const advisory of batch.advisories) severities.set(advisory.severity, (severities.get(advisory.severity) ?? 0) + 1);
    }
    expect(records).toBe(5680);
    expect(affected).toBe(71_329);
    // AlmaLinux writes the severity into the summary ("Important: …"); module errata ("virt:rhel …") carry none.
    expect(Object.fromEntries(severities)).toEqual({ critical: 34, high: 2386, medium: 1908, low: 154, none: 2, unknown: 1196 });
  });

  it('parses the Go vulnerability database with its SEMVER ranges', async () => {
    const batch = await openAdvisoryFeed(sharedData('osv/go/go-vulndb.zip')).read();
    expect(batch.errors).toEqual([]);
    expect(batch.advisories.length).toBe(4291);
    expect(batch.advisories.filter((advisory) => advisory.withdrawn)).toHaveLength(17);
    expect(batch.advisories.some((advisory) => advisory.affected.some((entry) => entry.name === 'stdlib'))).toBe(true);
    expect(new Set(batch.advisories.flatMap((advisory) => advisory.affected.flatMap((entry) => entry.ranges.map((range) => range.type))))).toEqual(new Set(['SEMVER']));
  });

  it('parses the PyPI advisories written as YAML', async () => {
    const batch = await openAdvisoryFeed(sharedData('osv/pypi/pypa-advisory-database-yaml.zip')).read();
    expect(batch.errors).toEqual([]);
    expect(batch.warnings).toEqual([]);
    // The archive holds 2,661 YAML records (its 2,662nd entry is the `.id-allocator` file).
    expect(batch.advisories.length).toBe(2661);
    expect(batch.advisories.some((advisory) => advisory.affected.some((entry) => entry.versions.length > 0))).toBe(true);
    expect(batch.advisories.filter((advisory) => advisory.cvss.some((score) => score.baseScore !== undefined))).toHaveLength(202);
  });

  it('skips records whose modified time is already stored', async () => {
    const feed = openAdvisoryFeed(sharedData('osv/almalinux/almalinux10.zip'));
    const first = await feed.read();
    const known = new Map(first.advisories.map((advisory) => [advisory.id, advisory.modified]));
    const second = await feed.read({ knownModified: (id) => known.get(id) });
    expect(second.advisories).toEqual([]);
    expect(second.unchanged).toBe(first.advisories.length);
  });
});

describe('signal files', () => {
  it('reads the CISA KEV catalogue from disk', async () => {
    const catalogue = await readKevFile(sharedData('kev/known_exploited_vulnerabilities.json'));
    expect(catalogue.byCve.size).toBe(1404);
    expect(catalogue.byCve.get('CVE-2021-44228')?.vendorProject).toBe('Apache');
  });

  it("reads FIRST's EPSS CSV, plain or gzipped as FIRST publishes it", async () => {
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-epss-'));
    try {
      const csv = '#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.94358,0.99957\nCVE-2026-1001,0.00043,0.11\n';
      writeFileSync(join(directory, 'epss.csv'), csv);
      writeFileSync(join(directory, 'epss_scores-2025-08-25.csv.gz'), gzipSync(csv));
      writeFileSync(join(directory, 'bad.csv.gz'), csv);
      const plain = await readEpssFile(join(directory, 'epss.csv'));
      const gzipped = await readEpssFile(join(directory, 'epss_scores-2025-08-25.csv.gz'));
      expect(gzipped).toEqual(plain);
      expect(gzipped.scoreDate).toBe('2025-08-25');
      expect(gzipped.byCve.get('CVE-2021-44228')?.epss).toBe(0.94358);
      await expect(readEpssFile(join(directory, 'bad.csv.gz'))).rejects.toThrow(/bad\.csv\.gz: not a readable gzip file/);
      await expect(readEpssFile(join(directory, 'missing.csv'))).rejects.toThrow(/missing\.csv: cannot read: ENOENT/);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
