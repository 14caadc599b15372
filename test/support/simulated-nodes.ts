/**
 * A simulated Kubernetes cluster whose nodes are fleetpatch hosts, for rolling-reboot tests.
 *
 * The cluster is the in-test API server (kube-api-server.ts): nodes node-01…node-NN, a
 * Deployment-like ReplicaSet spread over them with a PodDisruptionBudget, a DaemonSet on every
 * node, and a singleton ReplicaSet on one node whose budget (minAvailable 1 of 1 replica) allows no
 * disruption, so that node's drain is blocked until the test relaxes the budget.
 *
 * Each node is also a host: a SimulatedHost from src/simulator, clearly simulated, speaking the
 * real agent protocol over HTTP to the real server (check-ins, the job fetch, results). The driver
 * plays what a real node does around its agent: when the node's reboot job is about to run, the
 * node goes NotReady in the API server (its kubelet is gone); the agent reports the reboot started
 * and checks in with a new boot id; once the server's await-ready step has read the node NotReady,
 * the kubelet posts Ready again with that boot id. So the await-ready step always has something
 * real to wait for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { InstalledPackage } from '../../src/domain/types.js';
import { SimulatedHost } from '../../src/simulator/simulated-agent.js';
import { startKubeApiServer, type KubeApiServer, type KubeApiServerOptions } from '../../src/simulator/simulated-kubernetes-api.js';

export const nodeName = (index: number) => `node-${String(index + 1).padStart(2, '0')}`;

/** The Deployment-like ReplicaSet: its replicas, spread over the nodes (the first ones run two). */
export const WEB = { namespace: 'shop', name: 'web-6f7d', replicas: 30 };
/** The singleton whose budget blocks its node's drain. */
export const LEDGER = { namespace: 'shop', name: 'ledger-5c9b', budget: 'ledger' };

export interface SimulatedClusterOptions extends Omit<KubeApiServerOptions, 'now'> {
  nodes: number;
  /** The node the singleton ledger pod runs on: its drain is blocked until `relaxLedgerBudget`. */
  blockedNode: string;
}

export interface SimulatedCluster {
  server: KubeApiServer;
  nodes: string[];
  /** The ledger budget allows one disruption from now on. */
  relaxLedgerBudget(): void;
  /** A kubeconfig file (YAML) for the API server, as `fleetpatch server --kubeconfig` reads it. */
  writeKubeconfig(file: string): string;
}

/**
 * @example const cluster = await startSimulatedCluster({ nodes: 20, blockedNode: 'node-05' })
 */
export async function startSimulatedCluster(options: SimulatedClusterOptions): Promise<SimulatedCluster> {
  const { nodes: count, blockedNode, ...serverOptions } = options;
  const server = await startKubeApiServer(serverOptions);
  const nodes = Array.from({ length: count }, (_, index) => nodeName(index));
  for (const name of nodes) server.addNode({ name, labels: { 'node-role.kubernetes.io/worker': '' } });
  server.addReplicaSet({ namespace: WEB.namespace, name: WEB.name, labels: { app: 'web' }, nodes: Array.from({ length: WEB.replicas }, (_, index) => nodes[index % count]!) });
  server.addBudget({ namespace: WEB.namespace, name: 'web', selector: { matchLabels: { app: 'web' } }, maxUnavailable: '10%' });
  server.addReplicaSet({ namespace: LEDGER.namespace, name: LEDGER.name, labels: { app: 'ledger' }, nodes: [blockedNode] });
  server.addBudget({ namespace: LEDGER.namespace, name: LEDGER.budget, selector: { matchLabels: { app: 'ledger' } }, minAvailable: 1 });
  server.addDaemonSet({ namespace: 'kube-system', name: 'node-exporter', labels: { app: 'node-exporter' } });
  return {
    server,
    nodes,
    relaxLedgerBudget: () => server.changeBudget(LEDGER.namespace, LEDGER.budget, { maxUnavailable: 1 }),
    writeKubeconfig: (file) => server.writeKubeconfig(file),
  };
}

const OS = { id: 'debian', idLike: [], versionId: '12', versionCodename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' };

/** What every node runs: fp-demo-lib 1.0-1, which DEMO_ADVISORY (test/rollout-servers.ts) says is vulnerable (fixed in 1.1-1). */
const NODE_PACKAGES: InstalledPackage[] = [
  { ecosystem: 'Debian:12', name: 'fp-demo-lib', version: '1.0-1', arch: 'all', sourceName: 'fp-demo-lib', sourceVersion: '1.0-1' },
  { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64', sourceName: 'bash', sourceVersion: '5.2.15-2' },
];

/** One simulated host per node, labelled for the policy's Kubernetes bucket; none has checked in yet. */
export function simulatedNodeHosts(nodes: readonly string[], options: { serverUrl: string; token: string; labels: Record<string, string>; now: () => Date }): SimulatedHost[] {
  return nodes.map((name) => new SimulatedHost({ serverUrl: options.serverUrl, token: options.token, name, labels: options.labels, os: OS, osEcosystem: 'Debian:12', packages: NODE_PACKAGES, now: options.now }));
}

export interface NodeDriver {
  /** Nodes in the order they came back Ready after a reboot (one entry per reboot). */
  readonly rebooted: string[];
  /** Nodes NotReady now (rebooting). */
  readonly down: ReadonlySet<string>;
  /** What the simulated hosts met (a server being restarted refuses connections): kept for a failing test's message. */
  readonly errors: string[];
  stop(): Promise<void>;
}

/**
 * Lets the nodes' simulated agents work until stopped. Each round asks the database which hosts
 * have an agent job waiting (what the agents' long polls would learn; cheaper than twenty polls),
 * and lets those fetch and run it over HTTP. A reboot job makes its node NotReady first, and the
 * node is Ready again (with the boot id its agent reported) once the API served it NotReady.
 *
 * @example const driver = driveNodes({ cluster, pool, hosts }); … await driver.stop();
 */
export function driveNodes(options: { cluster: KubeApiServer; pool: pg.Pool; hosts: readonly SimulatedHost[]; roundMs?: number }): NodeDriver {
  const { cluster, pool } = options;
  const hosts = new Map(options.hosts.map((host) => [host.name, host]));
  const rebooted: string[] = [];
  const errors: string[] = [];
  /** Rebooting nodes: how often the API had served each one when it went NotReady. */
  const down = new Map<string, number>();
  let stopped = false;
  const note = (error: unknown) => {
    if (errors.length < 200) errors.push(error instanceof Error ? error.message : String(error));
  };

  async function round(): Promise<void> {
    const waiting = await pool.query<{ host: string; key: string; step: string }>("SELECT host, key, step FROM rollout_jobs WHERE executor = 'agent' AND reported_at IS NULL ORDER BY dispatched_at, key");
    for (const job of waiting.rows) {
      const host = hosts.get(job.host);
      if (!host) continue;
      // The kubelet stops with the machine: NotReady before the agent even reports the reboot started.
      if (job.step === 'reboot' && !host.executed.includes(job.key) && !down.has(job.host)) {
        cluster.setNodeReady(job.host, false, { reason: 'KubeletNotReady', message: 'the node is rebooting (simulated)' });
        down.set(job.host, cluster.nodeReads(job.host));
      }
      await host.work().catch(note);
    }
    for (const [name, readsWhenDown] of down) {
      // Nothing reads a rebooting node but the server's await-ready step: once it has seen the node NotReady, the kubelet is back.
      if (cluster.nodeReads(name) <= readsWhenDown) continue;
      const bootId = (await pool.query<{ boot_id: string | null }>('SELECT boot_id FROM hosts WHERE name = $1', [name])).rows[0]?.boot_id;
      cluster.setNodeReady(name, true, undefined, bootId ? { bootID: bootId } : undefined);
      down.delete(name);
      rebooted.push(name);
    }
  }

  const loop = (async () => {
    while (!stopped) {
      await round().catch(note);
      await sleep(options.roundMs ?? 25);
    }
  })();
  return {
    rebooted,
    get down() {
      return new Set(down.keys());
    },
    errors,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
