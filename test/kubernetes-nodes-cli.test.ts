// `fleetpatch nodes import` end to end: the CLI as a child process, a real database, and the
// in-test Kubernetes API server. Nodes no agent reports become hosts; a node whose host has its own
// inventory keeps it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNodes } from '../src/executors/kubernetes/list-nodes.js';
import { runCli } from './cli.js';
import { sharedData } from './data-path.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { startKubeApiServer, type KubeApiServer } from '../src/simulator/simulated-kubernetes-api.js';

interface HostRow {
  name: string;
  labels: Record<string, string>;
  os_pretty_name: string | null;
  running_kernel: string | null;
  arch: string | null;
  has_packages: boolean;
  last_seen_at: Date | null;
  inventory_source: string | null;
}

describe('fleetpatch nodes import', () => {
  let database: TestDatabase;
  let cluster: KubeApiServer;
  let directory: string;
  let env: Record<string, string>;

  const hosts = async () => (await database.pool.query<HostRow>(
    'SELECT name, labels, os_pretty_name, running_kernel, arch, package_set_key IS NOT NULL AS has_packages, last_seen_at, inventory_source FROM hosts ORDER BY name',
  )).rows;

  beforeAll(async () => {
    database = await createTestDatabase();
    env = { DATABASE_URL: database.connectionString };
    directory = mkdtempSync(join(tmpdir(), 'fleetpatch-nodes-'));
    cluster = await startKubeApiServer();
    cluster.addNode({ name: 'node-1', labels: { 'topology.kubernetes.io/zone': 'eu-west-1a' } });
    cluster.addNode({ name: 'node-2', labels: { 'topology.kubernetes.io/zone': 'eu-west-1b' }, nodeInfo: { architecture: 'arm64', kernelVersion: '6.1.0-18-cloud-arm64' } });
    cluster.addNode({ name: 'node-3', ready: false });
    cluster.addNode({ name: 'node-4', unschedulable: true });
    writeFileSync(join(directory, 'kubeconfig'), cluster.kubeConfig().exportConfig());
  });
  afterAll(async () => {
    await cluster.close();
    await database.drop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('stores kubectl\'s node list from standard input: new hosts for nodes without an agent, an agent\'s host kept', async () => {
    const image = (file: string) => sharedData(`inventories/debian12-node-image/${file}`);
    const agent = await runCli(['inventory', 'import', image('dpkg-status'), '--host', 'node-1', '--os-release', image('os-release'), '--running-kernel', readFileSync(image('uname-r'), 'utf8').trim(), '--label', 'team=platform'], env);
    expect(agent.code, agent.stderr).toBe(0);

    // What `kubectl get nodes -o json` prints: a List whose items name their kind.
    const fromApi = await listNodes(cluster.kubeConfig()) as { items: object[] };
    const kubectl = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: fromApi.items.map((item) => ({ apiVersion: 'v1', kind: 'Node', ...item })) };
    const imported = await runCli(['nodes', 'import', '-', '--json'], env, JSON.stringify(kubectl, null, 4));
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toEqual({
      source: '<stdin>', created: 3, updated: 0, kept: 1,
      nodes: [
        { name: 'node-1', host: 'kept', ready: true, unschedulable: false, kubeletVersion: 'v1.29.2' },
        { name: 'node-2', host: 'created', ready: true, unschedulable: false, kubeletVersion: 'v1.29.2' },
        { name: 'node-3', host: 'created', ready: false, unschedulable: false, kubeletVersion: 'v1.29.2' },
        { name: 'node-4', host: 'created', ready: true, unschedulable: true, kubeletVersion: 'v1.29.2' },
      ],
    });

    const [node1, node2] = await hosts();
    expect(node1).toMatchObject({ name: 'node-1', labels: { team: 'platform' }, has_packages: true, os_pretty_name: 'Debian GNU/Linux 12 (bookworm)' });
    expect(node1!.last_seen_at).not.toBeNull();
    expect(node2).toEqual({
      name: 'node-2',
      labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': 'node-2', 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': 'eu-west-1b', 'fleetpatch.io/kubernetes-node': 'true' },
      os_pretty_name: 'Debian GNU/Linux 12 (bookworm)', running_kernel: '6.1.0-18-cloud-arm64', arch: 'arm64',
      has_packages: false, last_seen_at: null, inventory_source: 'kubernetes-nodes:<stdin>',
    });
  });

  it('reads the nodes through the API with a kubeconfig, saying so on standard error', async () => {
    cluster.addNode({ name: 'node-5' });
    const imported = await runCli(['nodes', 'import', '--kubeconfig', join(directory, 'kubeconfig')], env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stderr).toContain(`listing the nodes of ${cluster.url} (context simulated)`);
    expect(imported.stderr).toContain(`5 node(s) read from ${cluster.url}`);
    expect(imported.stdout).toMatch(/^node-3 +no +v1\.29\.2 +updated \(no agent\)$/m);
    expect(imported.stdout).toMatch(/^node-4 +yes +yes +v1\.29\.2 +updated \(no agent\)$/m);
    expect(imported.stdout).toContain('1 created, 3 updated, 1 kept: an agent or an inventory import reports them');
    expect((await hosts()).map((host) => [host.name, host.inventory_source])).toEqual([
      ['node-1', 'dpkg-status:' + sharedData('inventories/debian12-node-image/dpkg-status')],
      ...['node-2', 'node-3', 'node-4', 'node-5'].map((name) => [name, `kubernetes-nodes:${cluster.url}`]),
    ]);
  });

  it('refuses a bad node list naming the field, storing nothing, and says when the API cannot be reached', async () => {
    const before = await hosts();
    const fromApi = await listNodes(cluster.kubeConfig()) as { items: Array<{ status: Record<string, unknown> }> };
    delete fromApi.items[1]!.status.nodeInfo;
    writeFileSync(join(directory, 'broken.json'), JSON.stringify(fromApi));
    const broken = await runCli(['nodes', 'import', join(directory, 'broken.json')], env);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.json, field items\[1\]\.status\.nodeInfo: /);

    // Nothing listens on the discard port.
    writeFileSync(join(directory, 'unreachable'), cluster.kubeConfig().exportConfig().replace(cluster.url, 'http://127.0.0.1:9'));
    const down = await runCli(['nodes', 'import', '--kubeconfig', join(directory, 'unreachable')], env);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/the Kubernetes API at http:\/\/127\.0\.0\.1:9 cannot be reached: listing nodes: .*ECONNREFUSED/);
    expect(await hosts()).toEqual(before);
  });
});
