import { describe, expect, it } from 'vitest';
import { computeIncidentScope } from './incident-scope.js';
import { measureIncident, scopeChangedEvent, timelineToJson, timelineToMarkdown, type TimelineEvent } from './incident-timeline.js';

const HOUR = 3_600_000;
const T0 = new Date('2026-12-01T10:00:00Z');
const at = (hours: number) => new Date(T0.getTime() + hours * HOUR);
const incident = { id: 'INC-2026-0001', title: 'CVE-2026-1001 in openssl' };

const events: TimelineEvent[] = [
  { kind: 'closed', at: at(9), by: 'alice', reason: 'every host live' },
  { kind: 'opened', at: at(0), by: 'fleetpatch', advisories: ['DSA-5801-1', 'CVE-2026-1001'], reason: 'critical severity; known exploited (CISA KEV)' },
  { kind: 'decision', at: at(0.5), decision: 'relaxation-approved', bucket: 'databases', relaxes: ['windows', 'freezes'], by: 'alice', why: 'KEV, exploited in the wild', reviewDueAt: at(48.5) },
  { kind: 'rollout-started', at: at(0.5), rolloutId: 42, bucket: 'databases', strategy: 'in-place' },
  { kind: 'scope-changed', at: at(1), added: ['db-9'], removed: [], hostsInScope: 3 },
  { kind: 'update-posted', at: at(2), by: 'bob', automatic: false },
  { kind: 'update-missed', at: at(4.2), slotDueAt: at(4) },
  { kind: 'update-posted', at: at(4.2), by: 'fleetpatch', automatic: true },
];

describe('scopeChangedEvent', () => {
  const scope = (hours: number, names: string[]) => computeIncidentScope(names.map((name) => ({ name, bucket: 'web', team: 'frontend', state: 'vulnerable' as const, lastSeenAt: at(hours) })), { now: at(hours), staleAfterMs: HOUR });

  it('names the hosts that came into scope and those that left', () => {
    expect(scopeChangedEvent(scope(0, ['web-1', 'web-2']), scope(1, ['web-3', 'web-1', 'web-0']))).toEqual({ kind: 'scope-changed', at: at(1), added: ['web-0', 'web-3'], removed: ['web-2'], hostsInScope: 3 });
  });

  it('is nothing when the same hosts are in scope, whatever their states', () => {
    expect(scopeChangedEvent(scope(0, ['web-1']), scope(1, ['web-1']))).toBeUndefined();
  });
});

describe('measureIncident', () => {
  it('measures detect, patched and live from publication and opening, leaving excluded hosts out', () => {
    expect(measureIncident({
      publishedAt: at(-3), openedAt: at(0), targetMs: 24 * HOUR,
      hosts: [{ installedAt: at(2), liveAt: at(3) }, { installedAt: at(5), liveAt: at(7) }, { excluded: true }],
    })).toEqual({ timeToDetectMs: 3 * HOUR, timeToPatchedMs: 5 * HOUR, timeToLiveMs: 7 * HOUR, lastInstalledAt: at(5), lastLiveAt: at(7), liveWithinTarget: true });
  });

  it('leaves a duration open while a host has not reached it; a host patched but not rebooted is patched, not live', () => {
    const durations = measureIncident({ openedAt: at(0), targetMs: 4 * HOUR, hosts: [{ installedAt: at(2), liveAt: at(3) }, { installedAt: at(5) }] });
    expect(durations).toEqual({ timeToDetectMs: undefined, timeToPatchedMs: 5 * HOUR, timeToLiveMs: undefined, lastInstalledAt: at(5), lastLiveAt: undefined, liveWithinTarget: undefined });
  });

  it('counts a live host as installed, a host fixed before the opening as 0, and says when the target was missed', () => {
    expect(measureIncident({ publishedAt: at(1), openedAt: at(0), targetMs: HOUR, hosts: [{ liveAt: at(-1) }, { liveAt: at(2) }] })).toMatchObject({ timeToDetectMs: 0, timeToPatchedMs: 2 * HOUR, timeToLiveMs: 2 * HOUR, liveWithinTarget: false });
    expect(measureIncident({ openedAt: at(0), hosts: [{ liveAt: at(-1) }] })).toMatchObject({ timeToPatchedMs: 0, timeToLiveMs: 0 });
  });

  it('measures nothing for a scope of excluded hosts only', () => {
    expect(measureIncident({ openedAt: at(0), hosts: [{ excluded: true, liveAt: at(1) }] })).toMatchObject({ timeToPatchedMs: undefined, timeToLiveMs: undefined });
  });
});

describe('timeline export', () => {
  const durations = measureIncident({ publishedAt: at(-3), openedAt: at(0), targetMs: 24 * HOUR, hosts: [{ installedAt: at(5), liveAt: at(8.5) }] });

  it('writes Markdown in time order, ties in recorded order, with the measured durations', () => {
    expect(timelineToMarkdown({ incident, events, durations })).toBe([
      '## Timeline: INC-2026-0001, CVE-2026-1001 in openssl',
      '',
      '- 2026-12-01 10:00 UTC: opened by fleetpatch for DSA-5801-1, CVE-2026-1001: critical severity; known exploited (CISA KEV)',
      '- 2026-12-01 10:30 UTC: relaxing windows, freezes for databases approved by alice: KEV, exploited in the wild; post-change review due 2026-12-03 10:30 UTC',
      '- 2026-12-01 10:30 UTC: rollout 42 started in databases (in-place)',
      '- 2026-12-01 11:00 UTC: scope changed: 1 host added (db-9); 3 hosts in scope',
      '- 2026-12-01 12:00 UTC: status update posted by bob',
      '- 2026-12-01 14:12 UTC: status update due 2026-12-01 14:00 UTC missed',
      '- 2026-12-01 14:12 UTC: status update posted automatically (fleetpatch)',
      '- 2026-12-01 19:00 UTC: closed by alice: every host live',
      '',
      '## Measured',
      '',
      '- Time to detect (advisory published to incident opened): 3h',
      '- Time to patched (opened to the last host installed): 5h',
      '- Time to live (opened to the last host running the fix): 8h30m, within the target',
      '',
    ].join('\n'));
  });

  it('escapes free text and says what is not measured yet', () => {
    const markdown = timelineToMarkdown({
      incident: { id: 'INC-2026-0002', title: 'a *bold* title' },
      events: [{ kind: 'closed', at: at(1), by: 'eve|admin', reason: 'false alarm\nsee [ticket]' }, { kind: 'scope-changed', at: at(0.5), added: [], removed: ['web-1', 'web-2'], hostsInScope: 0 }],
      durations: measureIncident({ openedAt: at(0), hosts: [{}] }),
    });
    expect(markdown).toContain('## Timeline: INC-2026-0002, a \\*bold\\* title');
    expect(markdown).toContain('- 2026-12-01 10:30 UTC: scope changed: 2 hosts removed (web-1, web-2); 0 hosts in scope\n- 2026-12-01 11:00 UTC: closed by eve\\|admin: false alarm see \\[ticket\\]');
    expect(markdown).toContain('published to incident opened): publication unknown');
    expect(markdown).toContain('installed): not yet');
    expect(markdown).not.toContain('target');
  });

  it('exports JSON as plain objects with ISO timestamps, in time order, absent fields left out', () => {
    const json = timelineToJson({ incident, events, durations });
    expect(json.incident).toEqual(incident);
    expect(json.events.map((event) => event.kind)).toEqual(['opened', 'decision', 'rollout-started', 'scope-changed', 'update-posted', 'update-missed', 'update-posted', 'closed']);
    expect(json.events[1]).toEqual({ kind: 'decision', at: '2026-12-01T10:30:00.000Z', decision: 'relaxation-approved', bucket: 'databases', relaxes: ['windows', 'freezes'], by: 'alice', why: 'KEV, exploited in the wild', reviewDueAt: '2026-12-03T10:30:00.000Z' });
    expect(json.events[5]).toEqual({ kind: 'update-missed', at: '2026-12-01T14:12:00.000Z', slotDueAt: '2026-12-01T14:00:00.000Z' });
    expect(json.durations).toEqual({ timeToDetectMs: 3 * HOUR, timeToPatchedMs: 5 * HOUR, timeToLiveMs: 8.5 * HOUR, lastInstalledAt: '2026-12-01T15:00:00.000Z', lastLiveAt: '2026-12-01T18:30:00.000Z', liveWithinTarget: true });
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
    expect(json.events[1]).not.toBe(events[2]);
    expect((json.events[1] as { relaxes: string[] }).relaxes).not.toBe((events[2] as { relaxes: string[] }).relaxes);
  });

  it('leaves durations out of the JSON when none were measured, and says nothing was recorded in Markdown', () => {
    expect(timelineToJson({ incident, events: [] })).toEqual({ incident, events: [] });
    expect(timelineToMarkdown({ incident, events: [] })).toBe('## Timeline: INC-2026-0001, CVE-2026-1001 in openssl\n\n- nothing recorded\n');
  });
});
