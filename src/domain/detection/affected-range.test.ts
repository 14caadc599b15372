import { describe, expect, it } from 'vitest';
import type { AffectedPackage, RangeEvent } from '../advisories/advisory.js';
import { evaluateAffected, evaluateRange } from './affected-range.js';

// Dotted numeric versions are enough to pin down the event semantics independently of any scheme.
function compareDotted(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

function verdict(events: RangeEvent[], installed: string) {
  return evaluateRange({ type: 'ECOSYSTEM', events }, (other) => compareDotted(installed, other), compareDotted);
}

describe('evaluateRange', () => {
  it('treats fixed as exclusive and reports it', () => {
    const events = [{ introduced: '0' }, { fixed: '2.0' }];
    expect(verdict(events, '1.9')).toEqual({ affected: true, fixedVersion: '2.0' });
    expect(verdict(events, '2.0')).toEqual({ affected: false });
    expect(verdict(events, '2.1')).toEqual({ affected: false });
  });

  it('treats last_affected as inclusive, with no fix to report', () => {
    const events = [{ introduced: '1.0' }, { last_affected: '1.5' }];
    expect(verdict(events, '0.9').affected).toBe(false);
    expect(verdict(events, '1.5')).toEqual({ affected: true });
    expect(verdict(events, '1.5.1').affected).toBe(false);
  });

  it('sorts unsorted events and reports the fix of the interval the version is in', () => {
    const events = [{ fixed: '3.2' }, { introduced: '2.1' }, { fixed: '1.0' }, { introduced: '0' }];
    expect(verdict(events, '0.5')).toEqual({ affected: true, fixedVersion: '1.0' });
    expect(verdict(events, '1.5').affected).toBe(false);
    expect(verdict(events, '2.1')).toEqual({ affected: true, fixedVersion: '3.2' });
    expect(verdict(events, '3.2').affected).toBe(false);
  });

  it('caps the range with limit', () => {
    const events = [{ introduced: '1.0' }, { limit: '2.0' }];
    expect(verdict(events, '1.9').affected).toBe(true);
    expect(verdict(events, '2.0').affected).toBe(false);
    expect(verdict(events, '5.0').affected).toBe(false);
  });

  it('gives an interval opened and fixed at the same version no members', () => {
    expect(verdict([{ introduced: '1.0' }, { fixed: '1.0' }], '1.0').affected).toBe(false);
  });

  it('is not affected below the first introduced version', () => {
    expect(verdict([{ introduced: '1.0' }], '0.9').affected).toBe(false);
    expect(verdict([{ introduced: '1.0' }], '7.0').affected).toBe(true);
  });
});

describe('evaluateAffected', () => {
  const base: AffectedPackage = { ecosystem: 'PyPI', name: 'demo', ranges: [], versions: [] };

  it('matches listed versions by equality under the scheme', () => {
    const affected = { ...base, versions: ['1.0', '1.1'] };
    expect(evaluateAffected(affected, '1.0.0', (other) => compareDotted('1.0.0', other), compareDotted).affected).toBe(true);
    expect(evaluateAffected(affected, '1.2', (other) => compareDotted('1.2', other), compareDotted).affected).toBe(false);
  });

  it('skips GIT ranges but keeps evaluating the others', () => {
    const affected: AffectedPackage = {
      ...base,
      ranges: [
        { type: 'GIT', events: [{ introduced: 'abc123' }, { fixed: 'def456' }] },
        { type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.4' }] },
      ],
    };
    expect(evaluateAffected(affected, '1.3', (other) => compareDotted('1.3', other), compareDotted)).toEqual({ affected: true, fixedVersion: '1.4' });
  });
});
