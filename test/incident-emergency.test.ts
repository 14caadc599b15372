// The emergency path end to end in a real server on a real PostgreSQL, on an injected clock, with
// simulated hosts that take their jobs over the agent protocol and a loopback Slack receiver: a
// synced KEV-listed critical advisory affecting hosts in three buckets opens one incident, which
// plans one emergency rollout per bucket (each waiting for its window until a person approves
// relaxing windows; relaxing what the policy does not allow is refused); the commander's update and
// the one posted automatically for a missed slot reach Slack at the cadence; a database patched but
// not rebooted (its bucket never reboots) keeps the incident open, its verified reboot lets it
// close; the exported timeline has every event. The dashboard (headless Chromium) shows the
// incident on every page and the scope per bucket, and the commander posts the edited draft there.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import type { InstalledPackage } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { driveSimulatedHosts, SimulatedHost } from '../src/simulator/simulated-agent.js';
import { replaceKevCatalogue } from '../src/store/advisory-store.js';
import { listAudit } from '../src/store/audit-log.js';
import { launchChromium, watchedPage } from './browser.js';
import { runCli } from './cli.js';
import { requireTool } from './required-tools.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const ADVISORY = advisoryFromOsv({
  id: 'DSA-9500-1', modified: '2026-11-30T00:00:00Z', published: '2026-11-30T06:00:00Z', aliases: ['CVE-2026-9500'], summary: 'glibc: remote code execution in the resolver',
  database_specific: { severity: 'critical' },
  affected: [{ package: { ecosystem: 'Debian:12', name: 'glibc' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '2.36-9+deb12u9' }] }] }],
}, { file: 'DSA-9500-1.json' });
const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'fleetpatch-incident-page-'));
const libc = (version: string): InstalledPackage => ({ ecosystem: 'Debian:12', name: 'libc6', version, arch: 'amd64', sourceName: 'glibc', sourceVersion: version });

interface SlackPost { text: string; blocks: Array<{ type: string; text?: string | { text: string } }> }
interface Rollout { id: number; bucket: string; state: string; origin: string; incidentId?: number; relaxations: string[]; advisoryId?: string; hosts: Array<{ host: string; state: string }> }
interface Detail {
  incident: { id: number; state: string; planNotes: Record<string, string> };
  scope: { total: Record<string, number>; closable: boolean };
  rollouts: Array<{ id: number; bucket: string; state: string; strategy: string; relaxations: string[]; hosts: string[] }>;
  relaxations: Array<{ bucket: string; relaxes: string[]; approvedBy: string; reviewDueAt: string; review?: { notes: string } }>;
  events: Array<{ kind: string; at: string; bucket?: string; slotDueAt?: string; automatic?: boolean }>;
  updates: Array<{ author: string; automatic: boolean; markdown: string; missedSlot?: string }>;
  durations: { timeToPatchedMs?: number; timeToLiveMs?: number };
}

/** A loopback Slack incoming webhook: every message posted to it. */
async function startSlack(): Promise<{ url: string; posts: SlackPost[]; close: () => Promise<void> }> {
  const posts: SlackPost[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      posts.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as SlackPost);
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/x`,
    posts,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

describe('the emergency path of a critical CVE', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let slack: Awaited<ReturnType<typeof startSlack>>;
  /** Tuesday 10:00 UTC: the buckets' nightly window (02:00) is hours away. */
  let clock = new Date('2026-12-01T10:00:00Z');
  let token = '';
  const hosts = new Map<string, SimulatedHost>();
  const simulation = new AbortController();
  const log: string[] = [];
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  let driven: Promise<void> | undefined;

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    return { status: response.status, text, body: (response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined) as T };
  };
  /** Polls (bounded) until `probe` answers, moving the policy clock `paceMs` per look. */
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, paceMs = 0): Promise<T> => {
    for (let look = 0; look < 600; look++) {
      const found = await probe();
      if (found !== undefined) return found;
      clock = new Date(clock.getTime() + paceMs);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}; log: ${log.slice(-20).join(' | ')}`);
  };
  const detail = async (id: number) => (await api<Detail>('GET', `/api/v1/incidents/${id}`)).body;
  const rolloutsOf = async (incident: number) => (await api<Rollout[]>('GET', '/api/v1/rollouts')).body.filter((rollout) => rollout.incidentId === incident);

  beforeAll(async () => {
    database = await createTestDatabase();
    slack = await startSlack();
    process.env.FLEETPATCH_TEST_SLACK_URL = slack.url;
    const home = mkdtempSync(join(tmpdir(), 'fleetpatch-emergency-'));
    chmodSync(home, 0o755);
    const policyFile = join(home, 'fleetpatch.yaml');
    writeFileSync(policyFile, `version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "02:00", duration: 2h }
buckets:
  - { name: databases, owner: data-platform, match: { labels: { role: db } }, strategy: { kind: in-place }, windows: [nightly], reboot: { policy: never } }
  - { name: web, owner: web-team, match: { labels: { role: web } }, strategy: { kind: in-place }, windows: [nightly] }
  - { name: batch, owner: data-platform, match: { labels: { role: batch } }, strategy: { kind: in-place }, windows: [nightly] }
emergency: { relaxes: [windows, cooldowns], statusEvery: 2h, target: 24h }
notifications:
  receivers:
    war-room: { kind: slack, urlEnv: FLEETPATCH_TEST_SLACK_URL }
  routes:
    - { match: { kinds: [incident-opened, incident-update] }, receiver: war-room, as: info }
`);
    await replaceKevCatalogue(database.pool, [{ cveId: 'CVE-2026-9500', dateAdded: '2026-11-30', dueDate: '2026-12-14', knownRansomwareCampaignUse: true, vendorProject: 'GNU', product: 'glibc' }]);
    server = await runServer({
      port: 0, host: '127.0.0.1', home, databaseUrl: database.connectionString, staleAfterSeconds: 86_400, openAdvisoryFeed: () => new MemoryFeed('test', [ADVISORY]),
      syncIntervalSeconds: 0, policyFile, policyPollMs: 0, log: (message) => log.push(message), now: () => clock, snapshotIntervalMs: 3_600_000,
      rolloutEngine: { passIntervalMs: 50, leaseMs: 600_000, scheduleIntervalMs: 50 },
    });
    token = server.firstStart!.adminToken;
    for (const [name, role] of [['db-1', 'db'], ['web-1', 'web'], ['web-2', 'web'], ['batch-1', 'batch']] as const) {
      hosts.set(name, new SimulatedHost({ serverUrl: server.url, token, name, labels: { role }, os: { id: 'debian', idLike: [], versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' }, osEcosystem: 'Debian:12', packages: [libc('2.36-9+deb12u7')], now: () => clock }));
    }
    for (const host of hosts.values()) await host.checkIn();
    driven = driveSimulatedHosts([...hosts.values()], { pollMs: 50, checkInMs: 60_000, signal: simulation.signal, log: (message) => log.push(message) });
  }, 120_000);

  afterAll(async () => {
    simulation.abort();
    await driven;
    await server?.stop();
    await slack?.close();
    await database?.drop();
    delete process.env.FLEETPATCH_TEST_SLACK_URL;
  });

  it('opens one incident, plans a rollout per bucket, keeps the cadence through Slack, and closes only once every host is live', async () => {
    const openedAt = clock;
    await server.syncAdvisories();
    const [incident] = (await api<Array<{ id: number; label: string }>>('GET', '/api/v1/incidents')).body;
    expect(incident).toBeDefined();
    const id = incident!.id;

    // One emergency rollout per bucket, each its bucket's strategy and the fix of the advisory, waiting for the nightly window.
    const planned = await until('three emergency rollouts', async () => {
      const rollouts = await rolloutsOf(id);
      return rollouts.length === 3 && rollouts.every((rollout) => rollout.state === 'paused' || rollout.state === 'waiting-for-window') ? rollouts : undefined;
    });
    expect(planned.map((rollout) => [rollout.bucket, rollout.origin, rollout.advisoryId, rollout.relaxations]).sort()).toEqual([
      ['batch', 'emergency', 'DSA-9500-1', []], ['databases', 'emergency', 'DSA-9500-1', []], ['web', 'emergency', 'DSA-9500-1', []],
    ]);
    const opened = await until('the opening message in Slack', async () => slack.posts.find((post) => post.text.startsWith(`INFO incident-opened, incident ${incident!.label}`)));
    expect(opened.text).toContain('4 hosts in scope');

    // Relaxing what the policy does not allow is refused, naming the field; windows are approved per bucket, each owing a review.
    const refused = await api<{ error: { field: string; message: string } }>('POST', `/api/v1/incidents/${id}/relaxations`, { bucket: 'web', relaxes: ['freezes'], reason: 'no' });
    expect([refused.status, refused.body.error.field]).toEqual([400, 'relaxes']);
    expect(refused.body.error.message).toContain('may not relax freezes');
    clock = new Date('2026-12-01T10:10:00Z');
    for (const bucket of ['databases', 'web', 'batch']) {
      const approved = await api<{ relaxes: string[]; reviewDueAt: string }>('POST', `/api/v1/incidents/${id}/relaxations`, { bucket, relaxes: ['windows'], reason: 'exploited in the wild: cannot wait for the night' });
      expect(approved).toMatchObject({ status: 200, body: { relaxes: ['windows'], reviewDueAt: '2026-12-08T10:10:00.000Z' } });
    }
    expect((await listAudit(database.pool, { action: 'incident.relaxation-approved' })).map((entry) => entry.details?.bucket).sort()).toEqual(['batch', 'databases', 'web']);

    // The rollouts run now: the web and batch hosts reboot into the fix; the database is patched and waits for a reboot its bucket never takes.
    const done = await until('the emergency rollouts to end', async () => {
      const rollouts = await rolloutsOf(id);
      return rollouts.every((rollout) => ['succeeded', 'completed-with-errors', 'halted'].includes(rollout.state)) ? rollouts : undefined;
    }, 1_000);
    expect(done.map((rollout) => rollout.state)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    for (const host of hosts.values()) await host.checkIn();
    // A drain a PodDisruptionBudget holds up is a blocker of the draft, with the rollout's words (set on the ended web rollout, put back after).
    const web = done.find((rollout) => rollout.bucket === 'web')!;
    await database.pool.query("UPDATE rollouts SET pause_reason = 'drain-stuck', reason = 'web-1: PodDisruptionBudget shop/web allows no disruption' WHERE id = $1", [web.id]);
    await database.pool.query("UPDATE rollout_hosts SET state = 'draining' WHERE rollout_id = $1 AND host = 'web-1'", [web.id]);
    const held = await api<{ blockers: Array<{ host: string; kind: string; detail: string }> }>('GET', `/api/v1/incidents/${id}/draft`);
    expect(held.body.blockers).toEqual([{ host: 'web-1', bucket: 'web', kind: 'drain-stuck', detail: 'web-1: PodDisruptionBudget shop/web allows no disruption' }]);
    await database.pool.query("UPDATE rollout_hosts SET state = 'succeeded' WHERE rollout_id = $1 AND host = 'web-1'", [web.id]);
    await database.pool.query('UPDATE rollouts SET pause_reason = NULL, reason = NULL WHERE id = $1', [web.id]);
    const waiting = await detail(id);
    expect(waiting.scope.total).toMatchObject({ hosts: 4, live: 3, pendingReboot: 1, vulnerable: 0 });
    const refusedClose = await api<{ error: { blockers: string[] } }>('POST', `/api/v1/incidents/${id}/close`, { reason: 'looks done' });
    expect([refusedClose.status, refusedClose.body.error.blockers]).toEqual([409, ['databases: 1 host patched but pending reboot (db-1)']]);

    // The commander posts the draft an hour in; no one posts the next (due 13:00 + grace), so fleetpatch does and logs it missed.
    clock = new Date('2026-12-01T11:00:00Z');
    const draft = await api<{ markdown: string }>('GET', `/api/v1/incidents/${id}/draft`);
    expect(draft.body.markdown).toContain('**4 hosts in scope:** 0 vulnerable, 1 patched, pending reboot, 3 live');

    // The war room's dashboard: the banner on every page, the scope per bucket as the API counts it; the commander edits the draft there and posts it.
    const browser = await launchChromium(requireTool('chromium'));
    try {
      const page = await watchedPage(browser, dialogs, pageErrors);
      await page.goto(`${server.url}/#/hosts?token=${token}`);
      await page.getByTestId(`banner-${incident!.label}`).waitFor();
      expect(await page.getByTestId(`banner-${incident!.label}-scope`).textContent()).toBe('3 of 4 hosts live (1 pending reboot, 3 live)');
      await page.getByTestId(`banner-${incident!.label}`).getByRole('link').click();
      await page.getByTestId('incident-buckets-databases-text').waitFor();
      for (const [bucket, words] of [['batch', '1 live'], ['databases', '1 pending reboot'], ['web', '2 live']]) {
        expect(await page.getByTestId(`incident-buckets-${bucket}-text`).textContent()).toBe(words);
      }
      expect(await page.getByTestId('incident-closable').textContent()).toBe('cannot close yet: databases: 1 host patched but pending reboot (db-1)');
      expect(await page.getByTestId('plan-databases-relaxes').textContent()).toBe('windows (approved by token:initial admin)');
      const editor = page.getByTestId('update-markdown');
      await editor.waitFor();
      expect(await editor.inputValue()).toBe(draft.body.markdown);
      await editor.fill(`${draft.body.markdown}\nCommander: db-1 reboots at 14:00 with the DBA on the bridge.\n`);
      await page.getByTestId('update-post').click();
      await page.getByTestId('update-posted').waitFor();
      await page.getByTestId('incident-update').first().waitFor();
      await page.screenshot({ path: join(SCREENSHOTS, 'incident.png'), fullPage: true });
      console.info(`incident page screenshot: ${join(SCREENSHOTS, 'incident.png')}`);
    } finally {
      await browser.close();
    }
    expect([dialogs, pageErrors]).toEqual([[], []]);
    const manual = await until('the commander\'s update in Slack', async () => slack.posts.find((post) => post.text.startsWith('INFO incident-update') && !post.text.includes('automatically')));
    expect(manual.blocks.some((block) => block.type === 'markdown' && String(block.text).includes('db-1 reboots at 14:00'))).toBe(true);
    clock = new Date('2026-12-01T13:06:00Z');
    const automatic = await until('the automatic update in Slack', async () => slack.posts.find((post) => post.text.includes('posted automatically')));
    expect(automatic.text).toContain('3 of 4 hosts live, 1 pending reboot');
    const afterMiss = await detail(id);
    expect(afterMiss.updates.map((update) => [update.author, update.automatic, update.missedSlot])).toEqual([['token:initial admin', false, undefined], ['fleetpatch', true, '2026-12-01T13:00:00.000Z']]);

    // db-1 reboots into the fix (a new boot id and a check-in): every host is live and the incident closes.
    clock = new Date('2026-12-01T14:00:00Z');
    hosts.get('db-1')!.reboot();
    for (const host of hosts.values()) await host.checkIn();
    clock = new Date('2026-12-01T14:05:00Z');
    const closed = await api<{ state: string }>('POST', `/api/v1/incidents/${id}/close`, { reason: 'every host patched and live' });
    expect([closed.status, closed.body.state]).toEqual([200, 'closed']);

    // The post-change reviews are recorded after the change; the timeline has every event.
    expect((await api('POST', `/api/v1/incidents/${id}/reviews`, { bucket: 'web', notes: 'no regressions; the out-of-window patch was right' })).status).toBe(204);
    const final = await detail(id);
    expect(final.relaxations.map((relaxation) => [relaxation.bucket, relaxation.review?.notes])).toEqual([['batch', undefined], ['databases', undefined], ['web', 'no regressions; the out-of-window patch was right']]);
    const kinds = final.events.map((event) => event.kind);
    expect(kinds.filter((kind) => kind === 'rollout-started')).toHaveLength(3);
    expect(kinds.filter((kind) => kind === 'decision')).toHaveLength(3);
    expect(final.events.filter((event) => event.kind === 'update-posted').map((event) => event.automatic)).toEqual([false, true]);
    expect(final.events.filter((event) => event.kind === 'update-missed').map((event) => event.slotDueAt)).toEqual(['2026-12-01T13:00:00.000Z']);
    expect([kinds[0], kinds.at(-2), kinds.at(-1)]).toEqual(['opened', 'closed', 'review-completed']);
    expect(final.events[0]!.at).toBe(openedAt.toISOString());
    // Patched when the emergency rollouts installed the fix (the database's too, minutes after the approval), live at db-1's reboot.
    expect(final.durations.timeToPatchedMs).toBeGreaterThan(10 * 60_000);
    expect(final.durations.timeToPatchedMs).toBeLessThan(60 * 60_000);
    expect(final.durations.timeToLiveMs).toBe(4 * 3_600_000);

    const markdown = (await api('GET', `/api/v1/incidents/${id}/timeline?format=markdown`)).text;
    expect(markdown.match(/^- 2026-/gm)).toHaveLength(final.events.length);
    expect(markdown).toContain('relaxing windows for databases approved by token:initial admin: exploited in the wild: cannot wait for the night; post-change review due 2026-12-08 10:10 UTC');
    expect(markdown).toContain('- 2026-12-01 13:06 UTC: status update due 2026-12-01 13:00 UTC missed');
    expect(markdown).toContain('- Time to live (opened to the last host running the fix): 4h, within the target');
  }, 240_000);

  it('the CLI shows the emergency plan and refuses a review nothing owes', async () => {
    const [incident] = (await api<Array<{ id: number }>>('GET', '/api/v1/incidents')).body;
    const shown = await runCli(['incident', 'show', String(incident!.id), '--stale-after', '999999999'], { DATABASE_URL: database.connectionString });
    expect(shown.stdout).toMatch(/emergency plan:\n {2}batch: rollout \d+ \(in-place\) succeeded, 1 host, skipping windows\n {2}databases: rollout \d+ \(in-place\) succeeded, 1 host, skipping windows\n {2}web: rollout \d+ \(in-place\) succeeded, 2 hosts, skipping windows\n/);
    expect(shown.stdout).toContain('web: relaxing windows approved by token:initial admin; review done 2026-12-01');
    const again = await runCli(['incident', 'review', String(incident!.id), '--bucket', 'web', '--notes', 'twice'], { DATABASE_URL: database.connectionString });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('owes no post-change review for web');
  }, 60_000);

  it('a pushed advisory that is not valid OSV is refused naming the record and field, and nothing of the push is stored', async () => {
    const before = (await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM advisories')).rows[0]!.n;
    const valid = { id: 'VENDOR-2026-0002', modified: '2026-12-01T00:00:00Z', summary: 'libfine: fine', affected: [{ package: { ecosystem: 'Debian:12', name: 'libfine' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1' }] }] }] };
    const broken = { ...valid, id: 'VENDOR-2026-0003', affected: [{ package: { ecosystem: 'Debian:12', name: 'libbroken' }, ranges: [{ type: 'ECOSYSTEM', events: 'none' }] }] };
    const refused = await api<{ error: { code: string; field: string; message: string } }>('POST', '/api/v1/advisories', { advisories: [valid, broken] });
    expect([refused.status, refused.body.error.code, refused.body.error.field]).toEqual([400, 'invalid-advisory', 'advisories[1].affected[0].ranges[0].events']);
    expect(refused.body.error.message).toContain('VENDOR-2026-0003');
    expect((await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM advisories')).rows[0]!.n).toBe(before);
  });
});
