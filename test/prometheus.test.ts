// A real Prometheus (Debian's package) scrapes a real fleetpatch server on loopback; PromQL sees
// the fleet numbers the API reports.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianRoot, startServerProcess, type ServerProcess } from './control-plane-fixtures.js';
import { runCli } from './cli.js';
import { repoRoot } from './data-path.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { promQuery, startPrometheus, waitForQuery, type PrometheusServer } from './prometheus-server.js';
import { requireTool } from './required-tools.js';

describe('Prometheus scrape', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let prometheus: PrometheusServer;

  beforeAll(async () => {
    requireTool('prometheus');
    database = await createTestDatabase();
    server = await startServerProcess({ DATABASE_URL: database.connectionString });
    // Two hosts through the real agent, in two buckets.
    for (const [name, bucket] of [['node-1', 'k8s-nodes'], ['db-1', 'databases']]) {
      const result = await runCli(['agent', '--server', server.url, '--enroll-token', server.enrollmentToken, '--state-dir', mkdtempSync(join(tmpdir(), 'agent-')), '--root', debianRoot({ rebootRequired: name === 'db-1' }), '--hostname', name!, '--label', `bucket=${bucket}`, '--once']);
      expect(result.code).toBe(0);
    }
    prometheus = await startPrometheus({ fleetpatch: new URL(server.url).host });
  }, 120_000);
  afterAll(async () => {
    await prometheus?.stop();
    await server?.stop();
    await database?.drop();
  });

  it('exposes every metric the Grafana dashboard in deploy/grafana uses', async () => {
    const dashboard = readFileSync(resolve(repoRoot, 'deploy/grafana/fleetpatch-dashboard.json'), 'utf8');
    const used = new Set([...dashboard.matchAll(/fleetpatch_[a-z_]+/g)].map((match) => match[0].replace(/_bucket$/, '')));
    const exposed = await (await fetch(`${server.url}/metrics`)).text();
    for (const metric of used) expect(exposed, metric).toMatch(new RegExp(`^# TYPE ${metric} `, 'm'));
  });

  it('answers PromQL with the fleet numbers', async () => {
    const hosts = await waitForQuery(prometheus.url, 'fleetpatch_hosts{dimension="fleet"}', (samples) => samples.length > 0, 30_000);
    expect(hosts[0]?.value[1]).toBe('2');
    const reboots = await promQuery(prometheus.url, 'sum(fleetpatch_pending_reboots{dimension="bucket"})');
    expect(reboots[0]?.value[1]).toBe('1');
    const perBucket = await promQuery(prometheus.url, 'fleetpatch_hosts{dimension="bucket"}');
    expect(perBucket.map((series) => [series.metric.name, series.value[1]]).sort()).toEqual([['databases', '1'], ['k8s-nodes', '1']]);
    // The scrape itself is healthy.
    const up = await promQuery(prometheus.url, 'up{job="fleetpatch"}');
    expect(up[0]?.value[1]).toBe('1');
  }, 60_000);
});
