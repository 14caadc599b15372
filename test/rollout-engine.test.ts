// The rollout engine inside a real server on a real PostgreSQL, driving simulated hosts that
// speak the agent protocol over HTTP (src/simulator/simulated-agent.ts), on an injected clock:
// waves [1, "25%", "100%"] with maxInFlight 2, a post-check that fails on one host halts the
// rollout on its budget and rolls that host back, every job key runs once, findings resolve on
// the patched hosts; a reboot that never returns is reboot-stuck at the timeout; a window that
// closes mid-rollout lets started hosts finish and admits nobody new; a freeze admits nobody.
import { mkdtempSync, chmodSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import type { InstalledPackage } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { SimulatedHost } from '../src/simulator/simulated-agent.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

// High (8.1), not critical: a critical one would open an incident whose emergency rollout takes the
// bucket (test/incident-emergency.test.ts); these tests drive the routine rollouts.
const ADVISORY = advisoryFromOsv({
  id: 'DSA-9100-1', modified: '2026-11-01T00:00:00Z', published: '2026-11-01T00:00:00Z', summary: 'libfp: heap overflow',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
  affected: [{ package: { ecosystem: 'Debian:12', name: 'libfp' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1' }] }] }],
}, { file: 'test' });

const policy = (freeze = '', notifications = '', scheduled = false) => `version: 1
windows:
  evenings: { timeZone: UTC, every: day, start: "22:00", duration: 3h, admissionCutoff: 30m }
buckets:
  - name: databases
    owner: data-platform
    match: { labels: { role: database } }
    strategy: { kind: in-place }
    windows: [evenings]
    scheduled: ${scheduled}
    waves: [1, "25%", "100%"]
    maxInFlight: 2
    errorBudget: 0
    reboot: { policy: always, timeout: 5m, onTimeout: page }
    expectedHostDuration: 10m
    checks:
      pre: [{ name: replication-healthy, command: "patch-host.sh --pre-check" }]
      post: [{ name: replication-healthy, command: "patch-host.sh --post-check" }]
fallback: { bucket: leftovers, owner: sre }
${freeze}${notifications}`;

const packages = (version: string): InstalledPackage[] => [
  { ecosystem: 'Debian:12', name: 'libfp1', version, arch: 'amd64', sourceName: 'libfp', sourceVersion: version },
  { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64', sourceName: 'bash', sourceVersion: '5.2.15-2' },
];
const OS = { id: 'debian', idLike: [], versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' };

describe('the rollout engine on simulated hosts', () => {
  let database: TestDatabase;
  let server: RunningServer | undefined;
  let clock = new Date('2026-12-01T22:05:00Z');
  let token = '';
  const logs: string[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  afterAll(async () => database?.drop());

  async function start(policyText: string): Promise<RunningServer> {
    const home = mkdtempSync(join(tmpdir(), 'fleetpatch-rollout-'));
    chmodSync(home, 0o755);
    const policyFile = join(home, 'fleetpatch.yaml');
    writeFileSync(policyFile, policyText);
    await database.pool.query('TRUNCATE rollout_events, rollout_jobs, rollout_hosts, gate_measurements, rollouts, hosts, findings, notification_outbox RESTART IDENTITY CASCADE');
    server = await runServer({
      port: 0, host: '127.0.0.1', home, databaseUrl: database.connectionString, staleAfterSeconds: 3600, openAdvisoryFeed: () => new MemoryFeed('test', [ADVISORY]),
      syncIntervalSeconds: 0, policyFile, policyPollMs: 0, log: (line) => logs.push(line), now: () => clock, rolloutEngine: { passIntervalMs: 10, leaseMs: 600_000, scheduleIntervalMs: 20 },
    });
    token = server.firstStart?.adminToken ?? token;
    return server;
  }

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server!.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, body: (await response.json()) as T };
  };

  async function fleet(count: number, special: Record<string, Partial<ConstructorParameters<typeof SimulatedHost>[0]>> = {}): Promise<SimulatedHost[]> {
    const hosts = Array.from({ length: count }, (_, index) => new SimulatedHost({
      serverUrl: server!.url, token, name: `db-${index}`, labels: { role: 'database', ...(index === 0 ? { canary: 'true' } : {}) }, os: OS, osEcosystem: 'Debian:12',
      packages: packages('1.0-1'), now: () => clock, ...special[`db-${index}`],
    }));
    for (const host of hosts) await host.checkIn();
    await server!.syncAdvisories();
    return hosts;
  }

  interface RolloutView { state: string; haltReason?: string; pauseReason?: string; currentWave: number; hosts: Array<{ host: string; wave: number; state: string; lastError?: string }> }
  const show = async (id: number) => (await api<RolloutView>('GET', `/api/v1/rollouts/${id}`)).body;

  /** Lets the hosts work and the engine pass until `done` holds (bounded). */
  async function drive(hosts: SimulatedHost[], id: number, done: (rollout: RolloutView) => boolean, rounds = 300, stepMs = 0): Promise<RolloutView> {
    for (let round = 0; round < rounds; round++) {
      clock = new Date(clock.getTime() + stepMs);
      for (const host of hosts) await host.work();
      await new Promise((resolve) => setTimeout(resolve, 15));
      const rollout = await show(id);
      if (done(rollout)) return rollout;
    }
    throw new Error(`rollout ${id} did not get there: ${JSON.stringify(await show(id))}`);
  }
  const waitUntil = async (check: () => boolean) => {
    for (let tries = 0; tries < 200 && !check(); tries++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(check()).toBe(true);
  };
  const states = (rollout: RolloutView) => Object.fromEntries(rollout.hosts.map((host) => [host.host, host.state]));

  it('patches in waves within maxInFlight, halts on the budget when a post-check fails, and rolls that host back', async () => {
    clock = new Date('2026-12-01T22:05:00Z');
    await start(policy());
    const hosts = await fleet(10, { 'db-3': { failStep: 'post-check' } });
    const dryRun = await api<{ waves: Array<{ wave: number; hosts: string[] }>; snapshot: unknown[] }>('POST', '/api/v1/rollouts', { bucket: 'databases', dryRun: true });
    expect(dryRun.status, JSON.stringify(dryRun.body)).toBe(200);
    expect(dryRun.body.waves).toEqual([{ wave: 1, hosts: ['db-0'] }, { wave: 2, hosts: ['db-1', 'db-2', 'db-3'] }, { wave: 3, hosts: ['db-4', 'db-5', 'db-6', 'db-7', 'db-8', 'db-9'] }]);
    expect(dryRun.body.snapshot).toEqual([{ name: 'libfp1', version: '1.1-1' }]);
    // A rollout of part of the bucket: by label, or by name.
    const canaries = await api<{ waves: Array<{ hosts: string[] }> }>('POST', '/api/v1/rollouts', { bucket: 'databases', labels: { canary: 'true' }, dryRun: true });
    expect(canaries.body.waves.flatMap((wave) => wave.hosts)).toEqual(['db-0']);
    const named = await api<{ waves: Array<{ hosts: string[] }> }>('POST', '/api/v1/rollouts', { bucket: 'databases', hosts: ['db-6', 'db-5'], dryRun: true });
    expect(named.body.waves.flatMap((wave) => wave.hosts)).toEqual(['db-5', 'db-6']);
    const created = await api<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'databases', reason: 'DSA-9100-1' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);

    let maxInFlight = 0;
    const inFlight = new Set(['notified', 'pre-check', 'applying', 'rebooting', 'awaiting-return', 'post-check', 'monitoring', 'rolling-back']);
    const final = await drive(hosts, created.body.id, (rollout) => {
      maxInFlight = Math.max(maxInFlight, rollout.hosts.filter((host) => inFlight.has(host.state)).length);
      return rollout.state === 'halted' && rollout.hosts.every((host) => !inFlight.has(host.state));
    });
    expect(final.haltReason).toBe('budget-spent');
    expect(states(final)).toMatchObject({ 'db-0': 'succeeded', 'db-1': 'succeeded', 'db-2': 'succeeded', 'db-3': 'rolled-back' });
    // The third wave never started.
    expect(final.hosts.filter((host) => host.wave === 3).map((host) => host.state)).toEqual(Array(6).fill('pending'));
    expect(maxInFlight).toBeLessThanOrEqual(2);
    expect(hosts[3]!.installed.libfp1).toBe('1.0-1');
    expect(hosts[1]!.installed.libfp1).toBe('1.1-1');
    // Every step ran exactly once per host.
    for (const host of hosts) expect(new Set(host.executed).size, host.name).toBe(host.executed.length);
    expect(hosts[1]!.executed.map((key) => key.split(':')[2])).toEqual(['pre-check', 'upgrade', 'reboot', 'post-check']);
    expect(hosts[3]!.executed.map((key) => key.split(':')[2])).toEqual(['pre-check', 'upgrade', 'reboot', 'post-check', 'rollback']);
    const findings = await database.pool.query<{ host: string; state: string }>("SELECT h.name AS host, f.state FROM findings f JOIN hosts h ON h.key = f.host_key JOIN advisories a ON a.key = f.advisory_key WHERE a.id = 'DSA-9100-1' ORDER BY h.name");
    const findingState = Object.fromEntries(findings.rows.map((row) => [row.host, row.state]));
    expect(findingState).toMatchObject({ 'db-0': 'fixed', 'db-1': 'fixed', 'db-3': 'vulnerable', 'db-9': 'vulnerable' });
    // /metrics: rollout hosts by state, halts by reason, bounded labels only.
    const metrics = await (await fetch(`${server!.url}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(metrics).toContain('fleetpatch_rollouts{bucket="databases",state="halted"} 1');
    expect(metrics).toContain('fleetpatch_rollout_hosts{bucket="databases",state="rolled-back"} 1');
    expect(metrics).toContain('fleetpatch_rollout_hosts{bucket="databases",state="pending"} 6');
    expect(metrics).toContain('fleetpatch_rollout_halts_total{bucket="databases",reason="budget-spent"} 1');
    expect(metrics).toMatch(/fleetpatch_rollout_host_transitions_total\{bucket="databases",to="succeeded"\} 3/);
    // Operators: resume after the halt carries the rollout on to the last wave.
    const resumed = await api<{ state: string }>('POST', `/api/v1/rollouts/${created.body.id}/resume`, { reason: 'db-3 investigated' });
    expect(resumed.body.state).toBe('running');
    const audit = await database.pool.query<{ action: string }>("SELECT action FROM audit_log WHERE action LIKE 'rollout.%' ORDER BY seq");
    expect(audit.rows.map((row) => row.action)).toEqual(['rollout.created', 'rollout.resume']);
  }, 120_000);

  it('declares a host that never comes back from its reboot reboot-stuck at the timeout, and pages through PagerDuty Events v2, retried after a 500', async () => {
    // A loopback PagerDuty: the first request answers 500, the next ones 202.
    const pages: Array<{ routing_key: string; event_action: string; dedup_key: string; payload: { summary: string; severity: string } }> = [];
    let answered = 0;
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        pages.push(JSON.parse(body));
        response.writeHead(answered++ === 0 ? 500 : 202, { 'content-type': 'application/json' }).end('{"status":"success"}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    process.env.FP_TEST_PAGERDUTY_KEY = 'R0UTINGKEY0000000000000000000000';
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v2/enqueue`;
    clock = new Date('2026-12-01T22:05:00Z');
    await start(policy('', `notifications:
  receivers:
    on-call: { kind: pagerduty, routingKeyEnv: FP_TEST_PAGERDUTY_KEY, url: "${url}" }
  routes:
    - { match: { kinds: [reboot-stuck, host-silent] }, receiver: on-call, as: page }
`));
    const hosts = await fleet(1, { 'db-0': { neverReturns: true } });
    const created = await api<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'databases' });
    const away = await drive(hosts, created.body.id, (rollout) => rollout.hosts[0]!.state === 'awaiting-return');
    expect(away.state).toBe('running');
    clock = new Date(clock.getTime() + 6 * 60_000);
    const stuck = await drive(hosts, created.body.id, (rollout) => rollout.hosts[0]!.state === 'reboot-stuck');
    expect(stuck.hosts[0]!.lastError).toMatch(/no check-in with a new boot id within 300 s/);
    expect(logs.some((line) => /did not come back from its reboot/.test(line))).toBe(true);
    try {
      await waitUntil(() => pages.length >= 1);
      // The 500 is retried after the backoff (30 s and jitter on the injected clock), counted from
      // when the dispatcher recorded the answer: the clock moves on only after that.
      let attempts = 0;
      for (let tries = 0; tries < 200 && attempts < 1; tries++) {
        attempts = (await database.pool.query<{ attempts: number }>("SELECT attempts FROM notification_outbox WHERE kind = 'reboot-stuck'")).rows[0]?.attempts ?? 0;
        if (attempts < 1) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(attempts).toBe(1);
      clock = new Date(clock.getTime() + 60_000);
      await waitUntil(() => pages.length >= 2);
      expect(pages.map((page) => page.dedup_key)).toEqual([`fleetpatch:rollout:${created.body.id}:host:db-0`, `fleetpatch:rollout:${created.body.id}:host:db-0`]);
      expect(pages[1]).toMatchObject({ routing_key: 'R0UTINGKEY0000000000000000000000', event_action: 'trigger', payload: { severity: 'critical', summary: expect.stringMatching(/db-0 did not come back from its reboot/) } });
      // The dispatcher records the delivery once the receiver has answered.
      let deliveries: Array<{ kind: string; state: string; attempts: number }> = [];
      const delivered = () => deliveries.find((row) => row.kind === 'reboot-stuck')?.state === 'delivered';
      for (let tries = 0; tries < 100 && !delivered(); tries++) {
        deliveries = (await database.pool.query<{ kind: string; state: string; attempts: number }>('SELECT kind, state, attempts FROM notification_outbox ORDER BY id')).rows;
        if (!delivered()) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // The silence while it rebooted was expected: recorded, never sent; the stuck reboot paged.
      expect(deliveries).toEqual([{ kind: 'host-silent', state: 'suppressed', attempts: 0 }, { kind: 'reboot-stuck', state: 'delivered', attempts: 2 }]);
    } finally {
      receiver.close();
    }
  }, 120_000);

  it('starts one rollout per window occurrence of a scheduled bucket, and none while one is under way', async () => {
    clock = new Date('2026-12-01T21:50:00Z');
    await start(policy('', '', true));
    const hosts = await fleet(2);
    const listed = async () => (await api<Array<{ id: number; origin: string; windowName?: string; occurrenceStart?: string; state: string }>>('GET', '/api/v1/rollouts')).body;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await listed()).toEqual([]);
    clock = new Date('2026-12-01T22:01:00Z');
    await waitUntil(() => logs.some((line) => line.startsWith('the schedule started rollout')));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [scheduled, ...others] = await listed();
    expect(others).toEqual([]);
    expect(scheduled).toMatchObject({ origin: 'schedule', windowName: 'evenings', occurrenceStart: '2026-12-01T22:00:00.000Z' });
    // An operator's rollout of the same bucket waits for this one.
    expect((await api<{ error: { code: string } }>('POST', '/api/v1/rollouts', { bucket: 'databases' })).body.error.code).toBe('rollout-conflict');
    const done = await drive(hosts, scheduled!.id, (rollout) => rollout.state === 'succeeded');
    expect(states(done)).toEqual({ 'db-0': 'succeeded', 'db-1': 'succeeded' });
    // The same occurrence never starts a second one, even with nothing under way.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await listed()).toHaveLength(1);
  }, 120_000);

  it('learns how long a host takes from the bucket\'s past rollouts, in place of the policy\'s seed', async () => {
    clock = new Date('2026-12-01T22:05:00Z');
    await start(policy());
    const hosts = await fleet(6);
    const seed = await api<{ settings: { expectedHostMs: number } }>('POST', '/api/v1/rollouts', { bucket: 'databases', dryRun: true });
    expect(seed.body.settings.expectedHostMs).toBe(15 * 60_000);
    const created = await api<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'databases' });
    // Each round of host work takes ten seconds of the injected clock.
    await drive(hosts, created.body.id, (rollout) => rollout.state === 'succeeded', 300, 10_000);
    const durations = await database.pool.query<{ ms: number }>(`SELECT (extract(epoch FROM s.at - n.at) * 1000)::float8 AS ms FROM rollout_events n JOIN rollout_events s ON s.host = n.host AND s.to_state = 'succeeded' WHERE n.to_state = 'notified' ORDER BY ms`);
    expect(durations.rows).toHaveLength(6);
    // A newcomer that needs the fix: the next rollout's draft.
    await new SimulatedHost({ serverUrl: server!.url, token, name: 'db-new', labels: { role: 'database' }, os: OS, osEcosystem: 'Debian:12', packages: packages('1.0-1'), now: () => clock }).checkIn();
    await server!.syncAdvisories();
    const learned = await api<{ settings: { expectedHostMs: number } }>('POST', '/api/v1/rollouts', { bucket: 'databases', dryRun: true });
    expect(learned.status, JSON.stringify(learned.body)).toBe(200);
    expect(learned.body.settings.expectedHostMs).toBeGreaterThanOrEqual(durations.rows[4]!.ms);
    expect(learned.body.settings.expectedHostMs).toBeLessThanOrEqual(durations.rows[5]!.ms);
  }, 120_000);

  it('lets started hosts finish when the window closes, admits nobody new, and admits nobody in a freeze', async () => {
    // 20 minutes before the admission cutoff (01:00 − 30 m); a host needs 15.
    clock = new Date('2026-12-02T00:10:00Z');
    await start(policy());
    const hosts = await fleet(3);
    const created = await api<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'databases' });
    // Only db-0 works until it has started: it is in the hands of the rollout when the window closes.
    await drive([hosts[0]!], created.body.id, (rollout) => !['pending', 'notified'].includes(rollout.hosts[0]!.state));
    // 00:15:30: a host started now would not finish before the cutoff; db-0's steps are within their deadlines.
    clock = new Date('2026-12-02T00:15:30Z');
    const closed = await drive(hosts, created.body.id, (rollout) => rollout.state === 'paused');
    expect(closed.pauseReason).toBe('window-closed');
    expect(states(closed)).toEqual({ 'db-0': 'succeeded', 'db-1': 'pending', 'db-2': 'pending' });
    // The next evening it carries on. The waiting hosts' agents have checked in just before, as
    // agents do (while the window is still shut): a host last seen the evening before would be
    // taken for one without an agent.
    clock = new Date('2026-12-02T21:59:00Z');
    for (const host of hosts) await host.checkIn();
    clock = new Date('2026-12-02T22:01:00Z');
    const next = await drive(hosts, created.body.id, (rollout) => rollout.state === 'running' && rollout.hosts[1]!.state !== 'pending');
    expect(next.currentWave).toBeGreaterThanOrEqual(2);

    await server!.stop();
    clock = new Date('2026-12-24T22:05:00Z');
    await start(policy(`freezes:\n  - { name: holidays, from: "12-24", until: "12-26" }\n`));
    const frozen = await fleet(2);
    const blocked = await api<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'databases' });
    const waiting = await drive(frozen, blocked.body.id, (rollout) => rollout.state === 'waiting-for-window', 50);
    expect(waiting.hosts.every((host) => host.state === 'pending')).toBe(true);
  }, 120_000);
});
