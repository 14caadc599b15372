/**
 * What the `--demo` fleet's four buckets are patched through, simulated on loopback so the seed's
 * four strategies run end to end with nothing real behind them:
 *
 * - a Kubernetes cluster (simulated-kubernetes-api.ts) whose nodes are the simulated
 *   `role=k8s-node` hosts, with a spread-out Deployment under a PodDisruptionBudget and a
 *   DaemonSet, so rolling reboots cordon, evict and wait for Ready for real: a node's kubelet goes
 *   NotReady when its host reboots and is Ready again `bootMs` later with the new boot id;
 * - the runbooks examples/fleetpatch.yaml names under /opt/runbooks, as small scripts in the demo's
 *   directory that hand each call to this process: `patch-host.sh --pre-check | --upgrade |
 *   --reboot | --post-check | --rollback` acts on the simulated database host,
 *   `provision-from-baseline.sh --provision` boots a simulated replacement on the new baseline
 *   image (named `<host>-g2`, `-g3`…), `retire-instance.sh --retire` stops the old one;
 * - a Prometheus that answers every instant query with 0: nothing in the simulated fleet pages.
 *
 * Every answer says "simulated". The ports are remembered in the directory, so a restarted demo
 * keeps the addresses its policy names.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { compareVersions } from '../domain/planning/package-targets.js';
import type { InstalledPackage } from '../domain/types.js';
import type { HostJob, JobResult } from '../protocol/job-protocol.js';
import type { SimulatedHost } from './simulated-agent.js';
import { startKubeApiServer, type KubeApiServer } from './simulated-kubernetes-api.js';

/** The runbooks examples/fleetpatch.yaml names, as the demo provides them. */
export const DEMO_RUNBOOKS = ['patch-host', 'provision-from-baseline', 'retire-instance'] as const;
export type DemoRunbook = (typeof DEMO_RUNBOOKS)[number];

/** What a runbook script sends: its arguments and its FLEETPATCH_* environment. */
export interface RunbookCall {
  args: string[];
  environment: Record<string, string>;
}

/** What the script prints and exits with. */
export interface RunbookAnswer {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface DemoInfrastructureOptions {
  /** Where the kubeconfig, the runbook scripts and the remembered ports live (created if missing). */
  directory: string;
  /** How a runbook script runs `fleetpatch simulate-runbook`: the node binary and its arguments. */
  fleetpatchCommand: string[];
  /** How long a simulated reboot or a replacement's boot takes (default 20 s). */
  bootMs?: number;
  /** The simulated cluster's clock (default Date.now; tests share theirs with the server). */
  clusterNow?: () => number;
  log: (message: string) => void;
}

export interface DemoHostFactory {
  /** A new simulated host (a replacement) with these labels and packages; it has not checked in. */
  create(name: string, labels: Record<string, string>, packages: InstalledPackage[]): SimulatedHost;
  /** This machine's packages: the fixed versions a fresh baseline image carries. */
  baseline: InstalledPackage[];
}

export interface DemoInfrastructure {
  /** Where its files live (the kubeconfig, the runbooks, the demo's critical CVE). */
  readonly directory: string;
  /** The simulated cluster's kubeconfig, for `fleetpatch server --kubeconfig`. */
  readonly kubeconfigFile: string;
  /** What the example policy's runbook paths and Prometheus URL become in the demo. */
  readonly substitutions: ReadonlyMap<string, string>;
  /** The simulated hosts this infrastructure acts on, replacements included (drive them all). */
  readonly hosts: readonly SimulatedHost[];
  readonly cluster: KubeApiServer;
  /** Hands over the simulated hosts: the Kubernetes nodes among them join the cluster. */
  attach(hosts: SimulatedHost[], factory: DemoHostFactory): void;
  /** A host rebooted (its SimulatedHost's `onReboot`): a node goes NotReady until it is back. */
  rebooted(host: SimulatedHost, bootId: string): void;
  /** Runs one runbook call (what the scripts' requests reach). */
  runbook(name: string, call: RunbookCall): Promise<RunbookAnswer>;
  close(): Promise<void>;
}

interface RememberedPorts {
  kubernetes?: number;
  simulator?: number;
}

/** The demo's Deployment: two replicas per node, at most 10% unavailable. */
const SHOP = { namespace: 'shop', name: 'storefront-7c9d', labels: { app: 'storefront' } };

/**
 * @example const infrastructure = await startDemoInfrastructure({ directory, fleetpatchCommand: [process.execPath, 'bin/fleetpatch.js'], log })
 */
export async function startDemoInfrastructure(options: DemoInfrastructureOptions): Promise<DemoInfrastructure> {
  mkdirSync(options.directory, { recursive: true, mode: 0o700 });
  const bootMs = options.bootMs ?? 20_000;
  const portsFile = join(options.directory, 'ports.json');
  const remembered: RememberedPorts = existsSync(portsFile) ? (JSON.parse(readFileSync(portsFile, 'utf8')) as RememberedPorts) : {};
  const cluster = await onRememberedPort(remembered.kubernetes, (port) => startKubeApiServer({ port, terminationMs: 2_000, replacementReadyMs: 3_000, ...(options.clusterNow ? { now: options.clusterNow } : {}) }));
  const hosts: SimulatedHost[] = [];
  let factory: DemoHostFactory | undefined;
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, work: () => Promise<void> | void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      void Promise.resolve().then(work).catch((error: unknown) => options.log(`demo infrastructure: ${error instanceof Error ? error.message : String(error)}`));
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  const runbook = async (name: string, call: RunbookCall): Promise<RunbookAnswer> => {
    const flag = call.args[0] ?? '';
    const hostName = call.environment.FLEETPATCH_HOST ?? '';
    const host = hosts.find((candidate) => candidate.name === hostName && !candidate.isDown);
    const fail = (exitCode: number, message: string): RunbookAnswer => ({ exitCode, stdout: '', stderr: `simulated ${name}: ${message}\n` });
    if (!factory) return fail(75, 'the demo fleet is still loading');
    if (!host) return fail(1, `no simulated host ${JSON.stringify(hostName)} is running`);
    const said = (lines: string[], report?: Record<string, unknown>): RunbookAnswer => ({
      exitCode: 0,
      stdout: `${lines.map((line) => `simulated: ${line}`).join('\n')}\n${report ? `${JSON.stringify(report)}\n` : ''}`,
      stderr: '',
    });
    switch (`${name} ${flag}`) {
      case 'patch-host --pre-check':
        return said([`${host.name}: snapshot taken, replication healthy`]);
      case 'patch-host --post-check':
        return said([`${host.name}: replication caught up`]);
      case 'patch-host --upgrade':
      case 'patch-host --rollback': {
        const targets = packageTargets(call.environment[flag === '--upgrade' ? 'FLEETPATCH_PACKAGES' : 'FLEETPATCH_PREVIOUS'] ?? '');
        const replaced: JobResult['replaced'] = host.install(targets);
        await host.checkIn();
        return said([`${host.name}: installed ${targets.map((target) => `${target.name}=${target.version}`).join(' ') || 'nothing'}`], { replaced });
      }
      case 'patch-host --reboot':
        host.reboot();
        // The agent checks in with its new boot id once the machine is back.
        later(bootMs, () => host.checkIn());
        return said([`${host.name}: rebooting`]);
      case 'provision-from-baseline --provision': {
        const image = call.environment.FLEETPATCH_IMAGE_ID;
        if (!image) return fail(2, 'FLEETPATCH_IMAGE_ID is not set');
        const baked = withAtLeast(onBaseline(host.packageList, factory.baseline), packageTargets(call.environment.FLEETPATCH_PACKAGES ?? ''));
        const replacement = factory.create(nextGeneration(host.name, hosts), { ...host.labels, 'image-id': image }, baked);
        hosts.push(replacement);
        later(bootMs, () => replacement.checkIn());
        return said([`${replacement.name} is booting from ${image} to replace ${host.name}`], { details: { replacement: replacement.name } });
      }
      case 'retire-instance --retire':
        host.retire();
        return said([`${host.name}: instance terminated`]);
      default:
        return fail(2, `unknown call ${JSON.stringify(call.args.join(' '))}`);
    }
  };

  const simulator = await onRememberedPort(remembered.simulator, (port) => listen(port, async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://simulator');
    if (url.pathname === '/prometheus/api/v1/query') {
      return send(response, 200, { status: 'success', data: { resultType: 'vector', result: [{ metric: {}, value: [Date.now() / 1000, '0'] }] }, infos: ['simulated: nothing in the simulated fleet pages'] });
    }
    const runbookName = /^\/runbooks\/([a-z-]+)$/.exec(url.pathname)?.[1];
    if (request.method === 'POST' && runbookName) return send(response, 200, await runbook(runbookName, (await readJson(request)) as RunbookCall));
    return send(response, 404, { error: 'not part of the simulated infrastructure' });
  }));
  const simulatorUrl = `http://127.0.0.1:${(simulator.address() as AddressInfo).port}`;
  writeFileSync(portsFile, JSON.stringify({ kubernetes: Number(new URL(cluster.url).port), simulator: Number(new URL(simulatorUrl).port) }));

  const kubeconfigFile = cluster.writeKubeconfig(join(options.directory, 'kubeconfig'));
  const substitutions = new Map<string, string>([['http://prometheus.internal:9090', `${simulatorUrl}/prometheus`]]);
  const runbooks = join(options.directory, 'runbooks');
  mkdirSync(runbooks, { recursive: true });
  for (const name of DEMO_RUNBOOKS) {
    const file = join(runbooks, `${name}.sh`);
    if (!/^[\w./-]+$/.test(file)) throw new Error(`the demo's runbooks need a directory whose path has no spaces or quotes: ${file}`);
    writeFileSync(file, `#!/bin/sh\n# fleetpatch --demo: the simulated ${name} runbook; the demo's simulated infrastructure acts on the simulated host.\nexec ${options.fleetpatchCommand.map(shellQuote).join(' ')} simulate-runbook --simulator ${simulatorUrl} ${name} "$@"\n`);
    chmodSync(file, 0o755);
    substitutions.set(`/opt/runbooks/${name}.sh`, file);
  }

  return {
    directory: options.directory,
    kubeconfigFile,
    substitutions,
    hosts,
    cluster,
    attach(simulated, hostFactory) {
      factory = hostFactory;
      hosts.push(...simulated);
      const nodes = simulated.filter((host) => host.labels.role === 'k8s-node');
      for (const host of nodes) {
        cluster.addNode({ name: host.name, labels: { 'node.kubernetes.io/instance-type': 'm6i.xlarge', ...(host.labels['node-pool'] ? { 'eks.amazonaws.com/nodegroup': host.labels['node-pool'] } : {}), simulated: 'true' }, nodeInfo: { osImage: 'Bottlerocket OS 1.26.1 (aws-k8s-1.31) (simulated)', bootID: host.bootId } });
      }
      if (nodes.length === 0) return;
      cluster.addReplicaSet({ ...SHOP, nodes: nodes.flatMap((node) => [node.name, node.name]) });
      cluster.addBudget({ namespace: SHOP.namespace, name: 'storefront', selector: { matchLabels: SHOP.labels }, maxUnavailable: '10%' });
      cluster.addDaemonSet({ namespace: 'kube-system', name: 'fleetpatch-agent', labels: { app: 'fleetpatch-agent' } });
    },
    rebooted(host, bootId) {
      if (host.labels.role !== 'k8s-node') return;
      cluster.setNodeReady(host.name, false, { reason: 'KubeletNotReady', message: 'the node is rebooting (simulated)' });
      later(bootMs, () => cluster.setNodeReady(host.name, true, undefined, { bootID: bootId }));
    },
    runbook,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      simulator.closeAllConnections();
      await Promise.all([cluster.close(), new Promise<void>((resolve) => simulator.close(() => resolve()))]);
    },
  };
}

/** Starts on the remembered port, or on any free one when it is taken (or none is remembered). */
async function onRememberedPort<T>(port: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  if (port !== undefined) {
    try {
      return await start(port);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
  return start(0);
}

function listen(port: number, handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Promise<Server> {
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 500, { error: error instanceof Error ? error.message : String(error) }));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** `name=version name=version` (FLEETPATCH_PACKAGES, FLEETPATCH_PREVIOUS) as install targets. */
function packageTargets(text: string): HostJob['packages'] {
  return text.split(/\s+/).filter(Boolean).map((pair) => {
    const separator = pair.indexOf('=');
    return { name: pair.slice(0, separator), version: pair.slice(separator + 1) };
  });
}

/** `sim-web-003` → `sim-web-003-g2` → `sim-web-003-g3`, skipping names already taken. */
function nextGeneration(name: string, hosts: readonly SimulatedHost[]): string {
  const match = /^(.*)-g(\d+)$/.exec(name);
  const stem = match ? match[1]! : name;
  let generation = match ? Number(match[2]) + 1 : 2;
  while (hosts.some((host) => host.name === `${stem}-g${generation}`)) generation++;
  return `${stem}-g${generation}`;
}

/** A fresh image: the host's packages at the versions the baseline carries (the fixes). */
function onBaseline(packages: readonly InstalledPackage[], baseline: readonly InstalledPackage[]): InstalledPackage[] {
  const newest = new Map(baseline.map((pkg) => [`${pkg.name} ${pkg.arch ?? ''}`, pkg]));
  return packages.map((pkg) => newest.get(`${pkg.name} ${pkg.arch ?? ''}`) ?? pkg);
}

/** The simulated image pipeline bakes the rollout's snapshot in: each package at least at its target version. */
function withAtLeast(packages: readonly InstalledPackage[], targets: ReadonlyArray<{ name: string; version: string }>): InstalledPackage[] {
  const wanted = new Map(targets.map((target) => [target.name, target.version]));
  return packages.map((pkg) => {
    const version = wanted.get(pkg.name);
    return version !== undefined && compareVersions(pkg.ecosystem, version, pkg.version) > 0 ? { ...pkg, version, ...(pkg.sourceName ? { sourceVersion: version } : {}) } : pkg;
  });
}

function shellQuote(word: string): string {
  return /^[\w./:=@-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return JSON.parse(text) as unknown;
}

function send(response: ServerResponse, code: number, body: unknown): void {
  response.writeHead(code, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
