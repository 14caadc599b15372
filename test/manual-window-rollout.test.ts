// The manual strategy in a real server on a real PostgreSQL, on an injected clock, with simulated
// physical hosts speaking the agent protocol: the policy's schedule makes the rollout 14 days
// before the monthly window and announces it to the owner and the dependent teams (loopback Slack
// receivers), reminds them the day before, admits the hosts when the window opens; an operator
// confirms one host's checklist step by step (refused out of order; every confirmation audited)
// and patches it by hand, which its check-in verifies; the other host's window passes unfinished
// and the owner is paged (a loopback PagerDuty).
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import type { InstalledPackage } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { SimulatedHost } from '../src/simulator/simulated-agent.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const ADVISORY = advisoryFromOsv({
  id: 'DSA-9200-1', modified: '2026-11-01T00:00:00Z', published: '2026-11-01T00:00:00Z', summary: 'libfp: heap overflow',
  affected: [{ package: { ecosystem: 'Debian:12', name: 'libfp' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1' }] }] }],
}, { file: 'test' });
const CHECKLIST = ['Confirm the dependent teams acknowledged the downtime', 'Drain traffic at the load balancer', 'Run apt-get upgrade', 'Reboot and check the services', 'Put the host back behind the load balancer'];
const packages: InstalledPackage[] = [{ ecosystem: 'Debian:12', name: 'libfp1', version: '1.0-1', arch: 'amd64', sourceName: 'libfp', sourceVersion: '1.0-1' }];

interface Received { path: string; body: { text?: string; event_action?: string; dedup_key?: string; payload?: { summary: string; severity: string } } }

describe('a manual patch window', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let clock = new Date('2026-12-01T09:00:00Z');
  let token = '';
  const received: Received[] = [];
  const receiver = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: JSON.parse(body) });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success"}');
    });
  });
  const hosts: SimulatedHost[] = [];

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, body: (await response.json()) as T };
  };
  interface View { id: number; state: string; hosts: Array<{ host: string; state: string; lastError?: string }>; events: Array<{ kind: string; detail?: string; actor: string }> }
  /** Moves the clock, lets the hosts check in and the server pass, until `done` holds (bounded). */
  async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
    for (let round = 0; round < 400; round++) {
      for (const host of hosts) await host.checkIn();
      const value = await check();
      if (value !== undefined) return value;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const slack = (path: string) => received.filter((message) => message.path === path).map((message) => message.body.text ?? '');

  beforeAll(async () => {
    database = await createTestDatabase();
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    process.env.FP_TEST_SLACK_INFRA = `${base}/slack/infrastructure`;
    process.env.FP_TEST_SLACK_WEB = `${base}/slack/web`;
    process.env.FP_TEST_PAGERDUTY = 'R0UTINGKEY0000000000000000000000';
    const home = mkdtempSync(join(tmpdir(), 'fleetpatch-manual-'));
    chmodSync(home, 0o755);
    const policyFile = join(home, 'fleetpatch.yaml');
    writeFileSync(policyFile, `version: 1
windows:
  monthly-physical: { timeZone: UTC, every: month, day: 20, start: "08:00", duration: 4h }
buckets:
  - name: physical
    owner: infrastructure
    match: { labels: { location: colo } }
    strategy:
      kind: manual
      noticeDays: 14
      notifyTeams: [web]
      checklist: ${JSON.stringify(CHECKLIST)}
    windows: [monthly-physical]
    maxInFlight: 2
    errorBudget: 2
    expectedHostDuration: 90m
fallback: { bucket: leftovers, owner: sre }
notifications:
  receivers:
    infrastructure-channel: { kind: slack, urlEnv: FP_TEST_SLACK_INFRA }
    web-channel: { kind: slack, urlEnv: FP_TEST_SLACK_WEB }
    infrastructure-on-call: { kind: pagerduty, routingKeyEnv: FP_TEST_PAGERDUTY, url: "${base}/v2/enqueue" }
  routes:
    - { match: { kinds: [window-announced, window-reminder], teams: [infrastructure] }, receiver: infrastructure-channel, as: info }
    - { match: { kinds: [window-announced, window-reminder], teams: [web] }, receiver: web-channel, as: info }
    - { match: { kinds: [window-missed] }, receiver: infrastructure-on-call, as: page }
`);
    server = await runServer({
      port: 0, host: '127.0.0.1', home, databaseUrl: database.connectionString, staleAfterSeconds: 30 * 86_400, openAdvisoryFeed: () => new MemoryFeed('test', [ADVISORY]),
      syncIntervalSeconds: 0, policyFile, policyPollMs: 0, log: () => undefined, now: () => clock, rolloutEngine: { passIntervalMs: 10, leaseMs: 600_000, scheduleIntervalMs: 20 },
    });
    token = server.firstStart!.adminToken;
    for (const name of ['colo-1', 'colo-2']) hosts.push(new SimulatedHost({ serverUrl: server.url, token, name, labels: { location: 'colo' }, os: { id: 'debian', idLike: [], versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' }, osEcosystem: 'Debian:12', packages, now: () => clock }));
    for (const host of hosts) await host.checkIn();
    await server.syncAdvisories();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    receiver.close();
    await database?.drop();
  });

  it('announces 14 days ahead, reminds the day before, waits for the checklist, and pages when the window passes unfinished', async () => {
    const rollouts = async () => (await api<Array<{ id: number; state: string }>>('GET', '/api/v1/rollouts')).body;
    // Nineteen days ahead: nothing yet.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await rollouts()).toEqual([]);

    // Fourteen days before the window: made and announced, to the owner and to the dependent team.
    clock = new Date('2026-12-06T08:00:05Z');
    const id = await until('the announced rollout', async () => (await rollouts())[0]?.id);
    await until('the announcements', async () => (slack('/slack/infrastructure').length >= 1 && slack('/slack/web').length >= 1 ? true : undefined));
    expect(slack('/slack/infrastructure')[0]).toMatch(/hosts are patched by hand in the window starting 2026-12-20T08:00:00.000Z/);
    expect(slack('/slack/web')[0]).toMatch(/1\. Confirm the dependent teams acknowledged the downtime/);
    expect((await api<View>('GET', `/api/v1/rollouts/${id}`)).body.state).toBe('waiting-for-window');

    // The day before: one reminder each, not one per pass.
    clock = new Date('2026-12-19T08:00:05Z');
    await until('the reminders', async () => (slack('/slack/web').length >= 2 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(slack('/slack/web')).toHaveLength(2);
    expect(slack('/slack/web')[1]).toMatch(/tomorrow's manual patch window/);

    // The window opens: both hosts wait for their operator.
    clock = new Date('2026-12-20T08:00:05Z');
    await until('the hosts to await their operator', async () => {
      const view = (await api<View>('GET', `/api/v1/rollouts/${id}`)).body;
      return view.hosts.every((host) => host.state === 'awaiting-operator') ? view : undefined;
    });
    const confirm = (host: string, step: number, reason: string) => api<{ confirmed?: number; error?: { message: string } }>('POST', `/api/v1/rollouts/${id}/hosts/${host}/checklist/${step}`, { reason });
    const early = await confirm('colo-1', 2, 'skipping ahead');
    expect(early.status).toBe(409);
    expect(early.body.error!.message).toMatch(/step 1 of colo-1 comes first: "Confirm the dependent teams acknowledged the downtime"/);
    for (let step = 1; step <= 5; step++) {
      if (step === 4) await hosts[0]!.patchByHand([{ name: 'libfp1', version: '1.1-1' }]);
      expect((await confirm('colo-1', step, `done: step ${step}`)).body.confirmed).toBe(step);
    }
    for (let step = 1; step <= 2; step++) await confirm('colo-2', step, `done: step ${step}`);
    await until('colo-1 to succeed', async () => ((await api<View>('GET', `/api/v1/rollouts/${id}`)).body.hosts[0]!.state === 'succeeded' ? true : undefined));

    // The window ends with colo-2 two steps in: timed out, and the owner is paged.
    clock = new Date('2026-12-20T12:00:05Z');
    const final = await until('the rollout to end', async () => {
      const view = (await api<View>('GET', `/api/v1/rollouts/${id}`)).body;
      return view.state === 'completed-with-errors' ? view : undefined;
    });
    expect(final.hosts.map((host) => [host.host, host.state])).toEqual([['colo-1', 'succeeded'], ['colo-2', 'timed-out']]);
    expect(final.hosts[1]!.lastError).toBe('the window ended with 2 of 5 checklist steps confirmed (next: Run apt-get upgrade)');
    const page = await until('the page', async () => received.find((message) => message.path === '/v2/enqueue'));
    expect(page.body).toMatchObject({ event_action: 'trigger', dedup_key: `fleetpatch:rollout:${id}:host:colo-2`, payload: { severity: 'critical', summary: expect.stringMatching(/colo-2 \(physical\): the window ended with 2 of 5/) } });
    // Every confirmation is in the audit log and on the timeline, with who and what.
    const audit = await database.pool.query<{ entry: string }>("SELECT entry FROM audit_log WHERE action = 'rollout.host.confirm' ORDER BY seq");
    expect(audit.rows.map((row) => (JSON.parse(row.entry) as { details: { step: number } }).details.step)).toEqual([1, 2, 3, 4, 5, 1, 2]);
    expect(final.events.filter((event) => event.kind === 'confirm').map((event) => event.detail)).toContain('step 3 of 5: Run apt-get upgrade (done: step 3)');
    const findings = await database.pool.query<{ host: string; state: string }>("SELECT h.name AS host, f.state FROM findings f JOIN hosts h ON h.key = f.host_key ORDER BY h.name");
    expect(findings.rows).toEqual([{ host: 'colo-1', state: 'fixed' }, { host: 'colo-2', state: 'vulnerable' }]);
  }, 180_000);
});
