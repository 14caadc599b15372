import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { cvssBaseScore, severityOfScore } from './cvss.js';
import { parseEpss } from './epss.js';
import { advisoryFromOsv } from './osv-record.js';

describe('CVSS', () => {
  it('computes v3.1, v3.0 and v4.0 base scores from the vector', () => {
    expect(cvssBaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBe(9.8);
    expect(cvssBaseScore('CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N')).toBe(5.5);
    expect(cvssBaseScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')).toBe(9.3);
    expect(severityOfScore(9.8)).toBe('critical');
    expect(severityOfScore(5.5)).toBe('medium');
  });

  it('turns a malformed vector into an input error naming where it is', () => {
    expect(() => cvssBaseScore('CVSS:3.1/AV:X/garbage', { file: 'a.json', field: 'severity[0].score' })).toThrow(InputError);
    expect(() => cvssBaseScore('CVSS:3.1/AV:X/garbage', { file: 'a.json', field: 'severity[0].score' })).toThrow(/a\.json, field severity\[0\]\.score: malformed CVSS vector/);
    expect(() => cvssBaseScore('AV:N/AC:L')).toThrow(/unsupported CVSS vector/);
  });

  it('rates an OSV record by its worst signal and puts CVE aliases first', () => {
    const advisory = advisoryFromOsv(
      {
        id: 'GHSA-xxxx-yyyy-zzzz',
        modified: '2026-01-01T00:00:00Z',
        aliases: ['PYSEC-2026-1', 'CVE-2026-4242'],
        summary: 'Moderate: something',
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
        affected: [],
      },
      { file: 'x.json' },
    );
    expect(advisory.severity).toBe('critical');
    expect(advisory.aliases).toEqual(['CVE-2026-4242', 'PYSEC-2026-1']);
    expect(advisory.cvss[0]?.baseScore).toBe(9.8);
  });
});

describe('EPSS', () => {
  const csv = '#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000\ncve,epss,percentile\nCVE-2021-44228,0.94358,0.99957\nCVE-2026-1001,0.00043,0.11\n';

  it('reads FIRST\'s published layout', () => {
    const file = parseEpss(csv, 'epss.csv');
    expect(file.modelVersion).toBe('v2025.03.14');
    expect(file.scoreDate).toBe('2025-08-25');
    expect(file.scores).toEqual([
      { cveId: 'CVE-2021-44228', epss: 0.94358, percentile: 0.99957 },
      { cveId: 'CVE-2026-1001', epss: 0.00043, percentile: 0.11 },
    ]);
  });

  it('names the line and field of a bad row', () => {
    expect(() => parseEpss('cve,epss,percentile\nCVE-2021-44228,1.7,0.9\n', 'epss.csv')).toThrow('epss.csv, line 2, field epss: epss "1.7" is not a probability');
  });
});
