// A real agent process enrolls against a real server process; its findings appear in the API;
// a host credential cannot write another host; malformed requests get 4xx and change nothing.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { apiGet, apiSend, debianRoot, rootWithAptRepository, startServerProcess, type ServerProcess } from './control-plane-fixtures.js';
import { DEBIAN_ADVISORIES } from './fixtures/debian-advisories.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

describe('control plane: server and agent processes', () => {
  let database: TestDatabase;
  let server: ServerProcess;
  const advisories = mkdtempSync(join(tmpdir(), 'fleetpatch-osv-'));
  const stateDirectory = mkdtempSync(join(tmpdir(), 'fleetpatch-agent-'));
  // The root's apt lists offer a newer libuuid1, so the agent's apt-get dry run has an update to report.
  const root = rootWithAptRepository();

  beforeAll(async () => {
    for (const record of DEBIAN_ADVISORIES) writeFileSync(join(advisories, `${record.id}.json`), JSON.stringify(record));
    database = await createTestDatabase();
    server = await startServerProcess({ DATABASE_URL: database.connectionString }, ['--advisories', advisories, '--stale-after', '600']);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  const agent = (extra: string[] = []) =>
    runCli(['agent', '--server', server.url, '--enroll-token', server.enrollmentToken, '--state-dir', stateDirectory, '--root', root, '--hostname', 'web-7', '--label', 'bucket=stateless', '--label', 'team=web', '--once', ...extra]);

  it('prints the admin and enrollment tokens once on first start', () => {
    expect(server.adminToken).toMatch(/^fpa_/);
    expect(server.enrollmentToken).toMatch(/^fpe_/);
  });

  it('enrolls a real agent and shows its findings in the API', async () => {
    const first = await agent();
    expect(first.stderr).toContain('enrolled as web-7');
    expect(first.stdout).toContain('check-in: full');
    const sync = await apiSend<{ imported: number; hostsReevaluated: number }>(server, 'POST', '/api/v1/advisories/sync', server.adminToken, {});
    expect(sync.status).toBe(200);
    expect(sync.body.hostsReevaluated).toBe(1);
    const host = await apiGet<{ bucket: string; team: string; runningKernel: string; findings: Array<{ advisoryId: string; package: string; fixedVersion: string }>; availableUpdates: unknown[] }>(server, '/api/v1/hosts/web-7');
    expect(host.status).toBe(200);
    expect(host.body).toMatchObject({ bucket: 'stateless', team: 'web', runningKernel: '6.1.0-18-amd64' });
    expect(host.body.availableUpdates).toEqual([
      { name: 'libuuid1', arch: 'amd64', installedVersion: '2.38.1-5+deb12u3', candidateVersion: '2.38.1-5+deb12u4', repository: 'localhost', availableSince: expect.any(String) },
    ]);
    expect(host.body.findings.find((finding) => finding.package === 'libuuid1')).toMatchObject({ advisoryId: 'DSA-9001-1', fixedVersion: '2.38.1-5+deb12u4' });
    const summary = await apiGet<{ buckets: Array<{ name: string; hosts: number; openFindings: { high: number } }> }>(server, '/api/v1/fleet/summary');
    expect(summary.body.buckets.find((bucket) => bucket.name === 'stateless')).toMatchObject({ hosts: 1 });
    expect(summary.body.buckets[0]!.openFindings.high).toBeGreaterThan(0);
  }, 60_000);

  it('sends a heartbeat when nothing changed, and a delta when a package changed', async () => {
    expect((await agent()).stdout).toContain('check-in: heartbeat');
    const status = readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8').replaceAll('2.38.1-5+deb12u3', '2.38.1-5+deb12u4');
    writeFileSync(join(root, 'var/lib/dpkg/status'), status);
    expect((await agent()).stdout).toContain('check-in: delta');
    const host = await apiGet<{ findings: Array<{ advisoryId: string }>; availableUpdates: unknown[] }>(server, '/api/v1/hosts/web-7');
    expect(host.body.findings.some((finding) => finding.advisoryId === 'DSA-9001-1')).toBe(false);
    expect(host.body.availableUpdates).toEqual([]);
  }, 60_000);

  it('does not let a host credential write another host', async () => {
    const { credential } = JSON.parse(readFileSync(join(stateDirectory, 'credential.json'), 'utf8')) as { credential: string };
    const response = await apiSend<{ error: { code: string; message: string } }>(server, 'PUT', '/api/v1/hosts/db-1/inventory', credential, {
      kind: 'full', rebootRequired: false, packageDigest: 'x'.repeat(43), packages: [],
    });
    expect(response.status).toBe(403);
    expect(response.body.error).toMatchObject({ code: 'forbidden', message: 'this credential belongs to web-7 and cannot write db-1' });
    const hosts = await apiGet<{ total: number }>(server, '/api/v1/hosts');
    expect(hosts.body.total).toBe(1);
  });

  it('answers malformed requests with 4xx and a clear message, and changes nothing', async () => {
    const before = await apiGet<{ findings: unknown[]; packageCount: number }>(server, '/api/v1/hosts/web-7');
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ['PUT', '/api/v1/hosts/web-7/inventory', { kind: 'full', rebootRequired: false, packageDigest: 'x'.repeat(43), packages: [{ ecosystem: 'Debian:12', name: 'bash' }] }, 400, /packages\[0\]\.version/],
      ['PUT', '/api/v1/hosts/web-7/inventory', '{"kind": "full",', 400, /not valid JSON/],
      ['PUT', '/api/v1/hosts/web-7/inventory', { kind: 'sideways' }, 400, /kind/],
      ['GET', '/api/v1/findings?severity=urgent', undefined, 400, /severity/],
      ['POST', '/api/v1/enroll', { token: 'fpe_not-a-real-token-at-all', hostname: 'x' }, 401, /unknown enrollment token/],
      ['POST', '/api/v1/tokens', { name: 'x', role: 'root' }, 400, /role/],
      // Versions the ecosystem's own tool refuses (the probe: an empty rpm version matched 15 advisories).
      ...['', ':', '1:', '~', `${'9'.repeat(256)}:1-1`].map((version): [string, string, unknown, number, RegExp] =>
        ['PUT', '/api/v1/hosts/web-7/inventory', { kind: 'full', rebootRequired: false, packageDigest: 'x'.repeat(43), packages: [{ ecosystem: 'AlmaLinux:9', name: 'openssl', version }] }, 400, /packages\[0\]\.version/]),
      ...['x:1.0-1', ':', '1.0-'].map((version): [string, string, unknown, number, RegExp] =>
        ['PUT', '/api/v1/hosts/web-7/inventory', { kind: 'full', rebootRequired: false, packageDigest: 'x'.repeat(43), packages: [{ ecosystem: 'Debian:12', name: 'bash', version }] }, 400, /packages\[0\]\.version/]),
    ];
    for (const [method, path, body, status, message] of cases) {
      const response = method === 'GET'
        ? await apiGet<{ error: { message: string } }>(server, path)
        : await apiSend<{ error: { message: string } }>(server, method, path, server.adminToken, body);
      expect(response.status, `${method} ${path}`).toBe(status);
      expect(response.body.error.message, `${method} ${path}`).toMatch(message);
    }
    const unauthenticated = await apiGet<{ error: { code: string } }>(server, '/api/v1/hosts', 'fpa_wrong');
    expect(unauthenticated.status).toBe(401);
    const after = await apiGet<{ findings: unknown[]; packageCount: number }>(server, '/api/v1/hosts/web-7');
    expect(after.body).toEqual(before.body);
  });

  it('says how many findings a host has when it returns a page of them, and searches names literally', async () => {
    // A second host on the image's own package list, which the fixture advisories affect.
    const pageHost = await runCli(['agent', '--server', server.url, '--enroll-token', server.enrollmentToken, '--state-dir', mkdtempSync(join(tmpdir(), 'fleetpatch-agent-')), '--root', debianRoot(), '--hostname', 'page-1', '--label', 'bucket=stateless', '--once']);
    expect(pageHost.code, pageHost.stderr).toBe(0);
    const all = await apiGet<{ findings: unknown[]; findingsTotal: number }>(server, '/api/v1/hosts/page-1?findingsLimit=10000');
    expect(all.body.findingsTotal).toBe(all.body.findings.length);
    expect(all.body.findingsTotal).toBeGreaterThanOrEqual(2);
    const page = await apiGet<{ findings: unknown[]; findingsTotal: number }>(server, '/api/v1/hosts/page-1?findingsLimit=1&findingsOffset=1');
    expect(page.body.findings).toEqual(all.body.findings.slice(1, 2));
    expect(page.body.findingsTotal).toBe(all.body.findingsTotal);
    const findings = await fetch(`${server.url}/api/v1/findings?host=page-1&limit=1`, { headers: { authorization: `Bearer ${server.adminToken}` } });
    expect(findings.headers.get('x-total-count')).toBe(String(all.body.findingsTotal));
    for (const pattern of ['_', '%', 'web_7', 'w%7', '\\']) {
      const hosts = await apiGet<{ total: number }>(server, `/api/v1/hosts?q=${encodeURIComponent(pattern)}`);
      expect(hosts.body.total, pattern).toBe(0);
    }
    expect((await apiGet<{ total: number }>(server, '/api/v1/hosts?q=eb-')).body.total).toBe(1);
    expect((await apiGet<{ total: number }>(server, '/api/v1/hosts?q=ge-')).body.total).toBe(1);
    expect((await apiGet(server, '/api/v1/hosts/no-such-host/packages')).status).toBe(404);
  });

  it('serves an OpenAPI document and Prometheus metrics', async () => {
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(openapi.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.paths)).toContain('/api/v1/hosts/{name}/inventory');
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('fleetpatch_hosts{dimension="bucket",name="stateless"} 1');
    expect(metrics).toContain('fleetpatch_server_process_resident_memory_bytes');
  });
});
