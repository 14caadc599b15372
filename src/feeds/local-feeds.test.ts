// Directory and zip feeds over files written here: JSON and YAML records, nested folders, invalid
// records reported with file and JSON path, and clear errors for locations that are not feeds.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../domain/errors.js';
import { DirectoryFeed } from './directory-feed.js';
import { openAdvisoryFeed } from './open-feed.js';
import { ZipFeed } from './zip-feed.js';

const workDirectory = mkdtempSync(join(tmpdir(), 'fleetpatch-feeds-'));
afterAll(() => rmSync(workDirectory, { recursive: true, force: true }));

const goodJson = JSON.stringify({
  id: 'DSA-5001-1',
  modified: '2026-01-05T10:00:00Z',
  aliases: ['CVE-2026-1001'],
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:' }],
  affected: [{ package: { ecosystem: 'Debian:12', name: 'openssl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.15-1~deb12u1' }] }] }],
});
const goodYaml = [
  'id: PYSEC-2026-1',
  'modified: "2026-01-06T00:00:00.123456Z"',
  'affected:',
  '  - package: { ecosystem: PyPI, name: requests }',
  '    ranges:',
  '      - type: ECOSYSTEM',
  '        events: [{ introduced: "0" }, { fixed: "2.32.0" }]',
  '    versions: ["2.31.0"]',
  '',
].join('\n');
const twoKeyEvent = JSON.stringify({
  id: 'DSA-5002-1',
  modified: '2026-01-05T10:00:00Z',
  affected: [{ package: { ecosystem: 'Debian:12', name: 'curl' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0', fixed: '1.0' }] }] }],
});

describe('DirectoryFeed', () => {
  it('reads JSON and YAML records in nested folders and reports invalid ones with file and field', async () => {
    const root = join(workDirectory, 'tree');
    mkdirSync(join(root, 'pypi', 'requests'), { recursive: true });
    writeFileSync(join(root, 'DSA-5001-1.json'), goodJson);
    writeFileSync(join(root, 'pypi', 'requests', 'PYSEC-2026-1.yaml'), goodYaml);
    writeFileSync(join(root, 'DSA-5002-1.json'), twoKeyEvent);
    writeFileSync(join(root, 'broken.json'), '{"id": ');
    writeFileSync(join(root, 'README.md'), '# not a record');
    writeFileSync(join(root, '.id-allocator'), '');

    const batch = await openAdvisoryFeed(root).read();
    expect(openAdvisoryFeed(root)).toBeInstanceOf(DirectoryFeed);
    expect(batch.advisories.map((advisory) => advisory.id)).toEqual(['DSA-5001-1', 'PYSEC-2026-1']);
    expect(batch.advisories[1]?.affected[0]?.versions).toEqual(['2.31.0']);
    expect(batch.errors.map((error) => [error.location.file, error.location.field, error.message.replace(/^.*?: /, '')])).toEqual([
      [join(root, 'DSA-5002-1.json'), 'affected[0].ranges[0].events[0]', expect.stringContaining('an event has exactly one of')],
      [join(root, 'broken.json'), undefined, expect.stringMatching(/^not valid JSON/)],
    ]);
    // The truncated CVSS vector keeps its record and is reported as a warning.
    expect(batch.warnings?.map((warning) => [warning.location.file, warning.location.field])).toEqual([[join(root, 'DSA-5001-1.json'), 'severity[0].score']]);
    expect(batch.advisories[0]?.severity).toBe('unknown');
  });
});

describe('ZipFeed', () => {
  it('streams the records of a zip, reporting progress against the central directory count', async () => {
    const path = join(workDirectory, 'mixed.zip');
    writeFileSync(
      path,
      zipSync({ 'a/DSA-5001-1.json': strToU8(goodJson), 'a/': new Uint8Array(0), 'b/PYSEC-2026-1.yml': strToU8(goodYaml), 'DSA-5002-1.json': strToU8(twoKeyEvent), 'LICENSE': strToU8('MIT') }),
    );
    const progress: Array<[number, number | undefined]> = [];
    const feed = openAdvisoryFeed(path);
    expect(feed).toBeInstanceOf(ZipFeed);
    const batch = await feed.read({ onProgress: (done, total) => progress.push([done, total]) });
    expect(batch.advisories.map((advisory) => advisory.id).sort()).toEqual(['DSA-5001-1', 'PYSEC-2026-1']);
    expect(batch.errors.map((error) => [error.location.file, error.location.field])).toEqual([[`${path}:DSA-5002-1.json`, 'affected[0].ranges[0].events[0]']]);
    expect(progress).toEqual([[3, 3]]);
  });

  it('skips records whose modified time is not newer than the stored one', async () => {
    const path = join(workDirectory, 'two.zip');
    writeFileSync(path, zipSync({ 'DSA-5001-1.json': strToU8(goodJson), 'PYSEC-2026-1.yaml': strToU8(goodYaml) }));
    const stored = new Map([
      ['DSA-5001-1', new Date('2026-01-05T10:00:00Z')], // same: unchanged
      ['PYSEC-2026-1', new Date('2026-02-01T00:00:00Z')], // stored copy is newer: a stale archive must not roll it back
    ]);
    const batch = await new ZipFeed(path).read({ knownModified: (id) => stored.get(id) });
    expect(batch.advisories).toEqual([]);
    expect(batch.unchanged).toBe(2);
  });

  it('refuses a file that is not a zip of OSV records, or a cut one', async () => {
    const path = join(workDirectory, 'page.zip');
    writeFileSync(path, '<html>Service Unavailable</html>');
    const error = await new ZipFeed(path).read().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(`${path}: not a complete zip archive: the end-of-central-directory record is missing`);
    const noRecords = join(workDirectory, 'license.zip');
    writeFileSync(noRecords, zipSync({ LICENSE: strToU8('MIT') }));
    const noRecordsError = await new ZipFeed(noRecords).read().catch((caught: unknown) => caught);
    expect((noRecordsError as InputError).message).toBe(`${noRecords}: no OSV .json or .yaml files in this archive`);
    const truncated = join(workDirectory, 'truncated.zip');
    writeFileSync(truncated, zipSync({ 'DSA-5001-1.json': strToU8(goodJson.repeat(50)) }).subarray(0, 200));
    const truncatedError = await new ZipFeed(truncated).read().catch((caught: unknown) => caught);
    expect(truncatedError).toBeInstanceOf(InputError);
    expect((truncatedError as InputError).location.file).toBe(truncated);
  });
});

describe('openAdvisoryFeed', () => {
  it('says what is wrong with a location that is no feed', () => {
    const missing = join(workDirectory, 'nowhere');
    expect(() => openAdvisoryFeed(missing)).toThrow(`${missing}: no such advisory file or directory`);
    expect(() => openAdvisoryFeed(missing)).toThrow(expect.objectContaining({ hint: expect.stringMatching(/directory or \.zip of OSV files, or an http\(s\) mirror URL/) }));
    const text = join(workDirectory, 'notes.txt');
    writeFileSync(text, 'hello');
    expect(() => openAdvisoryFeed(text)).toThrow(`${text}: not a directory, .zip or URL`);
    expect(() => openAdvisoryFeed('https://mirror.example/osv')).toThrow(/an advisory URL needs the ecosystems to sync/);
  });
});
