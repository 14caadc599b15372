// The dashboard in real headless Chromium against a real server with a seeded (simulated) fleet:
// the numbers shown match the API, the charts draw and their tables repeat the API's numbers,
// navigation works, hostile label values stay text, and screenshots are saved to a temp directory.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchedPage } from './browser.js';
import { runCli } from './cli.js';
import { apiGet, apiSend, rootWithAptRepository, startServerProcess, type ServerProcess } from './control-plane-fixtures.js';
import { sharedData } from './data-path.js';
import { DEBIAN_ADVISORIES } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { requireTool } from './required-tools.js';
import { fullCheckIn, simulatedFleet } from './simulated-fleet.js';

// A fresh directory per run, printed, so a person can look at the pictures of this run.
const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'fleetpatch-dashboard-'));
const HOSTILE = '<img src=x onerror=alert(1)>';
const CHARTS = ['findings-by-severity', 'days-behind', 'uptime-bands', 'patch-coverage'];

interface FleetRow {
  name: string;
  hosts: number;
  patchCoverage: number;
  openFindings: Record<'critical' | 'high' | 'medium' | 'low' | 'other', number>;
  pendingReboots: number;
  availableUpdates: number;
  daysBehind: number;
  uptimeDays: Record<'under7' | 'under30' | 'under90' | 'under365' | 'over365', number>;
}

interface Summary {
  fleet: FleetRow;
  buckets: FleetRow[];
  teams: FleetRow[];
}

describe('dashboard in Chromium', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let fleetSize = 0;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const chromiumBinary = requireTool('chromium');
    console.info(`dashboard screenshots: ${SCREENSHOTS}`);
    database = await createTestDatabase();
    const env = { DATABASE_URL: database.connectionString };
    for (const release of [8, 9, 10]) expect((await runCli(['advisories', 'import', sharedData(`osv/almalinux/almalinux${release}.zip`)], env)).code).toBe(0);
    const debianAdvisories = mkdtempSync(join(tmpdir(), 'fleetpatch-osv-'));
    for (const record of DEBIAN_ADVISORIES) writeFileSync(join(debianAdvisories, `${record.id}.json`), JSON.stringify(record));
    server = await startServerProcess(env, ['--stale-after', '600', '--advisories', debianAdvisories]);
    const { fleet } = await simulatedFleet(120);
    fleetSize = fleet.length;
    for (const host of fleet) {
      const response = await apiSend(server, 'PUT', `/api/v1/hosts/${host.hostname}/inventory`, server.adminToken, fullCheckIn(host));
      expect(response.status).toBe(200);
    }
    browser = await launchChromium(chromiumBinary);
    page = await watchedPage(browser, dialogs, pageErrors);
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await database?.drop();
  });

  it('shows the fleet overview with the numbers of the API', async () => {
    const summary = (await apiGet<Summary>(server, '/api/v1/fleet/summary')).body;
    expect(summary.fleet.hosts).toBe(fleetSize);
    await page.goto(`${server.url}/#/?token=${server.adminToken}`);
    await page.getByTestId('total-hosts').waitFor();
    expect(await page.getByTestId('total-hosts').locator('.value').textContent()).toBe(fleetSize.toLocaleString('en-US'));
    expect(await page.getByTestId('total-critical').locator('.value').textContent()).toBe(summary.fleet.openFindings.critical.toLocaleString('en-US'));
    expect(await page.getByTestId('total-coverage').locator('.value').textContent()).toBe(`${(summary.fleet.patchCoverage * 100).toFixed(1)}%`);
    for (const bucket of summary.buckets) {
      const row = page.getByTestId('bucket-table').getByTestId(`row-${bucket.name}`);
      expect(await row.getByTestId('hosts').textContent()).toBe(bucket.hosts.toLocaleString('en-US'));
      expect(await row.getByTestId('critical').textContent()).toBe(bucket.openFindings.critical.toLocaleString('en-US'));
      expect(await row.getByTestId('available-updates').textContent()).toBe(bucket.availableUpdates.toLocaleString('en-US'));
      expect(await row.getByTestId('days-behind').textContent()).toBe(bucket.daysBehind.toFixed(1));
    }
    // The simulated hosts report the upgrades dnf would offer them.
    expect(summary.buckets.reduce((sum, bucket) => sum + bucket.availableUpdates, 0)).toBeGreaterThan(0);
    expect(await page.getByTestId('host-count').textContent()).toContain(`${fleetSize} hosts`);
    // No policy, so no replace bucket: the baseline images answer is empty and the overview draws no chart for it.
    expect((await apiGet<{ buckets: unknown[] }>(server, '/api/v1/images')).body.buckets).toEqual([]);
    expect(await page.getByTestId('chart-baseline-images').count()).toBe(0);
    await page.screenshot({ path: resolve(SCREENSHOTS, 'overview.png'), fullPage: true });
  });

  it('opens a host page with findings and kernels, and an advisory page with its impact', async () => {
    await page.getByTestId('host-table').locator('tbody tr').first().locator('a').first().click();
    await page.getByTestId('host-name').waitFor();
    const name = await page.getByTestId('host-name').textContent();
    const host = (await apiGet<{ findings: unknown[]; runningKernel?: string }>(server, `/api/v1/hosts/${name}`)).body;
    expect(await page.getByTestId('finding-count').textContent()).toBe(host.findings.length.toLocaleString('en-US'));
    expect(await page.getByTestId('running-kernel').textContent()).toBe(host.runningKernel ?? 'unknown');
    await page.screenshot({ path: resolve(SCREENSHOTS, 'host.png'), fullPage: true });

    await page.getByTestId('finding-table').locator('tbody tr').first().locator('a').first().click();
    await page.getByTestId('advisory-id').waitFor();
    const id = (await page.getByTestId('advisory-id').textContent())!.split(' ')[0]!;
    const impact = (await apiGet<{ impact: Array<{ state: string; hosts: number }> }>(server, `/api/v1/advisories/${id}`)).body.impact;
    const vulnerable = impact.filter((row) => row.state === 'vulnerable').reduce((sum, row) => sum + row.hosts, 0);
    expect(await page.getByTestId('impact-vulnerable').locator('.value').textContent()).toBe(vulnerable.toLocaleString('en-US'));
    await page.screenshot({ path: resolve(SCREENSHOTS, 'advisory.png'), fullPage: true });
  });

  it('shows a host enrolled by a real agent process, with its findings and available updates', async () => {
    const stateDirectory = mkdtempSync(join(tmpdir(), 'fleetpatch-agent-'));
    const run = await runCli(['agent', '--server', server.url, '--enroll-token', server.enrollmentToken, '--state-dir', stateDirectory, '--root', rootWithAptRepository(), '--hostname', 'agent-host-1', '--label', 'bucket=stateless', '--label', 'team=web', '--once']);
    expect(run.code, run.stderr).toBe(0);
    // The server syncs its advisory source (the Debian records) on request.
    expect((await apiSend(server, 'POST', '/api/v1/advisories/sync', server.adminToken, {})).status).toBe(200);
    const host = (await apiGet<{ findings: Array<{ advisoryId: string }> }>(server, '/api/v1/hosts/agent-host-1')).body;
    expect(host.findings.some((finding) => finding.advisoryId === 'DSA-9001-1')).toBe(true);
    await page.goto(`${server.url}/#/host/agent-host-1`);
    await page.getByTestId('host-name').waitFor();
    expect(await page.getByTestId('finding-count').textContent()).toBe(host.findings.length.toLocaleString('en-US'));
    expect(await page.getByTestId('finding-table').textContent()).toContain('DSA-9001-1');
    expect(await page.getByTestId('update-count').textContent()).toBe('1');
    expect(await page.getByTestId('update-table').textContent()).toContain('2.38.1-5+deb12u4');
    await page.screenshot({ path: resolve(SCREENSHOTS, 'agent-host.png'), fullPage: true });
  }, 120_000);

  it('searches hosts and filters by bucket', async () => {
    await page.getByTestId('search').fill('databases');
    await page.getByTestId('search').press('Enter');
    await page.waitForURL(/#\/hosts\?q=databases/);
    const expected = (await apiGet<{ total: number }>(server, '/api/v1/hosts?q=databases')).body.total;
    // Until the filtered list has loaded, the count may still be the last list's.
    await page.waitForFunction((total) => document.querySelector('[data-testid="host-count"]')?.textContent?.includes(`${total} hosts`), expected);
  });

  it('refreshes in place when the fleet changes, without reloading the page', async () => {
    await page.goto(`${server.url}/?refresh=1#/`);
    await page.getByTestId('total-hosts').waitFor();
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const hostsBefore = (await apiGet<Summary>(server, '/api/v1/fleet/summary?fresh=true')).body.fleet.hosts;
    const { fleet } = await simulatedFleet(1, 99);
    const extra = { ...fleet[0]!, hostname: 'sim-extra-000001' };
    expect((await apiSend(server, 'PUT', `/api/v1/hosts/${extra.hostname}/inventory`, server.adminToken, fullCheckIn(extra))).status).toBe(200);
    await page.waitForFunction((size) => document.querySelector('[data-testid="total-hosts"] .value')?.textContent === String(size), hostsBefore + 1);
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
  });

  it('draws every chart on a canvas, and its table shows the numbers of the API', async () => {
    const summary = (await apiGet<Summary>(server, '/api/v1/fleet/summary')).body;
    await page.goto(`${server.url}/#/`);
    for (const chart of CHARTS) await page.getByTestId(`chart-${chart}`).locator('canvas').first().waitFor();
    for (const chart of CHARTS) {
      const canvas = page.getByTestId(`chart-${chart}`).locator('canvas').first();
      const box = (await canvas.boundingBox())!;
      expect(box.width, chart).toBeGreaterThan(100);
      expect(box.height, chart).toBeGreaterThan(100);
    }
    const table = (chart: string, row: string) => page.getByTestId(`chart-${chart}-table`).getByTestId(`row-${row}`);
    for (const bucket of summary.buckets) {
      for (const severity of ['critical', 'high', 'medium', 'low'] as const) {
        expect(await table('findings-by-severity', bucket.name).getByTestId(severity).textContent()).toBe(bucket.openFindings[severity].toLocaleString('en-US'));
      }
      for (const band of ['under7', 'under30', 'under90', 'under365', 'over365'] as const) {
        expect(await table('uptime-bands', bucket.name).getByTestId(band).textContent()).toBe(bucket.uptimeDays[band].toLocaleString('en-US'));
      }
      expect(await table('patch-coverage', bucket.name).getByTestId('coverage').textContent()).toBe(`${(bucket.patchCoverage * 100).toFixed(1)}%`);
    }
    for (const team of summary.teams) expect(await table('days-behind', team.name).getByTestId('days-behind').textContent()).toBe(team.daysBehind.toFixed(1));
    // The accountability chart puts the team furthest behind first.
    const worst = [...summary.teams].sort((a, b) => b.daysBehind - a.daysBehind)[0]!;
    expect(await page.getByTestId('chart-days-behind-table').locator('tbody tr').first().locator('th').textContent()).toBe(worst.name);

    // Marks were drawn: the axes and grid are grey, every series colour is saturated.
    const saturatedPixels = await page.evaluate((charts) => charts.map((chart) => {
      const canvas = document.querySelector(`[data-testid="chart-${chart}"] canvas`) as HTMLCanvasElement;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let saturated = 0;
      for (let index = 0; index < pixels.length; index += 4) {
        if (pixels[index + 3]! > 0 && Math.max(pixels[index]!, pixels[index + 1]!, pixels[index + 2]!) - Math.min(pixels[index]!, pixels[index + 1]!, pixels[index + 2]!) > 60) saturated++;
      }
      return saturated;
    }), CHARTS);
    const drawsSomething = {
      'findings-by-severity': summary.fleet.openFindings.critical + summary.fleet.openFindings.high + summary.fleet.openFindings.medium + summary.fleet.openFindings.low > 0,
      'days-behind': summary.teams.some((team) => team.daysBehind > 0),
      'uptime-bands': summary.fleet.hosts > 0,
      'patch-coverage': summary.buckets.some((bucket) => bucket.patchCoverage > 0),
    };
    CHARTS.forEach((chart, index) => expect(saturatedPixels[index]! > 500, `${chart}: ${saturatedPixels[index]} coloured pixels`).toBe(drawsSomething[chart as keyof typeof drawsSomething]));

    // Hovering a stacked bar shows each series' own number (not the running total the stack draws).
    const first = summary.buckets[0]!;
    const severityChart = page.getByTestId('chart-findings-by-severity');
    const plotArea = (await severityChart.locator('.u-over').boundingBox())!;
    await page.mouse.move(plotArea.x + plotArea.width / summary.buckets.length / 2, plotArea.y + plotArea.height - 5);
    const legend = severityChart.locator('.u-legend');
    await expect.poll(() => legend.textContent()).toContain(first.name);
    for (const severity of ['critical', 'high', 'medium', 'low'] as const) {
      const entry = legend.locator('.u-series').filter({ has: page.locator('.u-label', { hasText: new RegExp(`^${severity}$`) }) });
      expect(await entry.locator('.u-value').textContent(), severity).toBe(first.openFindings[severity].toLocaleString('en-US'));
    }
    await page.screenshot({ path: resolve(SCREENSHOTS, 'charts.png'), fullPage: false });
  });

  it('moves between pages with the navigation, links and the back button', async () => {
    await page.goto(`${server.url}/#/`);
    await page.getByTestId('total-hosts').waitFor();
    const navigation = page.getByTestId('navigation');
    expect(await navigation.getByRole('link', { name: 'Overview' }).getAttribute('aria-current')).toBe('page');
    await navigation.getByRole('link', { name: 'Hosts' }).click();
    await page.waitForURL(/#\/hosts$/);
    // The overview embeds a host list too: its host count is there before the hosts page renders.
    await page.getByTestId('total-hosts').waitFor({ state: 'detached' });
    await page.getByTestId('host-count').waitFor();
    expect(await page.getByTestId('total-hosts').count()).toBe(0);
    expect(await navigation.getByRole('link', { name: 'Hosts' }).getAttribute('aria-current')).toBe('page');
    const firstHost = page.getByTestId('host-table').locator('tbody tr').first().locator('a').first();
    const name = (await firstHost.textContent())!;
    await firstHost.click();
    await page.getByTestId('host-name').waitFor();
    expect(await page.getByTestId('host-name').textContent()).toBe(name);
    await page.goBack();
    await page.getByTestId('host-count').waitFor();
    expect(page.url()).toMatch(/#\/hosts$/);
    // A bucket link on the overview filters the host list.
    await navigation.getByRole('link', { name: 'Overview' }).click();
    const bucketLink = page.getByTestId('bucket-table').locator('tbody tr').first().locator('a');
    const bucket = (await bucketLink.textContent())!;
    await bucketLink.click();
    await page.waitForURL(/#\/hosts\?bucket=/);
    const expected = (await apiGet<{ total: number }>(server, `/api/v1/hosts?bucket=${encodeURIComponent(bucket)}`)).body.total;
    await page.waitForFunction((total) => document.querySelector('[data-testid="host-count"]')?.textContent?.includes(`${total} hosts`), expected);
  });

  it('shows hostile label values and package names as text: nothing injected, no dialog', async () => {
    const { fleet } = await simulatedFleet(1, 31);
    const hostile = {
      ...fleet[0]!,
      hostname: 'hostile-labels-1',
      labels: { bucket: HOSTILE, team: `<script>window.injected = 1</script>${HOSTILE}` },
      availableUpdates: [{ name: HOSTILE, candidateVersion: '"><svg onload=alert(2)>', repository: "javascript:alert('3')" }],
    };
    expect((await apiSend(server, 'PUT', `/api/v1/hosts/${hostile.hostname}/inventory`, server.adminToken, fullCheckIn(hostile))).status).toBe(200);
    await apiGet(server, '/api/v1/fleet/summary?fresh=true');
    await page.goto(`${server.url}/#/`);
    const row = page.getByTestId('bucket-table').getByTestId(`row-${HOSTILE}`);
    await row.waitFor();
    expect(await row.locator('a').textContent()).toBe(HOSTILE);
    expect(await page.getByTestId('chart-findings-by-severity-table').getByTestId(`row-${HOSTILE}`).locator('th').textContent()).toBe(HOSTILE);
    expect(await page.getByTestId('team-table').getByTestId(`row-<script>window.injected = 1</script>${HOSTILE}`).locator('a').textContent()).toBe(`<script>window.injected = 1</script>${HOSTILE}`);
    await page.screenshot({ path: resolve(SCREENSHOTS, 'hostile-overview.png'), fullPage: true });

    await page.goto(`${server.url}/#/host/hostile-labels-1`);
    await page.getByTestId('update-table').waitFor();
    expect(await page.getByTestId('update-table').locator('tbody td').first().textContent()).toBe(HOSTILE);
    expect(await page.getByTestId('update-table').textContent()).toContain('"><svg onload=alert(2)>');
    for (const selector of ['img[src="x"]', 'svg[onload]', 'main script']) expect(await page.locator(selector).count(), selector).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { injected?: number }).injected)).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  }, 60_000);
  it('asks for a token when it has none or the server refuses it, then opens the overview', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    try {
      const fresh = await context.newPage();
      await fresh.goto(`${server.url}/#/`);
      const dialog = fresh.getByTestId('login');
      await dialog.waitFor();
      await dialog.getByLabel('API token').fill('fpa_not-a-real-token');
      await dialog.getByRole('button').click();
      await fresh.getByTestId('status').filter({ hasText: 'the token was refused' }).waitFor();
      await dialog.waitFor();
      await dialog.getByLabel('API token').fill(server.adminToken);
      await dialog.getByRole('button').click();
      await fresh.getByTestId('total-hosts').waitFor();
      expect(await dialog.isVisible()).toBe(false);
    } finally {
      await context.close();
    }
  });
});
