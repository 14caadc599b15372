// The plan page in real headless Chromium against a server on a real PostgreSQL: it explains the
// missing policy, then with the seed's policy (one team renamed to markup) the timeline draws with
// planned windows and the holiday freeze, the team table repeats the API's SLA numbers, the what-if
// answers per bucket on both paths, drift shows the three PostgreSQL levels, and hostile strings
// stay text. Screenshots go to a fresh temp directory, printed.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchedPage } from './browser.js';
import { repoRoot } from './data-path.js';
import { PLAN_FROM, startPlanFleet, type PlanFleet } from './plan-fleet.js';
import { requireTool } from './required-tools.js';

const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'fleetpatch-plan-page-'));
const HOSTILE = '<img src=x onerror=alert(1)>';

const utc = (iso: string) => `${iso.slice(0, 16).replace('T', ' ')} UTC`;

interface Group { name: string; dueWithinSevenDays: number; breached: number; predictedBreaches: number; hosts: number }

describe('plan page in Chromium', () => {
  let fleet: PlanFleet;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const planUrl = () => `${fleet.server.url}/#/plan?from=${PLAN_FROM}`;

  beforeAll(async () => {
    const chromiumBinary = requireTool('chromium');
    console.info(`plan page screenshots: ${SCREENSHOTS}`);
    fleet = await startPlanFleet();
    browser = await launchChromium(chromiumBinary);
    page = await watchedPage(browser, dialogs, pageErrors);
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
  });

  it('says the plan needs a policy while none is in force', async () => {
    await page.goto(`${planUrl()}&token=${fleet.token}`);
    await page.getByTestId('plan-error').waitFor();
    expect(await page.getByTestId('plan-error').textContent()).toMatch(/no policy is in force/);
    expect(await page.getByTestId('navigation').getByRole('link', { name: 'Plan' }).getAttribute('aria-current')).toBe('page');
  });

  it('draws the timeline with planned windows and the freeze, and the team table matches the API', async () => {
    // The seed's policy, with the web team's name made of markup.
    const text = readFileSync(`${repoRoot}/examples/fleetpatch.yaml`, 'utf8').replace('    owner: web\n', `    owner: ${JSON.stringify(HOSTILE)}\n`);
    expect((await fleet.send('PUT', '/api/v1/policy', { text, message: 'hostile team' })).status).toBe(201);
    await fleet.ageFleet();
    const plan = (await fleet.get<{ teams: Group[]; timeline: Array<{ bucket: string }> }>(`/api/v1/plan?from=${PLAN_FROM}`)).body;
    // Only the hash changed since the last visit: reload, rather than wait for the 30-second refresh.
    await page.goto(planUrl());
    await page.reload();
    const svg = page.getByTestId('plan-timeline-svg');
    await svg.waitFor();
    const box = (await svg.boundingBox())!;
    expect(box.width).toBeGreaterThan(800);
    expect(box.height).toBeGreaterThan(plan.timeline.length * 30);
    expect(await page.getByTestId('planned-occurrence').count()).toBeGreaterThan(0);
    // The holidays freeze covers every bucket.
    expect(await page.getByTestId('freeze-band').count()).toBe(plan.timeline.length);
    for (const lane of plan.timeline) expect(await page.getByTestId(`lane-${lane.bucket}`).count()).toBe(1);

    const table = page.getByTestId('plan-team-table');
    expect(await table.locator('tbody tr').count()).toBe(plan.teams.length);
    for (const team of plan.teams) {
      const row = table.getByTestId(`row-${team.name}`);
      expect(await row.locator('td').first().textContent()).toBe(team.name);
      expect(await row.getByTestId('hosts').textContent()).toBe(team.hosts.toLocaleString('en-US'));
      expect(await row.getByTestId('due-soon').textContent()).toBe(team.dueWithinSevenDays.toLocaleString('en-US'));
      expect(await row.getByTestId('breached').textContent()).toBe(team.breached.toLocaleString('en-US'));
      expect(await row.getByTestId('predicted-breaches').textContent()).toBe(team.predictedBreaches.toLocaleString('en-US'));
    }
    expect(plan.teams.some((team) => team.breached > 0)).toBe(true);
    const teamSvg = (await page.getByTestId('team-sla-svg').boundingBox())!;
    expect(teamSvg.width).toBeGreaterThan(300);
    expect(teamSvg.height).toBeGreaterThan(40);
    await page.screenshot({ path: resolve(SCREENSHOTS, 'plan.png'), fullPage: true });
  });

  it('answers the what-if per bucket, routine beside emergency', async () => {
    const answer = (await fleet.get<{ buckets: Array<{ bucket: string; routine: { liveBy: string }; emergency: { liveBy: string } }> }>(`/api/v1/plan/what-if?package=openssl&severity=critical&at=${PLAN_FROM}`)).body;
    expect(answer.buckets.length).toBe(3);
    await page.getByTestId('what-if-package').fill('openssl');
    await page.getByTestId('what-if-severity').selectOption('critical');
    await page.getByTestId('what-if-submit').click();
    const table = page.getByTestId('what-if-table');
    await table.waitFor();
    expect(await page.getByTestId('what-if-summary').textContent()).toContain('the emergency path applies');
    for (const bucket of answer.buckets) {
      const row = table.getByTestId(`row-${bucket.bucket}`);
      expect(await row.getByTestId('routine-live-by').textContent()).toContain(utc(bucket.routine.liveBy));
      expect(await row.getByTestId('emergency-live-by').textContent()).toContain(utc(bucket.emergency.liveBy));
    }
    // A low-severity advisory meets no emergency trigger: the emergency column is empty.
    await page.getByTestId('what-if-severity').selectOption('low');
    await page.getByTestId('what-if-submit').click();
    await page.getByTestId('what-if-summary').filter({ hasText: 'routine cadence only' }).waitFor();
    expect(await table.getByTestId('row-databases').getByTestId('emergency-live-by').textContent()).toBe('—');
    await page.getByTestId('what-if').screenshot({ path: resolve(SCREENSHOTS, 'what-if.png') });
  });

  it('shows the three PostgreSQL levels of data-platform as drift, the target marked', async () => {
    const bars = page.getByTestId('drift-package-postgresql-16');
    await bars.waitFor();
    expect(await bars.locator('.legend').textContent()).toContain('16.4-1 ✓ target');
    expect(await bars.locator('rect.segment').count()).toBe(3);
    expect(await bars.locator('rect.segment.target').count()).toBe(1);
    const table = page.getByTestId('drift-postgresql-*-table');
    expect(await table.getByTestId('row-postgresql-16|data-platform|16.4-1').getByTestId('target').textContent()).toBe('target');
    expect(await table.getByTestId('row-postgresql-16|data-platform|16.1-1').getByTestId('target').textContent()).toBe('');
    await page.getByTestId('drift').screenshot({ path: resolve(SCREENSHOTS, 'drift.png') });
  });

  it('keeps hostile team names and what-if packages as text: nothing injected, no dialog', async () => {
    await page.getByTestId('what-if-package').fill(HOSTILE);
    await page.getByTestId('what-if-submit').click();
    await page.getByTestId('what-if-none').waitFor();
    expect(await page.getByTestId('what-if-none').textContent()).toBe(`no host runs ${HOSTILE}`);
    expect(await page.getByTestId('plan-team-table').getByTestId(`row-${HOSTILE}`).locator('td').first().textContent()).toBe(HOSTILE);
    expect(await page.getByTestId('plan-timeline-svg').textContent()).toContain('<img src=x');
    for (const selector of ['img[src="x"]', 'main script']) expect(await page.locator(selector).count(), selector).toBe(0);
    expect(dialogs).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
