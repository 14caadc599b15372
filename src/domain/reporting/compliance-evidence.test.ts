import { describe, expect, it } from 'vitest';
import { evidenceStatus, slaBreached, type ComplianceEvidenceRow } from './compliance-evidence.js';

const now = new Date('2026-12-10T00:00:00Z');
const before = new Date('2026-12-09T00:00:00Z');
const after = new Date('2026-12-11T00:00:00Z');

const row = (overrides: Partial<ComplianceEvidenceRow> = {}): ComplianceEvidenceRow => ({
  host: 'db-1', bucket: 'databases', team: 'data', advisoryId: 'DSA-5801-1', aliases: ['CVE-2026-1001'], severity: 'high', knownExploited: false,
  package: 'openssl', installedVersion: '3.0.1-1', fixedVersion: '3.0.1-2', findingState: 'vulnerable', detectedAt: new Date('2026-12-01T00:00:00Z'),
  ...overrides,
});
const acceptance = (expiresAt: Date) => ({ id: 1, reason: 'vendor appliance', acceptedBy: 'alice', approvedBy: 'bob', acceptedAt: before, expiresAt });

describe('evidenceStatus', () => {
  it('calls a live fix compliant, even one made live late or under an acceptance', () => {
    expect(evidenceStatus(row({ findingState: 'fixed', dueAt: before, liveAt: now }), now)).toBe('compliant');
    expect(evidenceStatus(row({ findingState: 'fixed', acceptance: acceptance(after) }), now)).toBe('compliant');
  });

  it('counts a pending reboot past its due time as non-compliant, like a vulnerable host', () => {
    expect(evidenceStatus(row({ findingState: 'pending-reboot', dueAt: before }), now)).toBe('non-compliant');
    expect(evidenceStatus(row({ findingState: 'vulnerable', dueAt: before }), now)).toBe('non-compliant');
  });

  it('is due at the due time itself, open before it and without an SLA', () => {
    expect(evidenceStatus(row({ dueAt: now }), now)).toBe('non-compliant');
    expect(evidenceStatus(row({ findingState: 'pending-reboot', dueAt: after }), now)).toBe('open');
    expect(evidenceStatus(row(), now)).toBe('open');
  });

  it('excepts an open finding under an acceptance in force, and not once it expired', () => {
    expect(evidenceStatus(row({ dueAt: before, acceptance: acceptance(after) }), now)).toBe('excepted');
    expect(evidenceStatus(row({ dueAt: before, acceptance: acceptance(now) }), now)).toBe('non-compliant');
  });

  it('keeps a kernel that is not running apart: not-applicable', () => {
    expect(evidenceStatus(row({ findingState: 'not-applicable', dueAt: before }), now)).toBe('not-applicable');
  });
});

describe('slaBreached', () => {
  it('measures a fix by when it went live, an open finding by now', () => {
    expect(slaBreached(row({ findingState: 'fixed', dueAt: now, liveAt: before }), after)).toBe(false);
    expect(slaBreached(row({ findingState: 'fixed', dueAt: before, liveAt: now }), now)).toBe(true);
    expect(slaBreached(row({ dueAt: before }), now)).toBe(true);
    expect(slaBreached(row({ dueAt: after }), now)).toBe(false);
  });

  it('keeps the clock running under an acceptance, and never breaches without an SLA', () => {
    expect(slaBreached(row({ dueAt: before, acceptance: acceptance(after) }), now)).toBe(true);
    expect(slaBreached(row(), now)).toBe(false);
  });
});
