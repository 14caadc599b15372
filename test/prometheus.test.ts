// A real Prometheus (Debian's package) scrapes a real fleetpatch server on loopback; PromQL sees
// the fleet numbers the API reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { debianRoot, startServerProcess, type ServerProcess } from './control-plane-fixtures.js';
import { runCli } from './cli.js';
import { repoRoot } from './data-path.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { requireTool } from './required-tools.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

async function promQuery(base: string, query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  return body.data.result;
}

describe('Prometheus scrape', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  let prometheus: ChildProcess;
  let prometheusUrl: string;

  beforeAll(async () => {
    const prometheusBinary = requireTool('prometheus');
    database = await createTestDatabase();
    server = await startServerProcess({ DATABASE_URL: database.connectionString });
    // Two hosts through the real agent, in two buckets.
    for (const [name, bucket] of [['node-1', 'k8s-nodes'], ['db-1', 'databases']]) {
      const result = await runCli(['agent', '--server', server.url, '--enroll-token', server.enrollmentToken, '--state-dir', mkdtempSync(join(tmpdir(), 'agent-')), '--root', debianRoot({ rebootRequired: name === 'db-1' }), '--hostname', name!, '--label', `bucket=${bucket}`, '--once']);
      expect(result.code).toBe(0);
    }
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-prometheus-'));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    const target = new URL(server.url).host;
    writeFileSync(join(directory, 'prometheus.yml'), `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: fleetpatch\n    static_configs:\n      - targets: ['${target}']\n`);
    prometheus = spawn(prometheusBinary, [`--config.file=${join(directory, 'prometheus.yml')}`, `--storage.tsdb.path=${join(directory, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  }, 120_000);
  afterAll(async () => {
    prometheus?.kill('SIGTERM');
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
    let hosts: Array<{ metric: Record<string, string>; value: [number, string] }> = [];
    for (let attempt = 0; attempt < 60 && hosts.length === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      hosts = await promQuery(prometheusUrl, 'fleetpatch_hosts{dimension="fleet"}').catch(() => []);
    }
    expect(hosts[0]?.value[1]).toBe('2');
    const reboots = await promQuery(prometheusUrl, 'sum(fleetpatch_pending_reboots{dimension="bucket"})');
    expect(reboots[0]?.value[1]).toBe('1');
    const perBucket = await promQuery(prometheusUrl, 'fleetpatch_hosts{dimension="bucket"}');
    expect(perBucket.map((series) => [series.metric.name, series.value[1]]).sort()).toEqual([['databases', '1'], ['k8s-nodes', '1']]);
    // The scrape itself is healthy.
    const up = await promQuery(prometheusUrl, 'up{job="fleetpatch"}');
    expect(up[0]?.value[1]).toBe('1');
  }, 60_000);
});
