import { describe, expect, it } from 'vitest';
import { computeIncidentScope, type ScopeHostInput } from './incident-scope.js';
import { draftStatusUpdate, statusCadence, type OperationalBlocker } from './incident-status.js';

const HOUR = 3_600_000;
const T0 = new Date('2026-12-01T10:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const incident = { id: 'INC-2026-0001', title: 'CVE-2026-1001 in openssl' };

const row = (name: string, bucket: string, team: string, state: ScopeHostInput['state'], lastSeenAt: Date | undefined): ScopeHostInput => ({ name, bucket, team, state, lastSeenAt });
const scopeAt = (hours: number, rows: ScopeHostInput[]) => computeIncidentScope(rows, { now: at(hours), staleAfterMs: HOUR });

const before = scopeAt(0, [
  row('db-1', 'databases', 'data-platform', 'vulnerable', at(0)),
  row('db-2', 'databases', 'data-platform', 'vulnerable', at(0)),
  row('web-1', 'web', 'frontend', 'vulnerable', at(0)),
  row('edge-1', 'edge', 'frontend', 'vulnerable', at(0)),
]);
const now = scopeAt(2, [
  row('db-1', 'databases', 'data-platform', 'live', at(1.9)),
  row('db-2', 'databases', 'data-platform', 'pending-reboot', at(1.9)),
  row('web-1', 'web', 'frontend', 'live', at(0.5)),
  row('web-2', 'web', 'frontend', 'vulnerable', at(1.9)),
]);

describe('draftStatusUpdate', () => {
  const failed: OperationalBlocker = { host: 'web-2', bucket: 'web', kind: 'failed', detail: 'upgrade: apt-get exited 100 | held packages' };
  const draft = draftStatusUpdate({ incident, previous: before, current: now, blockers: [failed], forecasts: new Map([['databases', at(3)], ['web', at(5)]]), nextUpdateDueAt: at(4) });

  it('gives each bucket and team its numbers and their change since the last update; a bucket that left the scope stays at zero', () => {
    expect(draft.at).toEqual(at(2));
    expect(draft.total).toEqual({
      counts: { hosts: 4, vulnerable: 1, pendingReboot: 1, live: 1, excluded: 0, unknown: 1 },
      change: { hosts: 0, vulnerable: -3, pendingReboot: 1, live: 1, excluded: 0, unknown: 1 },
    });
    expect(draft.buckets.map((bucket) => [bucket.bucket, bucket.counts.hosts, bucket.change?.hosts, bucket.done])).toEqual([
      ['databases', 2, 0, false], ['edge', 0, -1, true], ['web', 2, 1, false],
    ]);
    expect(draft.buckets[0]!.change).toEqual({ hosts: 0, vulnerable: -2, pendingReboot: 1, live: 1, excluded: 0, unknown: 0 });
    expect(draft.teams).toEqual([
      { team: 'data-platform', counts: { hosts: 2, vulnerable: 0, pendingReboot: 1, live: 1, excluded: 0, unknown: 0 }, change: { hosts: 0, vulnerable: -2, pendingReboot: 1, live: 1, excluded: 0, unknown: 0 } },
      { team: 'frontend', counts: { hosts: 2, vulnerable: 1, pendingReboot: 0, live: 0, excluded: 0, unknown: 1 }, change: { hosts: 0, vulnerable: -1, pendingReboot: 0, live: 0, excluded: 0, unknown: 1 } },
    ]);
  });

  it('adds the scope\'s stale hosts to the given blockers, and files blockers under their bucket', () => {
    expect(draft.blockers).toEqual([failed, { host: 'web-1', bucket: 'web', kind: 'stale-agent', detail: 'last seen 2026-12-01 10:30 UTC' }].sort((a, b) => (a.host < b.host ? -1 : 1)));
    expect(draft.buckets.find((bucket) => bucket.bucket === 'web')!.blockers.map((blocker) => blocker.kind)).toEqual(['stale-agent', 'failed']);
    const listed = draftStatusUpdate({ incident, current: now, blockers: [{ host: 'web-1', bucket: 'web', kind: 'stale-agent', detail: 'no heartbeat since the reboot' }], forecasts: new Map() });
    expect(listed.blockers).toEqual([{ host: 'web-1', bucket: 'web', kind: 'stale-agent', detail: 'no heartbeat since the reboot' }]);
  });

  it('forecasts done at the latest bucket forecast, or names the buckets without one', () => {
    expect(draft.forecastDoneAt).toEqual(at(5));
    expect(draft.buckets.map((bucket) => bucket.forecastDoneAt)).toEqual([at(3), undefined, at(5)]);
    const partial = draftStatusUpdate({ incident, previous: before, current: now, blockers: [], forecasts: new Map([['databases', at(3)], ['web', undefined]]) });
    expect(partial.forecastDoneAt).toBeUndefined();
    expect(partial.unforecastBuckets).toEqual(['web']);
    expect(partial.markdown).toContain('**Forecast to done:** unknown: no forecast for web.');
    expect(partial.markdown).toContain('| web | 1 | 0 | 0 | 0 | 1 (+1) | none |');
  });

  it('shows the scope growing since the last update', () => {
    const grown = scopeAt(2, [...now.hosts.map((host) => row(host.name, host.bucket, host.team, 'vulnerable', at(2))), row('web-3', 'web', 'frontend', 'vulnerable', at(2))]);
    const update = draftStatusUpdate({ incident, previous: before, current: grown, blockers: [], forecasts: new Map() });
    expect(update.total.change).toMatchObject({ hosts: 1, vulnerable: 1 });
    expect(update.markdown).toContain('**5 hosts (+1) in scope:** 5 (+1) vulnerable, 0 patched, pending reboot');
  });

  it('writes the update as Markdown: summary, tables with changes, blockers escaped, closing, next update', () => {
    expect(draft.markdown).toBe([
      '### INC-2026-0001 status update, 2026-12-01 12:00 UTC',
      '',
      'CVE-2026-1001 in openssl',
      '',
      '**4 hosts in scope:** 1 (-3) vulnerable, 1 (+1) patched, pending reboot, 1 (+1) live, 0 excluded, 1 (+1) unknown.',
      '**Forecast to done:** 2026-12-01 15:00 UTC.',
      '',
      '| Bucket | Vulnerable | Pending reboot | Live | Excluded | Unknown | Forecast |',
      '|---|---:|---:|---:|---:|---:|---|',
      '| databases | 0 (-2) | 1 (+1) | 1 (+1) | 0 | 0 | 2026-12-01 13:00 UTC |',
      '| edge | 0 (-1) | 0 | 0 | 0 | 0 | done |',
      '| web | 1 | 0 | 0 | 0 | 1 (+1) | 2026-12-01 15:00 UTC |',
      '',
      '| Team | Vulnerable | Pending reboot | Live | Excluded | Unknown |',
      '|---|---:|---:|---:|---:|---:|',
      '| data-platform | 0 (-2) | 1 (+1) | 1 (+1) | 0 | 0 |',
      '| frontend | 1 (-1) | 0 | 0 | 0 | 1 (+1) |',
      '',
      '**Blockers**',
      '- web · web-1: agent stale: last seen 2026-12-01 10:30 UTC',
      '- web · web-2: failed: upgrade: apt-get exited 100 \\| held packages',
      '',
      '**Closing:** not yet: databases: 1 host patched but pending reboot (db-2); web: 1 host vulnerable (web-2); web: 1 host unknown (web-1): no check-in for over 1h.',
      '**Next update:** 2026-12-01 14:00 UTC',
      '',
    ].join('\n'));
  });

  it('marks the first update, and a finished scope as done and closable', () => {
    const done = scopeAt(6, [row('db-1', 'databases', 'data-platform', 'live', at(6)), { ...row('db-2', 'databases', 'data-platform', 'vulnerable', at(6)), excluded: { reason: 'retired' } }]);
    const first = draftStatusUpdate({ incident, current: done, blockers: [], forecasts: new Map() });
    expect(first.total.change).toBeUndefined();
    expect(first.closable).toBe(true);
    expect(first.forecastDoneAt).toBeUndefined();
    expect(first.markdown).toContain('**2 hosts in scope:** 0 vulnerable, 0 patched, pending reboot, 1 live, 1 excluded, 0 unknown. (first update)\n**Forecast to done:** done.');
    expect(first.markdown).toContain('- none\n');
    expect(first.markdown).toContain('**Closing:** every host in scope is live or excluded; the incident may close.');
    expect(first.markdown).not.toContain('Next update');
  });
});

describe('statusCadence', () => {
  const every = 2 * HOUR;

  it('is due one interval after opening, and not missed until its grace is over', () => {
    expect(statusCadence({ openedAt: T0, everyMs: every, postedAt: [], now: at(1) })).toEqual({ nextDueAt: at(2), due: false, missed: [], newlyMissed: [] });
    expect(statusCadence({ openedAt: T0, everyMs: every, graceMs: HOUR / 6, postedAt: [], now: at(2.1) })).toEqual({ nextDueAt: at(2), due: true, missed: [], newlyMissed: [] });
    expect(statusCadence({ openedAt: T0, everyMs: every, graceMs: HOUR / 6, postedAt: [], now: at(2.2) }).missed).toEqual([at(2)]);
  });

  it('restarts the clock at each post, early or within the grace', () => {
    expect(statusCadence({ openedAt: T0, everyMs: every, postedAt: [at(1.5)], now: at(2.5) }).nextDueAt).toEqual(at(3.5));
    const late = statusCadence({ openedAt: T0, everyMs: every, graceMs: HOUR / 4, postedAt: [at(2.25)], now: at(3) });
    expect(late).toEqual({ nextDueAt: at(4.25), due: false, missed: [], newlyMissed: [] });
  });

  it('reports each missed slot once, and the slots after a miss keep the rhythm until a post restarts it', () => {
    const first = statusCadence({ openedAt: T0, everyMs: every, postedAt: [at(2)], now: at(6.5) });
    expect(first).toEqual({ nextDueAt: at(8), due: false, missed: [at(4), at(6)], newlyMissed: [at(4), at(6)] });
    // The slots were recorded and an automatic update posted just after the second.
    const later = statusCadence({ openedAt: T0, everyMs: every, postedAt: [at(2), at(6.01)], reportedMissed: first.missed, now: at(7) });
    expect(later).toEqual({ nextDueAt: at(8.01), due: false, missed: [at(4), at(6)], newlyMissed: [] });
    const again = statusCadence({ openedAt: T0, everyMs: every, postedAt: [at(2), at(6.01)], reportedMissed: first.missed, now: at(8.5) });
    expect(again.newlyMissed).toEqual([at(8.01)]);
  });

  it('ignores posts from before the opening or after now, in any order', () => {
    expect(statusCadence({ openedAt: T0, everyMs: every, postedAt: [at(9), at(-1), at(1)], now: at(3) })).toEqual({ nextDueAt: at(3), due: true, missed: [], newlyMissed: [] });
  });

  it('refuses a cadence of zero, which would have no next slot', () => {
    expect(() => statusCadence({ openedAt: T0, everyMs: 0, postedAt: [], now: at(1) })).toThrow('field emergency.statusEvery: a status update every 0 ms has no next slot');
  });
});
