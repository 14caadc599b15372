import { describe, expect, it } from 'vitest';
import { dedupKey, isSuppressed, type NotificationEvent } from './notification-event.js';

const event = (overrides: Partial<NotificationEvent>): NotificationEvent => ({
  kind: 'host-silent', severity: 'warning', rolloutId: 7, host: 'db-1', bucket: 'databases', team: 'data-platform',
  summary: 'db-1 silent', details: {}, occurredAt: new Date('2027-01-05T22:10:00Z'), ...overrides,
});

describe('isSuppressed', () => {
  it('suppresses an expected signal', () => {
    expect(isSuppressed(event({ expected: true }))).toBe(true);
    expect(isSuppressed(event({}))).toBe(false);
  });
  it('never suppresses a failure, an urgent severity or a resolve, even when called expected', () => {
    expect(isSuppressed(event({ expected: true, kind: 'reboot-stuck' }))).toBe(false);
    expect(isSuppressed(event({ expected: true, kind: 'gate-failed' }))).toBe(false);
    expect(isSuppressed(event({ expected: true, severity: 'error' }))).toBe(false);
    expect(isSuppressed(event({ expected: true, resolves: true }))).toBe(false);
  });
});

describe('dedupKey', () => {
  it('is one per rollout, or per rollout and host', () => {
    expect(dedupKey({ rolloutId: 7 })).toBe('fleetpatch:rollout:7');
    expect(dedupKey({ rolloutId: 7, host: 'db-1' })).toBe('fleetpatch:rollout:7:host:db-1');
  });
  it('stays within PagerDuty\'s 255 characters', () => {
    expect(dedupKey({ rolloutId: 123_456, host: `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}` })).toHaveLength(255);
  });
});
