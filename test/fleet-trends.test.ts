// Daily fleet snapshots and the trend charts: the demo fleet's 90 days of history replayed with a
// snapshot at each midnight, the API's series per team (the database team, weeks behind by habit,
// stays behind the node team), the first replica's snapshot of a day wins and old ones go after
// 13 months, and the overview page draws both trends in real headless Chromium.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectHostFacts } from '../src/agent/host-facts.js';
import { loadDemo } from '../src/cli/demo.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { SNAPSHOT_RETENTION_DAYS, takeFleetSnapshot, type FleetTrends } from '../src/store/fleet-snapshots.js';
import { launchChromium, watchedPage } from './browser.js';
import { debianRoot } from './control-plane-fixtures.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { requireTool } from './required-tools.js';

const NOW = new Date('2026-11-24T10:00:00Z');
const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'fleetpatch-trends-'));

describe('daily fleet snapshots and their trends', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  let token = '';
  const log: string[] = [];
  const trends = async (query: string) => {
    const response = await fetch(`${server.url}/api/v1/fleet/trends?${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as FleetTrends;
  };

  beforeAll(async () => {
    const chromiumBinary = requireTool('chromium');
    database = await createTestDatabase();
    server = await runServer({
      port: 0, host: '127.0.0.1', home: mkdtempSync(join(tmpdir(), 'fleetpatch-trends-server-')), databaseUrl: database.connectionString, staleAfterSeconds: 3600,
      openAdvisoryFeed: () => new MemoryFeed('none', []), syncIntervalSeconds: 0, log: () => undefined, now: () => NOW,
    });
    token = server.firstStart!.adminToken;
    await loadDemo(server, { hosts: 60, base: await collectHostFacts({ root: debianRoot() }), now: NOW, log: (message) => log.push(message) });
    console.info(`trend screenshots: ${SCREENSHOTS}`);
    browser = await launchChromium(chromiumBinary);
    page = await watchedPage(browser, dialogs, pageErrors);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await database?.drop();
  });

  it('keeps a snapshot for every day of the replayed history, per team', async () => {
    expect(log.at(-1)).toMatch(/90 days of history: \d+ check-ins, 90 daily snapshots/);
    const byTeam = await trends('dimension=team&days=90');
    expect(byTeam.until).toBe('2026-11-24');
    expect(byTeam.from).toBe('2026-08-27');
    expect(byTeam.series.map((series) => series.name)).toEqual(['data-platform', 'infrastructure', 'platform', 'web']);
    // The hosts enrol over the first days: every day from the first snapshot has a point.
    expect(byTeam.fleet.length).toBeGreaterThanOrEqual(85);
    expect(byTeam.fleet.at(-1)!.day).toBe('2026-11-24');
    const average = (team: string) => {
      const points = byTeam.series.find((series) => series.name === team)!.points.slice(-30);
      return points.reduce((sum, point) => sum + point.daysBehind, 0) / points.length;
    };
    // The database team takes fixes two weeks old; the node team within days.
    expect(average('data-platform')).toBeGreaterThan(average('platform'));
    for (const point of byTeam.fleet) {
      expect(point.patchCoverage).toBeGreaterThanOrEqual(0);
      expect(point.patchCoverage).toBeLessThanOrEqual(1);
    }
    // The same snapshots summed per bucket give the same fleet.
    const byBucket = await trends('dimension=bucket&days=90');
    expect(byBucket.fleet).toEqual(byTeam.fleet);
    expect(byBucket.series.map((series) => series.name)).toEqual(['databases', 'kubernetes-nodes', 'physical', 'stateless']);
  });

  it('takes a day once, whichever replica looks first, and lets go of snapshots after 13 months', async () => {
    const pool = database.pool;
    const first = await takeFleetSnapshot(pool, { now: new Date('2026-11-25T00:05:00Z'), staleAfterSeconds: 3600 });
    const second = await takeFleetSnapshot(pool, { now: new Date('2026-11-25T00:15:00Z'), staleAfterSeconds: 3600 });
    expect(first).toMatchObject({ day: '2026-11-25', taken: true });
    expect(first.groups).toBe(4);
    expect(second).toEqual({ day: '2026-11-25', taken: false, groups: 0 });
    const rows = await pool.query<{ n: number; taken: Date }>("SELECT count(*)::int AS n, min(taken_at) AS taken FROM fleet_snapshots WHERE day = '2026-11-25'");
    expect(rows.rows[0]).toEqual({ n: 4, taken: new Date('2026-11-25T00:05:00Z') });
    // A year and a bit later the history's first days are let go.
    // Kept: the 400 days before the day a snapshot is taken. The history's first day (08-27) goes first.
    const later = new Date(Date.parse('2026-08-28T00:00:00Z') + SNAPSHOT_RETENTION_DAYS * 86_400_000);
    await takeFleetSnapshot(pool, { now: later, staleAfterSeconds: 3600 });
    const oldest = await pool.query<{ day: string }>("SELECT to_char(min(day), 'YYYY-MM-DD') AS day FROM fleet_snapshots");
    expect(oldest.rows[0]!.day).toBe('2026-08-28');
    await pool.query('DELETE FROM fleet_snapshots WHERE day > $1', ['2026-11-25']);
  });

  it('draws each team\'s days behind and coverage over 90 days on the overview page', async () => {
    const byTeam = await trends('dimension=team&days=90');
    await page.goto(`${server.url}/#/?token=${token}`);
    const chart = page.getByTestId('trend-days-behind');
    await chart.locator('canvas').waitFor();
    const box = (await chart.locator('canvas').boundingBox())!;
    expect(box.width).toBeGreaterThan(200);
    expect(box.height).toBeGreaterThan(100);
    // One legend entry per team, and the table has every day.
    for (const series of byTeam.series) expect(await chart.locator('.u-legend').textContent()).toContain(series.name);
    const table = page.getByTestId('trend-days-behind-table');
    const days = [...new Set(byTeam.series.flatMap((series) => series.points.map((point) => point.day)))];
    expect(await table.locator('tbody tr').count()).toBe(days.length);
    const last = byTeam.series.find((series) => series.name === 'data-platform')!.points.at(-1)!;
    const lastRow = table.locator('tbody tr').last();
    expect(await lastRow.locator('td').first().textContent()).toBe(last.day);
    expect(await lastRow.locator('td').nth(1).textContent()).toBe(last.daysBehind.toFixed(1));
    await page.getByTestId('trend-coverage').locator('canvas').waitFor();
    await chart.screenshot({ path: join(SCREENSHOTS, 'days-behind-trend.png') });
    await page.screenshot({ path: join(SCREENSHOTS, 'overview.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
