// End to end with real parts: a real server on a real PostgreSQL, ten directory-root hosts with
// their own dpkg databases and real agent processes, a local apt repository built with dpkg-deb,
// a real Prometheus scraping an exporter this test controls as the post-wave gate. Waves
// [1, "25%", "100%"], maxInFlight 2: one host's post-check fails, the budget halts the rollout,
// that host is rolled back (its dpkg database shows the previous version), the patched hosts'
// findings resolve, every host's own step log shows each step once, and each reboot (the host's
// reboot command restarting its agent with a new boot id) was verified by the server.
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { startPrometheus, waitForQuery, type PrometheusServer } from './prometheus-server.js';
import { createTestFleet, DEMO_ADVISORY } from './rollout-servers.js';
import { startTestAgent, waitFor, type TestAgent, type TestHost } from './test-hosts.js';

describe('a rollout on real hosts', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let prometheus: PrometheusServer;
  const exporter = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('fleetpatch_test_error_ratio 0.01\n'));
  const hosts: TestHost[] = [];
  const agents: TestAgent[] = [];
  let token = '';
  const logs: string[] = [];

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, body: (await response.json()) as T };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await new Promise<void>((resolve) => exporter.listen(0, '127.0.0.1', resolve));
    prometheus = await startPrometheus({ exporter: `127.0.0.1:${(exporter.address() as AddressInfo).port}` });
    await waitForQuery(prometheus.url, 'fleetpatch_test_error_ratio', (samples) => samples.length === 1, 30_000);

    const fleet = createTestFleet('fleetpatch-e2e-', {
      hosts: 10,
      bucket: `    waves: [1, "25%", "100%"]
    maxInFlight: 2
    errorBudget: 0
    reboot: { policy: always, timeout: 2m, onTimeout: page }
    expectedHostDuration: 1m
    checks:
      post: [{ name: service-healthy, command: 'test ! -e "$FLEETPATCH_ROOT/fail-post-check"', timeout: 30s }]
    gates:
      - name: error-ratio
        when: post-wave
        check: { kind: prometheus, url: "${prometheus.url}", query: fleetpatch_test_error_ratio, successCondition: "result[0] < 0.05" }
        interval: 1s`,
    });
    hosts.push(...fleet.hosts);
    server = await runServer({
      port: 0, host: '127.0.0.1', home: join(fleet.directory, 'server'), databaseUrl: database.connectionString, staleAfterSeconds: 3600, openAdvisoryFeed: () => new MemoryFeed('test', [advisoryFromOsv(DEMO_ADVISORY, { file: 'test' })]),
      syncIntervalSeconds: 0, policyFile: fleet.policyFile, policyPollMs: 0, log: (line) => logs.push(line), rolloutEngine: { passIntervalMs: 200 },
    });
    token = server.firstStart!.adminToken;
    const enrollment = await api<{ token: string }>('POST', '/api/v1/enrollment-tokens', { name: 'e2e', labels: { role: 'database' }, maxUses: 20 });

    writeFileSync(join(hosts[3]!.root, 'fail-post-check'), 'this host fails its post-check\n');
    for (const host of hosts) agents.push(startTestAgent(host, { serverUrl: server.url, enrollToken: enrollment.body.token, intervalSeconds: 2, jobWaitSeconds: 2 }));
    await waitFor('all ten hosts to check in', async () => (await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM hosts WHERE bucket = 'databases'")).rows[0]!.n === 10, 60_000);
    await server.syncAdvisories();
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await server?.stop();
    await prometheus?.stop();
    exporter.close();
    await database?.drop();
  });

  it('patches in gated waves, halts on the budget and rolls the failed host back', async () => {
    const created = await api<{ id: number; draft: { waves: Array<{ hosts: string[] }>; snapshot: Array<{ name: string; version: string }> } }>('POST', '/api/v1/rollouts', { bucket: 'databases', reason: DEMO_ADVISORY.id });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.draft.snapshot).toEqual([{ name: 'fp-demo-lib', version: '1.1-1' }]);
    expect(created.body.draft.waves.map((wave) => wave.hosts.length)).toEqual([1, 3, 6]);

    interface View { state: string; haltReason?: string; hosts: Array<{ host: string; wave: number; state: string }>; measurements: Array<{ gate: string; phase: string; value?: number }> }
    const inFlight = new Set(['notified', 'pre-check', 'applying', 'rebooting', 'awaiting-return', 'post-check', 'monitoring', 'rolling-back']);
    let most = 0;
    const final = await waitFor('the rollout to halt with nothing in flight', async () => {
      const view = (await api<View>('GET', `/api/v1/rollouts/${created.body.id}`)).body;
      most = Math.max(most, view.hosts.filter((host) => inFlight.has(host.state)).length);
      return view.state === 'halted' && view.hosts.every((host) => !inFlight.has(host.state)) ? view : undefined;
    }, 150_000, 200);

    expect(final.haltReason).toBe('budget-spent');
    const state = Object.fromEntries(final.hosts.map((host) => [host.host, host.state]));
    expect(state).toMatchObject({ 'db-0': 'succeeded', 'db-1': 'succeeded', 'db-2': 'succeeded', 'db-3': 'rolled-back' });
    expect(final.hosts.filter((host) => host.wave === 3).every((host) => host.state === 'pending')).toBe(true);
    expect(most).toBeLessThanOrEqual(2);
    // The gate between wave 1 and 2 measured the real Prometheus.
    expect(final.measurements).toEqual(expect.arrayContaining([expect.objectContaining({ gate: 'error-ratio', phase: 'successful', value: 0.01 })]));
    // The hosts' own package databases.
    expect(hosts[1]!.installed().get('fp-demo-lib')).toBe('1.1-1');
    expect(hosts[3]!.installed().get('fp-demo-lib')).toBe('1.0-1');
    expect(hosts[5]!.installed().get('fp-demo-lib')).toBe('1.0-1');
    // Every step once, in each host's own log; each patched host rebooted once.
    for (const host of hosts) {
      const keys = host.stepLog().map((line) => line.key);
      expect(new Set(keys).size, host.name).toBe(keys.length);
    }
    expect(hosts[1]!.stepLog().map((line) => line.step)).toEqual(['upgrade', 'reboot', 'post-check']);
    expect(hosts[3]!.stepLog().map((line) => line.step)).toEqual(['upgrade', 'reboot', 'post-check', 'rollback']);
    expect(hosts[1]!.reboots()).toHaveLength(1);
    // Findings follow the hosts' check-ins.
    const findings = await database.pool.query<{ host: string; state: string }>(`SELECT h.name AS host, f.state FROM findings f JOIN hosts h ON h.key = f.host_key JOIN advisories a ON a.key = f.advisory_key WHERE a.id = '${DEMO_ADVISORY.id}'`);
    const findingState = Object.fromEntries(findings.rows.map((row) => [row.host, row.state]));
    expect(findingState).toMatchObject({ 'db-0': 'fixed', 'db-1': 'fixed', 'db-3': 'vulnerable', 'db-5': 'vulnerable' });
    for (const agent of agents) expect(agent.unexpectedExits()).toEqual([]);
  }, 200_000);
});
