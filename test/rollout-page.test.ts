// The rollout pages in real headless Chromium against a server on a real PostgreSQL: the plan
// fleet's database hosts in a rollout that waits for its window (hours away), one host
// failed and a gate measured (written to the database as the engine would). The list shows it
// with its hosts by state; its page shows waves, hosts, the budget left, the gate's chart and the
// timeline; pausing and retrying from the page change it (checked through the API); the host's
// page lists its rollout history; no page error, console error or dialog. Screenshots go to a
// fresh temp directory, printed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchedPage } from './browser.js';
import { startPlanFleet, type PlanFleet } from './plan-fleet.js';
import { requireTool } from './required-tools.js';

// The one window opens twelve hours from now: the engine keeps the rollout waiting for it, so
// nothing moves under the test.
const WINDOW_HOUR = String((new Date().getUTCHours() + 12) % 24).padStart(2, '0');
const POLICY = `version: 1
windows:
  later:
    timeZone: UTC
    every: day
    start: "${WINDOW_HOUR}:00"
    duration: 1h
buckets:
  - name: databases
    owner: data-platform
    match:
      labels: { role: postgres }
    strategy: { kind: in-place }
    windows: [later]
    waves: [1, "100%"]
    errorBudget: 1
    rollback: { automatic: false }
    gates:
      - name: error-rate
        when: post-wave
        check: { kind: command, command: /bin/true }
`;
const MEASURED = [0.01, 0.04, 0.02];
const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'fleetpatch-rollout-page-'));

interface RolloutHost { host: string; wave: number; state: string; attempt: number; lastError?: string }
interface Rollout { id: number; state: string; pauseReason?: string; hostCounts: Record<string, number>; hosts: RolloutHost[]; events: Array<{ kind: string; host?: string; actor: string; detail?: string }> }

describe('rollout pages in Chromium', () => {
  let fleet: PlanFleet;
  let browser: Browser;
  let page: Page;
  let rolloutId: number;
  let failedHost: string;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const rollout = async () => (await fleet.get<Rollout>(`/api/v1/rollouts/${rolloutId}`)).body;

  beforeAll(async () => {
    const chromiumBinary = requireTool('chromium');
    console.info(`rollout page screenshots: ${SCREENSHOTS}`);
    fleet = await startPlanFleet();
    expect((await fleet.send('PUT', '/api/v1/policy', { text: POLICY, message: 'databases in place' })).status).toBe(201);
    const created = await fleet.send<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'databases', reason: 'monthly patching' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    rolloutId = created.body.id;
    // The engine's first pass finds no window open.
    for (let attempt = 0; attempt < 100 && (await rollout()).state !== 'waiting-for-window'; attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await rollout()).state).toBe('waiting-for-window');
    failedHost = (await rollout()).hosts[0]!.host;
    await fleet.database.pool.query("UPDATE rollout_hosts SET state = 'failed', last_error = 'post-check: replication lag 40 s' WHERE rollout_id = $1 AND host = $2", [rolloutId, failedHost]);
    for (const [index, value] of MEASURED.entries()) {
      await fleet.database.pool.query("INSERT INTO gate_measurements (rollout_id, gate, wave, taken_at, phase, value) VALUES ($1, 'error-rate', 1, $2, 'successful', $3)", [rolloutId, new Date(Date.now() - (MEASURED.length - index) * 60_000), value]);
    }
    browser = await launchChromium(chromiumBinary);
    page = await watchedPage(browser, dialogs, pageErrors);
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
  });

  it('lists the rollout with its state and hosts by state', async () => {
    const [listed] = (await fleet.get<Rollout[]>('/api/v1/rollouts')).body;
    expect(listed!.hostCounts.failed).toBe(1);
    await page.goto(`${fleet.server.url}/#/rollouts?token=${fleet.token}`);
    const row = page.getByTestId(`rollout-${rolloutId}`);
    await row.waitFor();
    expect(await page.getByTestId('navigation').getByRole('link', { name: 'Rollouts' }).getAttribute('aria-current')).toBe('page');
    expect(await row.getByTestId('rollout-state').textContent()).toBe('waiting-for-window');
    const pending = listed!.hostCounts.pending!;
    expect(await row.getByTestId('host-states-text').textContent()).toBe(`${pending} pending, 1 failed`);
    expect(await row.locator('.state-bar span').count()).toBe(2);
    expect(await row.getByTestId('rollout-reason').textContent()).toBe('outside the windows later');
  });

  it('shows the rollout: waves, hosts by state, budget left, the gate\'s chart and the timeline', async () => {
    const shown = await rollout();
    await page.getByTestId(`rollout-${rolloutId}`).getByRole('link', { name: String(rolloutId) }).click();
    await page.getByTestId('rollout-hosts').waitFor();
    expect(await page.getByTestId('rollout-budget').locator('.value').textContent()).toBe('0');
    expect(await page.getByTestId('rollout-failed').locator('.value').textContent()).toBe('1');
    expect(await page.getByTestId('wave-1-states-text').textContent()).toBe('1 failed');
    expect(await page.getByTestId('wave-2-states-text').textContent()).toBe(`${shown.hosts.length - 1} pending`);
    for (const host of shown.hosts) {
      const row = page.getByTestId(`rollout-host-${host.host}`);
      expect(await row.getByTestId('host-state').textContent()).toBe(host.state);
      expect(await row.getByTestId('host-attempt').textContent()).toBe(String(host.attempt));
      expect(await row.getByTestId('host-error').textContent()).toBe(host.lastError ?? '');
      // A failed host may be retried or skipped, a pending one only skipped.
      expect(await row.getByTestId(`retry-${host.host}`).count()).toBe(host.state === 'failed' ? 1 : 0);
      expect(await row.getByTestId(`skip-${host.host}`).count()).toBe(1);
    }
    const gate = page.getByTestId('gate-error-rate');
    expect(await gate.locator('figcaption').textContent()).toContain('post-wave · 3 measurements');
    const chart = (await gate.locator('canvas').boundingBox())!;
    expect(chart.width).toBeGreaterThan(300);
    expect(await gate.getByTestId('measurement-value').allTextContents()).toEqual(MEASURED.map(String));
    expect(await page.getByTestId('rollout-timeline').getByTestId('timeline-kind').allTextContents()).toEqual(shown.events.map((event) => event.kind).reverse());
    expect(await page.getByTestId('rollout-timeline').getByTestId('timeline-detail').last().textContent()).toBe(`${shown.hosts.length} hosts in 2 waves`);
    await page.screenshot({ path: join(SCREENSHOTS, 'rollout.png'), fullPage: true });
  });

  it('pauses from the page with a reason, then retries the failed host', async () => {
    await page.getByTestId('pause-button').click();
    await page.getByTestId('pause-reason').fill('INC-42: replication lag');
    await page.getByTestId('pause-confirm').click();
    await page.getByTestId('rollout-state').filter({ hasText: 'paused (operator)' }).waitFor();
    const paused = await rollout();
    expect([paused.state, paused.pauseReason]).toEqual(['paused', 'operator']);
    expect(paused.events.at(-1)).toMatchObject({ kind: 'pause', actor: 'token:initial admin', detail: 'INC-42: replication lag' });
    // Paused by an operator: resume takes pause's place.
    expect(await page.getByTestId('pause').count()).toBe(0);
    expect(await page.getByTestId('resume-button').count()).toBe(1);

    const row = page.getByTestId(`rollout-host-${failedHost}`);
    await row.getByTestId(`retry-${failedHost}-button`).click();
    await row.getByTestId(`retry-${failedHost}-reason`).fill('lag gone');
    await row.getByTestId(`retry-${failedHost}-confirm`).click();
    await row.getByTestId('host-attempt').filter({ hasText: '2' }).waitFor();
    const retried = (await rollout()).hosts.find((host) => host.host === failedHost)!;
    expect([retried.state, retried.attempt]).toEqual(['pending', 2]);
    expect(await row.getByTestId('host-state').textContent()).toBe('pending');
    expect(await page.getByTestId('rollout-budget').locator('.value').textContent()).toBe('1');
  });

  it('shows a refusal in place: approve is not offered, and a second pause from an old page is refused', async () => {
    expect(await page.getByTestId('approve').count()).toBe(0);
    // Another tab still shows the pause button from before: the service refuses, the page says why.
    const stale = await watchedPage(browser, dialogs, pageErrors);
    await stale.route('**/api/v1/rollouts/*', async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as Rollout;
      await route.fulfill({ response, json: { ...body, state: 'waiting-for-window', pauseReason: undefined } });
    });
    await stale.goto(`${fleet.server.url}/#/rollouts/${rolloutId}?token=${fleet.token}`);
    await stale.getByTestId('pause-button').click();
    await stale.getByTestId('pause-reason').fill('again');
    await stale.getByTestId('pause-confirm').click();
    await stale.getByTestId('pause-error').waitFor();
    expect(await stale.getByTestId('pause-error').textContent()).toBe(`rollout ${rolloutId} is paused (operator): already paused by an operator`);
    await stale.close();
  });

  it('lists the host\'s rollout history on its page', async () => {
    await page.goto(`${fleet.server.url}/#/host/${failedHost}`);
    const history = page.getByTestId('host-rollout-history');
    await history.waitFor();
    expect(await history.getByTestId('timeline-kind').first().textContent()).toBe('retry');
    expect(await history.getByTestId('timeline-detail').first().textContent()).toBe('lag gone');
    expect(await history.getByRole('link', { name: String(rolloutId) }).first().getAttribute('href')).toBe(`#/rollouts/${rolloutId}`);
  });

  it('raised no page error, console error or dialog', () => {
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
