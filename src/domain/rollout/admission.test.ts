import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../policy/policy-document.js';
import { admissionAt } from './admission.js';

const POLICY = parsePolicy(`version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "02:00", duration: 2h, admissionCutoff: 30m }
buckets:
  - { name: databases, owner: data-platform, match: { labels: { role: db } }, strategy: { kind: in-place }, windows: [nightly] }
freezes:
  - { name: year-end, from: "2026-12-20", until: "2027-01-03", allowEmergency: true }
  - { name: audit-week, from: "2026-12-10", until: "2026-12-11" }
`, 'fleetpatch.yaml');
const databases = { bucket: 'databases', team: 'data-platform', windows: ['nightly'] };

describe('admission', () => {
  it('admits inside a window until its end minus the cutoff, and not outside it', () => {
    expect(admissionAt(POLICY, databases, new Date('2026-12-01T02:10:00Z'))).toEqual({ open: true, until: new Date('2026-12-01T03:30:00Z') });
    expect(admissionAt(POLICY, databases, new Date('2026-12-01T10:00:00Z'))).toMatchObject({ open: false, reason: 'window-closed' });
  });

  it('an emergency rollout relaxing windows is admitted at any hour, until the next freeze it may not pass', () => {
    expect(admissionAt(POLICY, { ...databases, relaxations: ['windows'] }, new Date('2026-12-01T10:00:00Z'))).toEqual({ open: true, until: new Date('2026-12-10T00:00:00Z') });
    expect(admissionAt(POLICY, { ...databases, relaxations: ['windows'] }, new Date('2026-12-10T10:00:00Z'))).toMatchObject({ open: false, reason: 'freeze', detail: expect.stringContaining('audit-week') });
  });

  it('relaxing freezes passes only the freezes that allow the emergency path', () => {
    const during = new Date('2026-12-22T10:00:00Z');
    expect(admissionAt(POLICY, { ...databases, relaxations: ['windows'] }, during)).toMatchObject({ open: false, reason: 'freeze' });
    expect(admissionAt(POLICY, { ...databases, relaxations: ['windows', 'freezes'] }, during)).toMatchObject({ open: true });
    expect(admissionAt(POLICY, { ...databases, relaxations: ['windows', 'freezes'] }, new Date('2026-12-10T10:00:00Z'))).toMatchObject({ open: false, reason: 'freeze' });
  });
});
