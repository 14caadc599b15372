// OSV validation and conversion: every problem names file and JSON path; severity is the worst signal.
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { InputError } from '../errors.js';
import { advisoryFromOsv, readOsvRecord, type OsvReading } from './osv-record.js';

const debianRecord = () => ({
  schema_version: '1.6.0',
  id: 'DSA-5001-1',
  modified: '2026-01-05T10:00:00Z',
  published: '2026-01-04T00:00:00Z',
  aliases: ['DLA-9-1', 'CVE-2026-1001'],
  related: ['CVE-2026-1002'],
  summary: 'openssl - security update',
  affected: [
    {
      package: { ecosystem: 'Debian:12', name: 'openssl', purl: 'pkg:deb/debian/openssl?arch=source' },
      ranges: [
        { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.15-1~deb12u1' }] },
        { type: 'GIT', repo: 'https://github.com/openssl/openssl', events: [{ introduced: '0' }, { fixed: 'abc123' }] },
      ],
      versions: ['3.0.11-1~deb12u2'],
    },
  ],
  references: [{ type: 'ADVISORY', url: 'https://www.debian.org/security/2026/dsa-5001' }],
});

function errorsOf(reading: OsvReading): Array<{ field: string | undefined; message: string }> {
  if (!('errors' in reading)) throw new Error('expected the record to be refused');
  return reading.errors.map((error) => {
    expect(error).toBeInstanceOf(InputError);
    expect(error.location.file).toBe('bad.json');
    return { field: error.location.field, message: error.message };
  });
}

describe('readOsvRecord', () => {
  it('converts a valid record', () => {
    const advisory = advisoryFromOsv(debianRecord(), { file: 'DSA-5001-1.json' });
    expect(advisory).toMatchObject({
      id: 'DSA-5001-1',
      aliases: ['CVE-2026-1001', 'DLA-9-1'],
      related: ['CVE-2026-1002'],
      summary: 'openssl - security update',
      severity: 'unknown',
      references: ['https://www.debian.org/security/2026/dsa-5001'],
    });
    expect(advisory.modified.toISOString()).toBe('2026-01-05T10:00:00.000Z');
    expect(advisory.affected).toEqual([
      {
        ecosystem: 'Debian:12',
        name: 'openssl',
        ranges: [
          { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.15-1~deb12u1' }] },
          { type: 'GIT', events: [{ introduced: '0' }, { fixed: 'abc123' }] },
        ],
        versions: ['3.0.11-1~deb12u2'],
      },
    ]);
  });

  it('names the JSON path of each problem', () => {
    const missingId: Record<string, unknown> = debianRecord();
    delete missingId.id;
    expect(errorsOf(readOsvRecord(missingId, { file: 'bad.json' }))).toEqual([{ field: 'id', message: expect.stringMatching(/^bad\.json, field id: invalid OSV record: /) }]);

    const twoKeys = debianRecord();
    (twoKeys.affected[0]!.ranges[1]!.events as unknown[])[0] = { introduced: '0', fixed: '1.0' };
    expect(errorsOf(readOsvRecord(twoKeys, { file: 'bad.json' }))).toEqual([
      { field: 'affected[0].ranges[1].events[0]', message: expect.stringContaining('invalid OSV record (DSA-5001-1): an event has exactly one of introduced, fixed, last_affected, limit; found introduced, fixed') },
    ]);

    const badDate = { ...debianRecord(), modified: '05/01/2026' };
    expect(errorsOf(readOsvRecord(badDate, { file: 'bad.json' }))).toEqual([{ field: 'modified', message: expect.stringContaining('not an RFC 3339 timestamp: "05/01/2026"') }]);
    // A date without a time is valid for Date() but not for OSV.
    expect(errorsOf(readOsvRecord({ ...debianRecord(), published: '2026-01-04' }, { file: 'bad.json' }))[0]?.field).toBe('published');
  });

  it('enforces the range rules of the OSV schema', () => {
    const record = debianRecord();
    delete (record.affected[0]!.ranges[1] as { repo?: string }).repo;
    record.affected[0]!.ranges[0]!.events = [{ fixed: '1.0' }];
    expect(errorsOf(readOsvRecord(record, { file: 'bad.json' }))).toEqual([
      { field: 'affected[0].ranges[0].events', message: expect.stringContaining('a range needs an introduced event') },
      { field: 'affected[0].ranges[1].repo', message: expect.stringContaining('a GIT range needs the repository URL in repo') },
    ]);
    const both = debianRecord();
    both.affected[0]!.ranges[0]!.events = [{ introduced: '0' }, { fixed: '1.0' }, { last_affected: '0.9' } as never];
    expect(errorsOf(readOsvRecord(both, { file: 'bad.json' }))).toEqual([
      { field: 'affected[0].ranges[0].events', message: expect.stringContaining('either fixed or last_affected events, not both') },
    ]);
    const unknownType = debianRecord();
    (unknownType.affected[0]!.ranges[0] as { type: string }).type = 'RPM';
    expect(errorsOf(readOsvRecord(unknownType, { file: 'bad.json' }))[0]?.field).toBe('affected[0].ranges[0].type');
  });

  it('collects every problem of a record, not only the first', () => {
    const record = { ...debianRecord(), id: '', modified: 'yesterday', aliases: 'CVE-2026-1001' };
    expect(errorsOf(readOsvRecord(record, { file: 'bad.json' })).map((error) => error.field)).toEqual(['id', 'modified', 'aliases']);
    expect(errorsOf(readOsvRecord(['not', 'a', 'record'], { file: 'bad.json' }))).toHaveLength(1);
  });

  it('keeps a record whose CVSS vector cannot be scored, with a warning naming the vector', () => {
    const record = {
      ...debianRecord(),
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q' }],
      affected: [{ ...debianRecord().affected[0]!, severity: [{ type: 'CVSS_V4', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] }],
    };
    const reading = readOsvRecord(record, { file: 'bad.json' });
    if (!('advisory' in reading)) throw new Error('the record should be kept');
    expect(reading.advisory.cvss).toEqual([
      { type: 'CVSS_V3', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q' },
      { type: 'CVSS_V4', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
    ]);
    expect(reading.advisory.severity).toBe('unknown');
    expect(reading.warnings.map((warning) => warning.message)).toEqual([
      expect.stringMatching(/^bad\.json, field severity\[0\]\.score: malformed CVSS vector .*Unknown component value Q.*; not scored$/),
      expect.stringMatching(/^bad\.json, field affected\[0\]\.severity\[0\]\.score: CVSS_V4 severity holds a vector of another version/),
    ]);
  });

  it('accepts the timestamps a YAML 1.1 loader turns into dates', () => {
    const record = parseYaml('id: PYSEC-2026-1\nmodified: 2026-01-05T10:00:00.123456Z\npublished: 2026-01-04T00:00:00Z\n', { schema: 'yaml-1.1' });
    expect(record.modified).toBeInstanceOf(Date);
    const advisory = advisoryFromOsv(record, { file: 'PYSEC-2026-1.yaml' });
    expect(advisory.modified.toISOString()).toBe('2026-01-05T10:00:00.123Z');
    expect(advisory.affected).toEqual([]);
  });

  it('keeps withdrawal and falls back to the first line of details for the summary', () => {
    const { summary: _summary, ...record } = { ...debianRecord(), withdrawn: '2026-02-01T00:00:00Z', details: 'First line.\nMore.' };
    const advisory = advisoryFromOsv(record, { file: 'DSA-5001-1.json' });
    expect(advisory.withdrawn?.toISOString()).toBe('2026-02-01T00:00:00.000Z');
    expect(advisory.summary).toBe('First line.');
  });
});

describe('severity', () => {
  const rate = (fields: Record<string, unknown>, affectedFields: Record<string, unknown> = {}) =>
    advisoryFromOsv({ ...debianRecord(), ...fields, affected: [{ ...debianRecord().affected[0]!, ...affectedFields }] }, { file: 'x.json' }).severity;

  it('reads the AlmaLinux summary prefix', () => {
    expect(rate({ summary: 'Important: kernel security update' })).toBe('high');
    expect(rate({ summary: 'Critical: firefox security update' })).toBe('critical');
    expect(rate({ summary: 'Moderate: curl security update' })).toBe('medium');
    expect(rate({ summary: 'Low: vim security update' })).toBe('low');
    expect(rate({ summary: 'virt:rhel security update' })).toBe('unknown');
  });

  it('reads GHSA and Ubuntu severity words', () => {
    expect(rate({ database_specific: { severity: 'MODERATE', github_reviewed: true } })).toBe('medium');
    expect(rate({ severity: [{ type: 'Ubuntu', score: 'negligible' }] })).toBe('low');
    expect(rate({}, { ecosystem_specific: { severity: 'high' } })).toBe('high');
    expect(rate({ severity: [{ type: 'Ubuntu', score: 'untriaged' }] })).toBe('unknown');
  });

  it('takes the worst of CVSS bands and words, and puts CVE aliases first', () => {
    const advisory = advisoryFromOsv(
      {
        id: 'GHSA-xxxx-yyyy-zzzz',
        modified: '2026-01-01T00:00:00Z',
        aliases: ['PYSEC-2026-1', 'CVE-2026-4242', 'GHSA-aaaa-bbbb-cccc', 'CVE-2026-4243'],
        summary: 'Moderate: something',
        severity: [
          { type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' },
          { type: 'CVSS_V2', score: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' },
        ],
        database_specific: { severity: 'LOW' },
        affected: [],
      },
      { file: 'x.json' },
    );
    expect(advisory.severity).toBe('critical');
    expect(advisory.aliases).toEqual(['CVE-2026-4242', 'CVE-2026-4243', 'PYSEC-2026-1', 'GHSA-aaaa-bbbb-cccc']);
    expect(advisory.cvss).toEqual([
      { type: 'CVSS_V3', vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 9.8 },
      { type: 'CVSS_V2', vector: 'AV:N/AC:L/Au:N/C:P/I:P/A:P' },
    ]);
    expect(rate({ summary: 'Critical: x', severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N' }] })).toBe('critical');
    expect(rate({ severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:L/AC:H/AT:P/PR:H/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N' }] })).toBe('low');
  });
});
