// The dashboard and `rollout show` for the strategies, in real headless Chromium against a server
// on a real PostgreSQL (the plan fleet, plus physical hosts and image-reporting web hosts checked
// in through the API). One rollout per strategy: the database hosts in place through a command
// hook (a real hook that blocks in its first step, so a job is running through it), Kubernetes
// nodes by rolling reboot and web hosts by replacement (both waiting for a window hours away), and
// physical hosts in a manual window open now, whose hosts the engine admits to await their
// operator. The pages name each strategy and executor and who runs a job; an operator confirms a
// checklist step from the page (the timeline and the audit log have it); a stuck drain reads in
// words; the overview draws the baseline image per replace bucket with its age. Screenshots go to
// a fresh temp directory, printed.
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../src/domain/inventory/index.js';
import { fullCheckInOf } from '../src/protocol/agent-protocol.js';
import { launchChromium, watchedPage } from './browser.js';
import { runCli } from './cli.js';
import { sharedData } from './data-path.js';
import { startPlanFleet, type PlanFleet } from './plan-fleet.js';
import { requireTool } from './required-tools.js';

const SCREENSHOTS = mkdtempSync(join(tmpdir(), 'fleetpatch-strategy-pages-'));
const DAY_MS = 86_400_000;
const hour = (offset: number) => String((new Date().getUTCHours() + offset + 24) % 24).padStart(2, '0');
const CHECKLIST = ['Confirm the dependent teams acknowledged the downtime', 'Drain traffic at the load balancer', 'Run apt-get upgrade and reboot'];
/** Built 45 days ago: past the month after which the page marks a baseline old. */
const BUILT = new Date(Date.now() - 45 * DAY_MS).toISOString().slice(0, 10);
const AGE_DAYS = Math.floor((Date.now() - Date.parse(`${BUILT}T00:00:00Z`)) / DAY_MS);
/** Extra hosts, checked in with the plan fleet's Debian image: physical ones, and web hosts reporting their image. */
const EXTRA_HOSTS: Record<string, Record<string, string>> = {
  'colo-1': { role: 'colo' },
  'colo-2': { role: 'colo' },
  'web-3': { role: 'stateless', 'image-id': 'ami-0new' },
  'web-4': { role: 'stateless', 'image-id': 'ami-0new' },
  'web-5': { role: 'stateless', 'image-id': 'ami-0old' },
};

const policy = (hook: string) => `version: 1
windows:
  # Opened an hour ago, open two more: the manual window and the hook's rollout run now.
  now: { timeZone: UTC, every: day, start: "${hour(-1)}:00", duration: 3h }
  later: { timeZone: UTC, every: day, start: "${hour(12)}:00", duration: 1h }
buckets:
  - name: databases
    owner: data-platform
    match: { labels: { role: postgres } }
    strategy: { kind: in-place }
    executor: { kind: command-hook, command: ${hook} }
    windows: [now]
    scheduled: false
  - name: nodes
    owner: platform
    match: { labels: { role: k8s-node } }
    strategy: { kind: rolling-reboot }
    windows: [later]
    scheduled: false
  - name: web
    owner: web
    match: { labels: { role: stateless } }
    strategy: { kind: replace, image: { id: ami-0new, built: "${BUILT}" }, provisionHook: /bin/true, retireHook: /bin/true }
    windows: [later]
    scheduled: false
  - name: physical
    owner: infrastructure
    match: { labels: { role: colo } }
    strategy: { kind: manual, noticeDays: 14, notifyTeams: [web], checklist: ${JSON.stringify(CHECKLIST)} }
    windows: [now]
    maxInFlight: 2
    scheduled: false
`;

interface Checklist { confirmed: number; of: number; next?: { step: number; item: string } }
interface RolloutHost { host: string; state: string; job?: { step: string; executor: string; fetchedAt?: string }; checklist?: Checklist }
interface Rollout { id: number; state: string; hosts: RolloutHost[]; events: Array<{ kind: string; host?: string; actor: string; detail?: string }> }
interface BaselineImage { bucket: string; image: { id: string; built: string }; ageDays: number; hosts: number; onBaseline: number; onOther: number; unreported: number; otherImages: Array<{ id: string; hosts: number }> }

describe('strategy pages in Chromium', () => {
  let fleet: PlanFleet;
  let browser: Browser;
  let page: Page;
  let hook = '';
  const ids: Record<string, number> = {};
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const rollout = async (bucket: string) => (await fleet.get<Rollout>(`/api/v1/rollouts/${ids[bucket]}`)).body;
  async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    for (let attempt = 0; attempt < 300; attempt++) {
      const value = await check();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const open = async (bucket: string) => {
    await page.goto(`${fleet.server.url}/#/rollouts/${ids[bucket]}`);
    await page.getByTestId('rollout-hosts').waitFor();
  };

  beforeAll(async () => {
    const chromiumBinary = requireTool('chromium');
    console.info(`strategy page screenshots: ${SCREENSHOTS}`);
    // The hook blocks in whichever step comes first, so its job stays running under the test.
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-strategy-hook-'));
    hook = join(directory, 'patch-host.sh');
    writeFileSync(hook, '#!/bin/sh\nexec sleep 600\n');
    chmodSync(hook, 0o755);
    fleet = await startPlanFleet();
    const packages = parseInventory({ text: readFileSync(sharedData('inventories/debian12-node-image/dpkg-status'), 'utf8'), fileName: 'dpkg-status', format: 'dpkg-status', osEcosystem: 'Debian:12' }).packages;
    for (const [hostname, labels] of Object.entries(EXTRA_HOSTS)) {
      const checkIn = fullCheckInOf({ hostname, osEcosystem: 'Debian:12', arch: 'amd64', packages, kernel: { running: '6.1.0-18-amd64', installed: [] }, rebootRequired: false, labels });
      expect((await fleet.send('PUT', `/api/v1/hosts/${hostname}/inventory`, checkIn)).status).toBe(200);
    }
    expect((await fleet.send('PUT', '/api/v1/policy', { text: policy(hook), message: 'one bucket per strategy' })).status).toBe(201);
    for (const bucket of ['databases', 'nodes', 'web', 'physical']) {
      const created = await fleet.send<{ id: number }>('POST', '/api/v1/rollouts', { bucket, reason: 'monthly patching' });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      ids[bucket] = created.body.id;
    }
    await until('the physical hosts to await their operator', async () => ((await rollout('physical')).hosts.every((host) => host.state === 'awaiting-operator') ? true : undefined));
    await until('a job running through the hook', async () => ((await rollout('databases')).hosts.some((host) => host.job?.fetchedAt) ? true : undefined));
    browser = await launchChromium(chromiumBinary);
    page = await watchedPage(browser, dialogs, pageErrors);
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
    });
    await page.goto(`${fleet.server.url}/#/rollouts?token=${fleet.token}`);
    await page.getByTestId('rollout-list').waitFor();
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
  });

  it('names each rollout\'s strategy and executor', async () => {
    const web = (await fleet.get<{ settings: { strategy: { minHealthy: number } } }>(`/api/v1/rollouts/${ids.web}`)).body.settings.strategy.minHealthy;
    const expected: Record<string, [string, string]> = {
      databases: [`in place · command hook ${hook}`, 'each step at most 30 min'],
      nodes: ['rolling reboot · Kubernetes API', 'drain within 30 min (stuck after 10 min) · the OS updated by the agent'],
      web: [`replace · image ami-0new (built ${BUILT})`, `at least ${web} host${web === 1 ? '' : 's'} serving · warm-up 5 min · provision /bin/true · retire /bin/true · image label image-id`],
      physical: ['manual · 14 days\' notice', 'a 3-step checklist per host · also told: web'],
    };
    for (const [bucket, [summary, detail]] of Object.entries(expected)) {
      await open(bucket);
      expect(await page.getByTestId('rollout-strategy-summary').textContent(), bucket).toBe(summary);
      expect(await page.getByTestId('rollout-strategy-detail').textContent(), bucket).toBe(detail);
    }
    // Only a manual window lists its checklist.
    expect(await page.getByTestId('rollout-checklist').locator('li').allTextContents()).toEqual(CHECKLIST);
    await open('nodes');
    expect(await page.getByTestId('rollout-checklist').count()).toBe(0);
  });

  it('shows who runs a host\'s job, and colours a step in flight apart from a host waiting on a person', async () => {
    await open('databases');
    const running = (await rollout('databases')).hosts.find((host) => host.job?.fetchedAt)!;
    expect(running.job!.executor).toBe('command-hook');
    const row = page.getByTestId(`rollout-host-${running.host}`);
    expect(await row.getByTestId('host-job').textContent()).toMatch(new RegExp(`^${running.job!.step} running through the command hook `));
    const inFlight = await row.locator('.state-dot').evaluate((dot) => getComputedStyle(dot).backgroundColor);
    expect(inFlight).toBe('rgb(124, 183, 255)');
    // An in-place rollout has no checklist column.
    expect(await page.getByTestId('host-checklist').count()).toBe(0);
    await page.screenshot({ path: join(SCREENSHOTS, 'in-place-command-hook.png'), fullPage: true });

    await open('physical');
    expect(await page.getByTestId('wave-1-states-text').textContent()).toBe('2 awaiting-operator');
    expect(await page.getByTestId('wave-1-states').locator('.state-bar span').getAttribute('title')).toBe('2 waiting on a person');
    const waiting = await page.getByTestId('rollout-host-colo-1').locator('.state-dot').evaluate((dot) => getComputedStyle(dot).backgroundColor);
    expect(waiting).toBe('rgb(199, 139, 255)');
  });

  it('shows each manual host\'s checklist and confirms its next step from the page, audited', async () => {
    await open('physical');
    for (const host of ['colo-1', 'colo-2']) {
      const row = page.getByTestId(`rollout-host-${host}`);
      expect(await row.getByTestId('checklist-confirmed').textContent()).toBe('0 of 3 confirmed');
      expect(await row.getByTestId('checklist-next').textContent()).toBe(`next: 1. ${CHECKLIST[0]}`);
      expect(await row.getByTestId(`confirm-${host}-button`).textContent()).toBe('confirm step 1');
    }
    const row = page.getByTestId('rollout-host-colo-1');
    await row.getByTestId('confirm-colo-1-button').click();
    expect(await row.getByTestId('confirm-colo-1-reason').getAttribute('placeholder')).toBe('what was done?');
    await row.getByTestId('confirm-colo-1-reason').fill('acknowledged in #ops by web and data-platform');
    await row.getByTestId('confirm-colo-1-confirm').click();
    await row.getByTestId('checklist-confirmed').filter({ hasText: '1 of 3 confirmed' }).waitFor();
    expect(await row.getByTestId('checklist-next').textContent()).toBe(`next: 2. ${CHECKLIST[1]}`);
    expect(await row.getByTestId('confirm-colo-1-button').textContent()).toBe('confirm step 2');
    expect(await page.getByTestId('rollout-host-colo-2').getByTestId('checklist-confirmed').textContent()).toBe('0 of 3 confirmed');

    const shown = await rollout('physical');
    expect(shown.hosts.find((host) => host.host === 'colo-1')!.checklist).toEqual({ confirmed: 1, of: 3, next: { step: 2, item: CHECKLIST[1] } });
    expect(shown.events.at(-1)).toMatchObject({ kind: 'confirm', host: 'colo-1', actor: 'token:initial admin', detail: `step 1 of 3: ${CHECKLIST[0]} (acknowledged in #ops by web and data-platform)` });
    const audit = await fleet.database.pool.query<{ entry: string }>("SELECT entry FROM audit_log WHERE action = 'rollout.host.confirm' ORDER BY seq");
    expect(audit.rows.map((row) => JSON.parse(row.entry))).toMatchObject([{
      actor: 'token:initial admin', subject: `rollout:${ids.physical}/host:colo-1`, reason: 'acknowledged in #ops by web and data-platform', details: { step: 1, of: 3, item: CHECKLIST[0] },
    }]);
    expect(await page.getByTestId('rollout-timeline').getByTestId('timeline-kind').first().textContent()).toBe('confirm');
    await page.screenshot({ path: join(SCREENSHOTS, 'manual-window.png'), fullPage: true });
  });

  it('prints the strategy line and the checklist progress in rollout show', async () => {
    const env = { DATABASE_URL: fleet.database.connectionString };
    const manual = await runCli(['rollout', 'show', String(ids.physical)], env);
    expect(manual.code, manual.stderr).toBe(0);
    expect(manual.stdout).toContain('\nstrategy: manual · 14 days\' notice · a 3-step checklist per host · also told: web\n');
    expect(manual.stdout).toContain(`\nchecklist (confirmed in order for each host):\n  1. ${CHECKLIST[0]}\n  2. ${CHECKLIST[1]}\n  3. ${CHECKLIST[2]}\n`);
    expect(manual.stdout).toMatch(/^\s*HOST\s.*\sCHECKLIST\s/m);
    expect(manual.stdout).toMatch(new RegExp(`^colo-1\\s.*\\s1 of 3, next 2: ${CHECKLIST[1]}`, 'm'));
    // A long step is cut to the column's width.
    expect(manual.stdout).toMatch(new RegExp(`^colo-2\\s.*\\s0 of 3, next 1: ${CHECKLIST[0]!.slice(0, 30)}`, 'm'));
    const hooked = await runCli(['rollout', 'show', String(ids.databases)], env);
    expect(hooked.stdout).toContain(`\nstrategy: in place · command hook ${hook}\n`);
    expect(hooked.stdout).toMatch(/ fetched \(command hook\)/);
    expect(hooked.stdout).not.toContain('CHECKLIST');
    const nodes = await runCli(['rollout', 'show', String(ids.nodes)], env);
    expect(nodes.stdout).toContain('\nstrategy: rolling reboot · Kubernetes API · drain within 30m (stuck after 10m) · the OS updated by the agent\n');
  });

  it('reads a stuck drain in words', async () => {
    // As the engine pauses a rolling reboot whose drain PodDisruptionBudgets keep blocked.
    await fleet.database.pool.query("UPDATE rollouts SET state = 'paused', pause_reason = 'drain-stuck', reason = 'node-2: drain failed: blocked by a PodDisruptionBudget' WHERE id = $1", [ids.nodes]);
    await open('nodes');
    const state = page.getByTestId('rollout-state');
    expect(await state.textContent()).toBe('paused (drain stuck)');
    expect(await state.getAttribute('title')).toMatch(/^a node's drain stayed blocked/);
    expect(await page.getByTestId('resume-button').count()).toBe(1);
  });

  it('draws the baseline image of each replace bucket with its age on the overview', async () => {
    const images = (await fleet.get<{ buckets: BaselineImage[] }>('/api/v1/images')).body;
    // web-1 and web-2 (the plan fleet's) report no image.
    expect(images.buckets).toEqual([{
      bucket: 'web', owner: 'web', imageFact: 'image-id', image: { id: 'ami-0new', built: BUILT }, ageDays: AGE_DAYS,
      hosts: 5, onBaseline: 2, onOther: 1, unreported: 2, otherImages: [{ id: 'ami-0old', hosts: 1 }],
    }]);
    await page.goto(`${fleet.server.url}/#/`);
    const chart = page.getByTestId('chart-baseline-images');
    await chart.waitFor();
    const bar = chart.getByTestId('baseline-image-web');
    expect(await bar.locator('rect').count()).toBe(3);
    expect(await bar.locator('rect title').allTextContents()).toEqual(['web: 2 hosts on the baseline image', 'web: 1 host on another image', 'web: 2 hosts no image reported']);
    const widths = await bar.locator('rect').evaluateAll((rects) => rects.map((rect) => rect.getBoundingClientRect().width));
    expect(widths[0]! / widths[1]!).toBeGreaterThan(1.7);
    const text = bar.getByTestId('baseline-image-text');
    expect(await text.textContent()).toBe(`2 of 5 on ami-0new · built ${BUILT} · ${AGE_DAYS} d old`);
    expect(await text.getAttribute('class')).toBe('value warn');
    const row = chart.getByTestId('chart-baseline-images-table').getByTestId('row-web');
    expect(await row.getByTestId('age-days').textContent()).toBe(String(AGE_DAYS));
    expect([await row.getByTestId('onBaseline').textContent(), await row.getByTestId('onOther').textContent(), await row.getByTestId('unreported').textContent()]).toEqual(['2', '1', '2']);
    expect(await row.getByTestId('other-images').textContent()).toBe('ami-0old (1)');
    await chart.screenshot({ path: join(SCREENSHOTS, 'baseline-images.png') });
  });

  it('raised no page error, console error or dialog', () => {
    expect(pageErrors).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
