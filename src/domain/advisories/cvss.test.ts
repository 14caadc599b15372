// CVSS base scores come from the calculator, and vectors it would silently mis-score are refused.
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { cvssBaseScore, scoreCvssVector, severityOfScore } from './cvss.js';

describe('cvssBaseScore', () => {
  it('computes v3.1, v3.0 and v4.0 base scores from the vector', () => {
    expect(cvssBaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toBe(9.8);
    expect(cvssBaseScore('CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N')).toBe(5.5);
    expect(cvssBaseScore('CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:L')).toBe(5.6);
    expect(cvssBaseScore('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N')).toBe(9.3);
    // Temporal metrics are allowed and do not change the base score.
    expect(cvssBaseScore('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O')).toBe(9.8);
  });

  it('refuses vectors the calculator would score wrongly instead of failing', () => {
    // The calculator fills missing metrics with X and answers 0 for this v4 vector.
    expect(scoreCvssVector('CVSS:4.0/AV:N')).toEqual({ problem: expect.stringMatching(/missing base metric\(s\) AC, AT, PR, UI, VC, VI, VA, SC, SI, SA/) });
    // …and lets the last of two AV metrics win.
    expect(scoreCvssVector('CVSS:3.1/AV:N/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H')).toEqual({ problem: expect.stringMatching(/metric AV appears twice/) });
    expect(scoreCvssVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q')).toEqual({ problem: expect.stringMatching(/Unknown component value Q/) });
    expect(scoreCvssVector('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/')).toEqual({ problem: expect.stringMatching(/"" is not a METRIC:VALUE pair/) });
  });

  it('turns a malformed vector into an input error naming where it is', () => {
    expect(() => cvssBaseScore('CVSS:3.1/AV:X/garbage', { file: 'a.json', field: 'severity[0].score' })).toThrow(InputError);
    expect(() => cvssBaseScore('CVSS:3.1/AV:X/garbage', { file: 'a.json', field: 'severity[0].score' })).toThrow(/^a\.json, field severity\[0\]\.score: malformed CVSS vector/);
    expect(() => cvssBaseScore('AV:N/AC:L/Au:N/C:P/I:P/A:P')).toThrow(/unsupported CVSS vector/);
  });
});

describe('severityOfScore', () => {
  it('bands scores at the CVSS boundaries', () => {
    const bands = [0, 0.1, 3.9, 4, 6.9, 7, 8.9, 9, 10].map(severityOfScore);
    expect(bands).toEqual(['none', 'low', 'low', 'medium', 'medium', 'high', 'high', 'critical', 'critical']);
  });
});
