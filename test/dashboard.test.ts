// The dashboard in real headless Chromium against a real server with a seeded (simulated) fleet:
// the numbers shown match the API, host and advisory pages work, screenshots are saved.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { apiGet, apiSend, rootWithAptRepository, startServerProcess, type ServerProcess } from './control-plane-fixtures.js';
import { repoRoot, sharedData } from './data-path.js';
import { DEBIAN_ADVISORIES } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { requireTool } from './required-tools.js';
import { fullCheckIn, simulatedFleet } from './simulated-fleet.js';

const SCREENSHOTS = resolve(repoRoot, 'test-results/screenshots');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

interface Summary {
  fleet: { hosts: number; patchCoverage: number; openFindings: { critical: number; high: number }; pendingReboots: number };
  buckets: Array<{ name: string; hosts: number; openFindings: { critical: number }; availableUpdates: number; daysBehind: number }>;
}

describe('dashboard in Chromium', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let fleetSize = 0;

  beforeAll(async () => {
    const chromiumBinary = requireTool('chromium');
    mkdirSync(SCREENSHOTS, { recursive: true });
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
    browser = await chromium.launch({ executablePath: chromiumBinary, args: CHROMIUM_FLAGS });
    page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
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
    await page.getByTestId('host-count').waitFor();
    const expected = (await apiGet<{ total: number }>(server, '/api/v1/hosts?q=databases')).body.total;
    expect(await page.getByTestId('host-count').textContent()).toContain(`${expected} hosts`);
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
});
