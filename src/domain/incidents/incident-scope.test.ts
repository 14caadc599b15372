import { describe, expect, it } from 'vitest';
import { computeIncidentScope, hostNames, type ScopeHostInput } from './incident-scope.js';

const NOW = new Date('2026-12-01T12:00:00Z');
const HOUR = 3_600_000;
const ago = (ms: number) => new Date(NOW.getTime() - ms);
const options = { now: NOW, staleAfterMs: HOUR };

const row = (name: string, state: ScopeHostInput['state'], overrides: Partial<ScopeHostInput> = {}): ScopeHostInput => ({
  name, bucket: 'databases', team: 'data-platform', state, lastSeenAt: ago(60_000), ...overrides,
});

describe('computeIncidentScope', () => {
  it('counts hosts per bucket and per team by state', () => {
    const scope = computeIncidentScope([
      row('db-2', 'vulnerable'),
      row('db-1', 'pending-reboot'),
      row('web-1', 'live', { bucket: 'web', team: 'frontend' }),
      row('web-2', 'vulnerable', { bucket: 'web', team: 'frontend' }),
      row('batch-1', 'live', { bucket: 'batch', team: 'data-platform' }),
    ], options);
    expect(scope.total).toEqual({ hosts: 5, vulnerable: 2, pendingReboot: 1, live: 2, excluded: 0, unknown: 0 });
    expect(scope.byBucket).toEqual([
      { bucket: 'batch', counts: { hosts: 1, vulnerable: 0, pendingReboot: 0, live: 1, excluded: 0, unknown: 0 } },
      { bucket: 'databases', counts: { hosts: 2, vulnerable: 1, pendingReboot: 1, live: 0, excluded: 0, unknown: 0 } },
      { bucket: 'web', counts: { hosts: 2, vulnerable: 1, pendingReboot: 0, live: 1, excluded: 0, unknown: 0 } },
    ]);
    expect(scope.byTeam).toEqual([
      { team: 'data-platform', counts: { hosts: 3, vulnerable: 1, pendingReboot: 1, live: 1, excluded: 0, unknown: 0 } },
      { team: 'frontend', counts: { hosts: 2, vulnerable: 1, pendingReboot: 0, live: 1, excluded: 0, unknown: 0 } },
    ]);
    expect(scope.hosts.map((host) => host.name)).toEqual(['batch-1', 'db-1', 'db-2', 'web-1', 'web-2']);
    expect(scope.asOf).toBe(NOW);
  });

  it('may close when every host is live or excluded; the exclusion reason is kept', () => {
    const scope = computeIncidentScope([row('db-1', 'live'), row('db-2', 'vulnerable', { excluded: { reason: 'decommissioned on 2026-12-02' } })], options);
    expect(scope.closable).toBe(true);
    expect(scope.closeBlockers).toEqual([]);
    expect(scope.total).toMatchObject({ live: 1, excluded: 1 });
    expect(scope.hosts[1]).toMatchObject({ name: 'db-2', status: 'excluded', exclusionReasons: ['decommissioned on 2026-12-02'] });
  });

  it('an excluded host does not block closing even when its agent is long silent', () => {
    const scope = computeIncidentScope([row('db-1', 'vulnerable', { lastSeenAt: ago(30 * 24 * HOUR), excluded: { reason: 'retired' } })], options);
    expect(scope.hosts[0]!.status).toBe('excluded');
    expect(scope.closable).toBe(true);
  });

  it('a host patched but not rebooted blocks closing', () => {
    const scope = computeIncidentScope([row('db-1', 'live'), row('db-2', 'pending-reboot')], options);
    expect(scope.closable).toBe(false);
    expect(scope.closeBlockers).toEqual([{ bucket: 'databases', status: 'pending-reboot', hosts: ['db-2'], text: 'databases: 1 host patched but pending reboot (db-2)' }]);
  });

  it('a stale host counts as unknown whatever it last reported, and blocks closing', () => {
    const scope = computeIncidentScope([
      row('db-1', 'live', { lastSeenAt: ago(HOUR + 1) }),
      row('db-2', 'live', { lastSeenAt: ago(HOUR) }),
      row('db-3', 'live', { lastSeenAt: undefined }),
    ], options);
    expect(scope.hosts.map((host) => [host.name, host.status])).toEqual([['db-1', 'unknown'], ['db-2', 'live'], ['db-3', 'unknown']]);
    expect(scope.total).toMatchObject({ hosts: 3, live: 1, unknown: 2 });
    expect(scope.closable).toBe(false);
    expect(scope.closeBlockers.map((blocker) => blocker.text)).toEqual(['databases: 2 hosts unknown (db-1, db-3): no check-in for over 1h']);
  });

  it('collapses a host listed once per finding: the most urgent open finding wins, excluded only when all are', () => {
    const scope = computeIncidentScope([
      row('db-1', 'live'), row('db-1', 'pending-reboot'),
      row('db-2', 'vulnerable', { excluded: { reason: 'accepted until 2027-01-01' } }), row('db-2', 'live'),
      row('db-3', 'vulnerable', { excluded: { reason: 'a' } }), row('db-3', 'pending-reboot', { excluded: { reason: 'b' } }),
      row('db-4', 'live', { lastSeenAt: ago(2 * HOUR) }), row('db-4', 'live', { lastSeenAt: ago(60_000) }),
    ], options);
    expect(scope.hosts.map((host) => [host.name, host.status])).toEqual([['db-1', 'pending-reboot'], ['db-2', 'live'], ['db-3', 'excluded'], ['db-4', 'live']]);
    expect(scope.hosts[2]!.exclusionReasons).toEqual(['a', 'b']);
    expect(scope.total.hosts).toBe(4);
  });

  it('lists blockers by bucket, most urgent first, and shortens long host lists', () => {
    const scope = computeIncidentScope([
      ...['web-1', 'web-2', 'web-3', 'web-4', 'web-5', 'web-6', 'web-7'].map((name) => row(name, 'vulnerable', { bucket: 'web' })),
      row('db-1', 'pending-reboot', { lastSeenAt: ago(2 * HOUR) }),
      row('db-2', 'pending-reboot'),
      row('db-3', 'vulnerable'),
    ], options);
    expect(scope.closeBlockers.map((blocker) => blocker.text)).toEqual([
      'databases: 1 host vulnerable (db-3)',
      'databases: 1 host patched but pending reboot (db-2)',
      'databases: 1 host unknown (db-1): no check-in for over 1h',
      'web: 7 hosts vulnerable (web-1, web-2, web-3, web-4, web-5 and 2 more)',
    ]);
    expect(scope.closeBlockers[3]!.hosts).toHaveLength(7);
  });

  it('an empty scope may close and counts nothing', () => {
    const scope = computeIncidentScope([], options);
    expect(scope).toMatchObject({ closable: true, closeBlockers: [], byBucket: [], byTeam: [], total: { hosts: 0 } });
  });
});

describe('hostNames', () => {
  it('shows five names, then how many more', () => {
    expect(hostNames(['a', 'b'])).toBe('a, b');
    expect(hostNames(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c, d, e');
    expect(hostNames(['a', 'b', 'c', 'd', 'e', 'f'])).toBe('a, b, c, d, e and 1 more');
  });
});
