// The seed's metrics, the on-call view and the debug view on a real server and PostgreSQL: five
// hosts checked in through the API on an injected clock (two web hosts patched, one through a
// reboot; three database hosts left vulnerable, one gone quiet, one under an accepted risk), a web rollout that rolled a host back
// after its canary wave passed (its gate blind on the other host) and a database rollout halted on a
// reboot-stuck host (rows written as the engine would), notifications waiting and failed in the
// outbox, one advisory sync that worked and one that did not. The API's numbers are those rows';
// the executive, on-call and debug pages show the same numbers in real headless Chromium.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { parseInventory } from '../src/domain/inventory/index.js';
import type { SeedMetricsReport } from '../src/domain/reporting/seed-metrics.js';
import type { InstalledPackage } from '../src/domain/types.js';
import type { AdvisoryFeed } from '../src/feeds/advisory-feed.js';
import { DirectoryFeed } from '../src/feeds/directory-feed.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { fullCheckInOf } from '../src/protocol/agent-protocol.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { acceptRisk } from '../src/store/finding-queries.js';
import type { OnCallSnapshot } from '../src/store/operations-queries.js';
import { launchChromium, watchedPage } from './browser.js';
import { sharedData } from './data-path.js';
import { DEBIAN_ADVISORIES } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { requireTool } from './required-tools.js';

const T0 = Date.parse('2026-11-02T08:00:00Z');
const HOUR = 3_600_000;
const at = (hours: number) => new Date(T0 + hours * HOUR);
const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'fleetpatch-seed-metrics-'));

const POLICY = `version: 1
windows:
  never-in-the-test:
    timeZone: UTC
    every: day
    start: "03:00"
    duration: 1h
buckets:
  - name: web
    owner: shop
    match:
      labels: { role: web }
    strategy: { kind: in-place }
    windows: [never-in-the-test]
    waves: [1, "100%"]
    gates:
      - name: error-rate
        when: post-host
        check: { kind: command, command: /bin/true }
  - name: db
    owner: data
    match:
      labels: { role: db }
    strategy: { kind: in-place }
    windows: [never-in-the-test]
    waves: [1, "100%"]
`;

const HOSTS: Record<string, string> = { 'web-1': 'web', 'web-2': 'web', 'db-1': 'db', 'db-2': 'db', 'db-3': 'db' };
const VULNERABLE = '2.38.1-5+deb12u3';
const FIXED = '2.38.1-5+deb12u4';

describe('the seed\'s metrics and the operations views', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  let token = '';
  let clock = T0;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const feeds: AdvisoryFeed[] = [];
  let webRollout = 0;
  let dbRollout = 0;

  const image = parseInventory({ text: readFileSync(sharedData('inventories/debian12-node-image/dpkg-status'), 'utf8'), fileName: 'dpkg-status', format: 'dpkg-status', osEcosystem: 'Debian:12' }).packages;
  const bash = image.filter((pkg) => pkg.name === 'bash');
  const libuuid = (version: string): InstalledPackage => ({ ecosystem: 'Debian:12', name: 'libuuid1', version, arch: 'amd64', sourceName: 'util-linux', sourceVersion: version });

  const send = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${server.url}${path}`, {
      method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as T };
  };
  const checkIn = async (hostname: string, packages: InstalledPackage[], hours: number, rebootRequired = false) => {
    clock = at(hours).getTime();
    const answer = await send('PUT', `/api/v1/hosts/${hostname}/inventory`, fullCheckInOf({ hostname, osEcosystem: 'Debian:12', arch: 'amd64', packages, kernel: { running: '6.1.0-18-amd64', installed: [] }, rebootRequired, labels: { role: HOSTS[hostname]! } }));
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  };
  const waitForState = async (id: number, state: string) => {
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await send<{ state: string }>('GET', `/api/v1/rollouts/${id}`)).body.state === state) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`rollout ${id} never reached ${state}`);
  };

  beforeAll(async () => {
    const chromiumBinary = requireTool('chromium');
    database = await createTestDatabase();
    const advisories = DEBIAN_ADVISORIES.map((record) => advisoryFromOsv({ schema_version: '1.6.0', ...record } as never, { file: `${record.id}.json` }));
    feeds.push(new MemoryFeed('memory:seed-metrics', advisories), new DirectoryFeed(join(tmpdir(), 'fleetpatch-no-such-mirror')));
    server = await runServer({
      port: 0, host: '127.0.0.1', home: mkdtempSync(join(tmpdir(), 'fleetpatch-seed-metrics-server-')), databaseUrl: database.connectionString, staleAfterSeconds: 3600,
      openAdvisoryFeed: () => feeds.shift()!, syncIntervalSeconds: 0, log: () => undefined, now: () => new Date(clock),
      // The schedule would start rollouts as the clock passes windows: this test makes its own.
      rolloutEngine: { scheduleIntervalMs: 24 * HOUR },
    });
    token = server.firstStart!.adminToken;
    expect((await send('PUT', '/api/v1/policy', { text: POLICY, message: 'web and db' })).status).toBe(201);

    // The hosts enrol with nothing vulnerable, the advisories are synced, then util-linux's
    // vulnerable libuuid1 arrives at T0: that check-in is when each host is first seen with it.
    for (const hostname of Object.keys(HOSTS)) await checkIn(hostname, bash, -1);
    await server.syncAdvisories();
    for (const hostname of Object.keys(HOSTS)) await checkIn(hostname, [...bash, libuuid(VULNERABLE)], 0);

    clock = at(1).getTime();
    webRollout = (await send<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'web', reason: 'util-linux' })).body.id;
    dbRollout = (await send<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'db', reason: 'util-linux' })).body.id;
    await waitForState(webRollout, 'waiting-for-window');
    await waitForState(dbRollout, 'waiting-for-window');

    // web-1 installs the fix at +2 h and waits for a reboot until +20 h (the next day); web-2 installs it at +3 h, live at once.
    await checkIn('web-1', [...bash, libuuid(FIXED)], 2, true);
    await checkIn('web-2', [...bash, libuuid(FIXED)], 3);
    await checkIn('web-1', [...bash, libuuid(FIXED)], 20);

    // What the engine would have written: web-1 (the canary wave) succeeded under a passing gate;
    // web-2's post-check failed 4 minutes after it began and it was rolled back, its gate without data.
    const pool = database.pool;
    await pool.query("UPDATE rollouts SET state = 'completed-with-errors', finished_at = $2, updated_at = $2 WHERE id = $1", [webRollout, at(7)]);
    await pool.query("UPDATE rollout_hosts SET state = CASE host WHEN 'web-1' THEN 'succeeded' ELSE 'rolled-back' END WHERE rollout_id = $1", [webRollout]);
    await pool.query("INSERT INTO rollout_events (rollout_id, at, host, kind, from_state, to_state) VALUES ($1, $2, 'web-2', 'host', 'applying', 'post-check'), ($1, $3, 'web-2', 'host', 'post-check', 'failed')", [webRollout, at(5), new Date(at(5).getTime() + 4 * 60_000)]);
    await pool.query(
      `INSERT INTO gate_measurements (rollout_id, gate, wave, host, taken_at, phase, value, detail) VALUES
         ($1, 'error-rate', 1, 'web-1', $2, 'successful', 0, '{"phase":"successful","detail":"exit 0"}'),
         ($1, 'error-rate', 2, 'web-2', $3, 'inconclusive', NULL, '{"phase":"inconclusive","detail":"no data: the query returned no samples (noData: inconclusive)"}')`,
      [webRollout, at(4), at(5)],
    );
    // db-1's reboot never came back: reboot-stuck, the rollout halted.
    await pool.query("UPDATE rollouts SET state = 'halted', halt_reason = 'stuck-host', reason = 'db-1 did not return from its reboot', updated_at = $2 WHERE id = $1", [dbRollout, at(20)]);
    await pool.query("UPDATE rollout_hosts SET state = 'reboot-stuck', state_since = $2, last_error = 'no check-in with a new boot id within 15 min' WHERE rollout_id = $1 AND host = 'db-1'", [dbRollout, at(20)]);
    // The outbox: the page about it waits for its next attempt, a Slack message failed for good.
    await pool.query(
      `INSERT INTO notification_outbox (kind, rollout_id, host, receiver, target, mode, dedup_key, action, payload, state, attempts, next_attempt_at, last_status, last_error, occurred_at, finished_at) VALUES
         ('reboot-stuck', $1, 'db-1', 'on-call', '{"kind":"pagerduty"}', 'page', 'fp:db:reboot-stuck', 'trigger', '{}', 'pending', 2, $2, 503, 'HTTP 503', $3, NULL),
         ('rollout-halted', $1, NULL, 'team-chat', '{"kind":"slack"}', 'info', 'fp:db:halted', 'trigger', '{}', 'failed', 1, NULL, 404, 'HTTP 404 channel_not_found', $3, $3)`,
      [dbRollout, new Date(Date.now() + 24 * HOUR), at(20)],
    );

    // db-3's owners accepted the risk (named by its CVE) for a month.
    await acceptRisk(database.pool, { advisoryId: 'CVE-2026-1001', hostName: 'db-3', reason: 'appliance: vendor ships the fix in January', acceptedBy: 'data-lead', approvedBy: 'ciso', expiresAt: at(30 * 24) });
    // Eight days on: db-1 still vulnerable past its 7 days (high), waiting for a reboot; db-2 gone quiet since T0.
    await checkIn('web-1', [...bash, libuuid(FIXED)], 192);
    await checkIn('web-2', [...bash, libuuid(FIXED)], 192);
    await checkIn('db-1', [...bash, libuuid(VULNERABLE)], 192, true);
    await checkIn('db-3', [...bash, libuuid(VULNERABLE)], 192);
    await server.syncAdvisories();

    console.info(`seed metrics screenshots: ${SCREENSHOTS}`);
    browser = await launchChromium(chromiumBinary);
    page = await watchedPage(browser, dialogs, pageErrors);
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await database?.drop();
  });

  it('serves the metrics of those rows for the fleet, each team and each day', async () => {
    const { status, body } = await send<SeedMetricsReport>('GET', '/api/v1/metrics/seed?days=30');
    expect(status).toBe(200);
    const fleet = body.fleet;
    expect(fleet.timeToInstalled).toMatchObject({ count: 2, mean: 2.5 });
    expect(fleet.timeToLive).toMatchObject({ count: 2, mean: 11.5 });
    // web-1, web-2, db-1 and db-3 are fresh with nothing critical open; db-2 is stale.
    expect(fleet.patchCoverage).toEqual({ ratio: 0.8, covered: 4, hosts: 5 });
    expect(fleet.rollbackRate).toEqual({ ratio: 1, hostRatio: 0.5, finishedRollouts: 1, rolledBackRollouts: 1, attemptedHosts: 2, rolledBackHosts: 1 });
    expect(fleet.timeToDetectFailedPatch).toMatchObject({ count: 1, mean: 4 });
    expect(fleet.pendingReboots).toEqual({ hosts: 1, oldestDays: null });
    expect(fleet.vulnerabilityAge).toMatchObject({ count: 3, mean: 8 });
    // db-1 is past due, db-3's finding is excepted, db-2 cannot be judged.
    expect(fleet.compliancePassRate).toEqual({ ratio: 0.5, evaluated: 4, compliant: 2, nonCompliant: 1, excepted: 1, unknown: 1 });
    expect(fleet.canarySuccessRate).toEqual({ ratio: 1, evaluated: 1, successful: 1, failed: 0, inconclusive: 0, error: 0 });
    // Of the five hosts in the period's rollouts only web-1 was watched by a gate with data.
    expect(fleet.observabilityCoverage).toEqual({ ratio: 0.2, observed: 1, hosts: 5 });
    expect(body.teams.map((team) => [team.name, team.values.compliancePassRate.ratio, team.values.patchCoverage.ratio])).toEqual([['data', 0, 2 / 3], ['shop', 1, 1]]);
    expect(body.daily.map((day) => [day.day, day.timeToInstalled.count, day.timeToLive.count, day.rollbackRate.finishedRollouts])).toEqual([['2026-11-02', 2, 1, 1], ['2026-11-03', 0, 1, 0]]);
    expect(body.definitions.map((definition) => definition.key)).toContain('observabilityCoverage');

    // /metrics says the same, labelled by bucket and team.
    const exposed = await (await fetch(`${server.url}/metrics`)).text();
    expect(exposed).toContain('fleetpatch_compliance_pass_ratio{dimension="fleet",name="fleet"} 0.5');
    expect(exposed).toContain('fleetpatch_compliance_hosts{dimension="team",name="data",status="excepted"} 1');
    expect(exposed).toContain('fleetpatch_time_to_patch_hours{dimension="bucket",name="web",stage="live",statistic="mean"} 11.5');
    expect(exposed).toContain('fleetpatch_observability_coverage_ratio{dimension="team",name="shop"} 0.5');

    // A team narrows it to that team's hosts and rollouts.
    const shop = (await send<SeedMetricsReport>('GET', '/api/v1/metrics/seed?team=shop&days=30')).body;
    expect(shop.fleet.patchCoverage).toEqual({ ratio: 1, covered: 2, hosts: 2 });
    expect(shop.fleet.observabilityCoverage).toEqual({ ratio: 0.5, observed: 1, hosts: 2 });
  });

  it('says what is failing, stuck and paging now', async () => {
    const { body } = await send<OnCallSnapshot>('GET', '/api/v1/operations/on-call');
    expect(body.failingHosts.map((host) => [host.host, host.state, host.rolloutId])).toEqual([['db-1', 'reboot-stuck', dbRollout]]);
    expect(body.stuckRollouts.map((rollout) => [rollout.id, rollout.state, rollout.reason])).toEqual([[dbRollout, 'halted', 'db-1 did not return from its reboot']]);
    expect(body.notifications).toMatchObject({ pending: 1, failed: 1 });
    expect(body.staleAgents).toMatchObject({ count: 1, hosts: [{ host: 'db-2', bucket: 'db', team: 'data' }] });
  });

  it('reports agent, feed and engine health', async () => {
    const { body } = await send<{ agents: { hosts: number; seenLastHour: number; stale: number }; feeds: { advisories: number; locations: Array<{ location: string }> }; engine: { activeRollouts: number; outbox: { pending: number } }; replica: { syncs: { attempts: number; failures: number; lastError?: string }; passes: { count: number } } }>('GET', '/api/v1/operations/health');
    expect(body.agents).toMatchObject({ hosts: 5, seenLastHour: 4, stale: 1 });
    expect(body.feeds.advisories).toBe(DEBIAN_ADVISORIES.length);
    expect(body.feeds.locations.map((location) => location.location)).toEqual(['memory:seed-metrics']);
    expect(body.engine).toMatchObject({ activeRollouts: 1, outbox: { pending: 1 } });
    expect(body.replica.syncs).toMatchObject({ attempts: 2, failures: 1, lastError: expect.stringContaining('fleetpatch-no-such-mirror') });
    expect(body.replica.passes.count).toBeGreaterThan(0);
  });

  const text = async (testid: string) => (await page.getByTestId(testid).locator('.value').textContent())!;

  it('shows the executive view: the metrics, the teams side by side, time to patch day by day', async () => {
    const report = (await send<SeedMetricsReport>('GET', '/api/v1/metrics/seed?days=30')).body;
    await page.goto(`${server.url}/#/executive?token=${token}`);
    await page.getByTestId('seed-metrics').waitFor();
    expect(await page.getByTestId('navigation').getByRole('link', { name: 'Executive' }).getAttribute('aria-current')).toBe('page');
    expect(await text('metric-compliancePassRate')).toBe('50.0%');
    expect(await page.getByTestId('metric-compliancePassRate').getByTestId('detail').textContent()).toBe('2 of 4 hosts; 1 excepted, 1 unknown');
    expect(await text('metric-patchCoverage')).toBe('80.0%');
    expect(await text('metric-rollbackRate')).toBe('100.0%');
    expect(await text('metric-canarySuccessRate')).toBe('100.0%');
    expect(await text('metric-observabilityCoverage')).toBe('20.0%');
    expect(await text('metric-pendingReboots')).toBe('1');
    expect(await text('metric-timeToLive')).toBe(`${report.fleet.timeToLive.median!.toFixed(1)} h`);
    expect(await page.getByTestId('metric-timeToLive').getByTestId('detail').textContent()).toBe(`median of 2 fixes; mean 11.5 h, p90 ${report.fleet.timeToLive.p90!.toFixed(1)} h`);
    expect(await page.getByTestId('metric-timeToDetectFailedPatch').getByTestId('detail').textContent()).toBe('median of 1 failures; mean 4.0 min');
    // The teams side by side: the data team's hosts are past due, the shop's are not.
    const teams = page.getByTestId('seed-team-table');
    expect(await teams.getByTestId('seed-row-shop').getByTestId('compliancePassRate').textContent()).toBe('100.0%');
    expect(await teams.getByTestId('seed-row-data').getByTestId('compliancePassRate').textContent()).toBe('0.0%');
    expect(await teams.getByTestId('seed-row-data').getByTestId('patchCoverage').textContent()).toBe('66.7%');
    const chart = page.getByTestId('chart-team-compliance');
    expect((await chart.locator('canvas').boundingBox())!.width).toBeGreaterThan(300);
    expect(await chart.getByTestId('row-shop').getByTestId('ratio').textContent()).toBe('100.0%');
    expect(await chart.getByTestId('row-data').getByTestId('ratio').textContent()).toBe('0.0%');
    expect(await page.getByTestId('chart-team-coverage').getByTestId('row-data').getByTestId('ratio').textContent()).toBe('66.7%');
    expect(await page.getByTestId('chart-team-vulnerability-age').getByTestId('row-data').getByTestId('median').textContent()).toBe(`${report.teams.find((team) => team.name === 'data')!.values.vulnerabilityAge.median!.toFixed(1)} d`);
    // Both fixes were installed the first day (after 2.5 h on average), web-2's live at once, web-1's the next day.
    const trend = page.getByTestId('trend-time-to-patch-table');
    expect(await trend.locator('tbody tr').evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent)))).toEqual([
      ['2026-11-02', '2.5 h', '3.0 h'],
      ['2026-11-03', '–', '20.0 h'],
    ]);
    expect((await page.getByTestId('trend-time-to-patch').locator('canvas').boundingBox())!.width).toBeGreaterThan(300);
    // Per team: only the shop's hosts made fixes live.
    expect(await page.getByTestId('trend-team-time-to-live-table').locator('thead th').allTextContents()).toEqual(['day', 'shop']);
    expect(await page.getByTestId('trend-team-time-to-live-table').locator('tbody tr').evaluateAll((rows) => rows.map((row) => [...row.querySelectorAll('td')].map((cell) => cell.textContent)))).toEqual([
      ['2026-11-02', '3.0 h'],
      ['2026-11-03', '20.0 h'],
    ]);
    expect(await page.getByTestId('definitions').locator('dt').count()).toBe(report.definitions.length);
    await page.screenshot({ path: join(SCREENSHOTS, 'executive.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });

  it('shows the on-call view: the stuck host, the halted rollout, the outbox, the quiet agent', async () => {
    await page.goto(`${server.url}/#/on-call?token=${token}`);
    await page.getByTestId('failing-hosts').waitFor();
    expect(await text('on-call-failing')).toBe('1');
    expect(await text('on-call-stuck')).toBe('1');
    expect(await text('on-call-pending')).toBe('1');
    expect(await text('on-call-failed')).toBe('1');
    expect(await text('on-call-stale')).toBe('1');
    const stuckHost = page.getByTestId('failing-db-1');
    expect(await stuckHost.getByTestId('state').textContent()).toBe('reboot-stuck');
    expect(await stuckHost.getByTestId('rollout').textContent()).toBe(String(dbRollout));
    expect(await stuckHost.getByTestId('error').textContent()).toBe('no check-in with a new boot id within 15 min');
    expect(await page.getByTestId(`stuck-${dbRollout}`).getByTestId('reason').textContent()).toBe('db-1 did not return from its reboot');
    const outbox = page.getByTestId('outbox');
    expect(await outbox.getByTestId('state').allTextContents()).toEqual(['failed', 'pending']);
    expect(await outbox.getByTestId('error').allTextContents()).toEqual(['HTTP 404 channel_not_found', 'HTTP 503']);
    expect(await page.getByTestId('stale-agents').locator('tbody tr').count()).toBe(1);
    expect(await page.getByTestId('stale-db-2').count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, 'on-call.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('shows the debug view: agents, feeds with the failed sync, the engine', async () => {
    await page.goto(`${server.url}/#/debug?token=${token}`);
    await page.getByTestId('engine-health').waitFor();
    expect(await text('agents-hosts')).toBe('5');
    expect(await text('agents-1h')).toBe('4');
    expect(await text('agents-stale')).toBe('1');
    expect(await text('feeds-advisories')).toBe(String(DEBIAN_ADVISORIES.length));
    expect(await text('feeds-syncs')).toBe('2');
    expect(await text('feeds-failures')).toBe('1');
    expect(await page.getByTestId('feeds-last-error').textContent()).toContain('fleetpatch-no-such-mirror');
    expect(await page.getByTestId('feed-locations').getByTestId('location').allTextContents()).toEqual(['memory:seed-metrics']);
    expect(await text('engine-active')).toBe('1');
    expect(await text('engine-outbox')).toBe('1');
    expect(Number(await text('engine-passes'))).toBeGreaterThan(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'debug.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
