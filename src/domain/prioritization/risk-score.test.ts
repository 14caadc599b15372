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

  it('raises findings in critical buckets and lowers them in low ones, and says so', () => {
    expect(riskScore({ severity: 'high', knownExploited: false, criticality: 'critical' })).toEqual({ score: 60, explanation: ['high severity: 50', 'critical criticality bucket: +10'] });
    expect(riskScore({ severity: 'high', knownExploited: false, criticality: 'low' })).toEqual({ score: 45, explanation: ['high severity: 50', 'low criticality bucket: -5'] });
    expect(riskScore({ severity: 'high', knownExploited: false, criticality: 'medium' }).explanation).toEqual(['high severity: 50']);
    expect(riskScore({ severity: 'none', knownExploited: false, criticality: 'low' }).score).toBe(0);
  });
});
