import { describe, expect, it } from 'vitest';
import { riskScore } from './risk-score.js';

describe('riskScore', () => {
  it('explains every term it adds', () => {
    expect(riskScore({ severity: 'high', knownExploited: true, epss: 0.42 })).toEqual({
      score: 86,
      explanation: ['high severity: 50', 'known exploited (KEV): +25', 'EPSS 0.42: +11'],
    });
  });

  it('prefers the computed CVSS score over the severity word and caps at 100', () => {
    expect(riskScore({ severity: 'critical', cvssScore: 9.8, knownExploited: true, epss: 0.97, internetFacing: true }).score).toBe(100);
    expect(riskScore({ severity: 'medium', cvssScore: 5.3, knownExploited: false }).explanation).toEqual(['CVSS 5.3: 37']);
  });

  it('ranks a known-exploited medium above an unexploited high', () => {
    const exploitedMedium = riskScore({ severity: 'medium', knownExploited: true, epss: 0.5 });
    const quietHigh = riskScore({ severity: 'high', knownExploited: false, epss: 0.001 });
    expect(exploitedMedium.score).toBeGreaterThan(quietHigh.score);
  });
});
