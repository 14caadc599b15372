// FIRST's EPSS CSV: the comment line, the header, and rows checked one by one with their line number.
import { describe, expect, it } from 'vitest';
import { parseEpss } from './epss.js';

describe('parseEpss', () => {
  const csv = [
    '#model_version:v2025.03.14,score_date:2025-08-25T00:00:00+0000',
    'cve,epss,percentile',
    'CVE-2021-44228,0.94358,0.99957',
    'CVE-2026-1001,0.00043,0.11',
    'CVE-2024-3094,8.5e-01,0.98512',
    '',
  ].join('\r\n');

  it("reads FIRST's published layout", () => {
    const file = parseEpss(csv, 'epss.csv');
    expect(file.modelVersion).toBe('v2025.03.14');
    expect(file.scoreDate).toBe('2025-08-25');
    expect(file.scores).toEqual([
      { cveId: 'CVE-2021-44228', epss: 0.94358, percentile: 0.99957 },
      { cveId: 'CVE-2026-1001', epss: 0.00043, percentile: 0.11 },
      { cveId: 'CVE-2024-3094', epss: 0.85, percentile: 0.98512 },
    ]);
    expect(file.byCve.get('CVE-2024-3094')?.percentile).toBe(0.98512);
    expect(file.byCve.size).toBe(3);
  });

  it('accepts a file without the comment line', () => {
    const file = parseEpss('cve,epss,percentile\nCVE-2021-44228,0.9,0.9\n', 'epss.csv');
    expect(file.modelVersion).toBeUndefined();
    expect(file.scores).toHaveLength(1);
  });

  it('names the line and field of a bad row', () => {
    expect(() => parseEpss('cve,epss,percentile\nCVE-2021-44228,1.7,0.9\n', 'epss.csv')).toThrow('epss.csv, line 2, field epss: epss "1.7" is not a probability');
    expect(() => parseEpss('#c\ncve,epss,percentile\nCVE-2021-44228,0.5,\n', 'epss.csv')).toThrow('epss.csv, line 3, field percentile: percentile "" is not between 0 and 1');
    expect(() => parseEpss('cve,epss,percentile\nCVE-2021-44228,0.5,0.5\nGHSA-1,0.5,0.5\n', 'epss.csv')).toThrow(/^epss\.csv, line 3: expected "CVE-YYYY-NNNN,epss,percentile"/);
    expect(() => parseEpss('cve,epss,percentile\nCVE-2021-44228,0.5,0.5,extra\n', 'epss.csv')).toThrow(/^epss\.csv, line 2: expected/);
    expect(() => parseEpss('cve,epss,percentile\nCVE-2021-44228,0.5,0.5\nCVE-2021-44228,0.6,0.5\n', 'epss.csv')).toThrow('epss.csv, line 3, field cve: CVE-2021-44228 is listed twice');
  });

  it('refuses a file that is not an EPSS CSV', () => {
    expect(() => parseEpss('id,score\nCVE-2021-44228,0.5\n', 'scores.csv')).toThrow('scores.csv, line 1: expected the header "cve,epss,percentile", found "id,score"');
    expect(() => parseEpss('', 'empty.csv')).toThrow('empty.csv: no "cve,epss,percentile" header');
  });
});
