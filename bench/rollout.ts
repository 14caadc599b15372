/**
 * `npm run bench:rollout`: the rollout engine at fleet scale, on loopback.
 *
 * A real server (its own process, `runServer` on an embedded PostgreSQL in a temp home) with a
 * policy whose window is open now and one bucket of BENCH_HOSTS (10,000) hosts, waves
 * [1, "5%", "25%", "100%"], maxInFlight BENCH_MAX_IN_FLIGHT ("20%"), a pre- and a post-check. Every
 * host checks its inventory in through the API (a package with a finding, the advisory synced
 * through the API), then one rollout patches the bucket: per host pending → notified → pre-check →
 * applying → post-check → monitoring → succeeded, six transitions, three jobs.
 *
 * The simulated agents speak the agent protocol over HTTP: each one long-polls
 * `GET /hosts/{name}/job`, "runs" the job for a random BENCH_STEP_MIN_MS–BENCH_STEP_MAX_MS
 * (100–1000 ms) of real time, posts its result and, after the upgrade, checks its new package
 * list in. Only hosts that can get a job soon poll (the next maxInFlight hosts in admission order
 * that have not finished), so 10,000 hosts cost one process a couple of thousand sockets, not ten
 * thousand long polls.
 *
 * Measured: host-step transitions per second (the timeline's host rows over their span), the
 * engine's pass durations (its `onPassTimed`), the latency of a separate steady stream of
 * check-ins (BENCH_STREAM_RATE per second, heartbeats with a share of full inventories, of hosts
 * in another bucket) before and while the rollout runs, and the server process's peak RSS and its main thread's event-loop delay.
 *
 * Environment: BENCH_HOSTS (10000), BENCH_MAX_IN_FLIGHT ("20%"), BENCH_STEP_MIN_MS (100),
 * BENCH_STEP_MAX_MS (1000), BENCH_STREAM_HOSTS (500), BENCH_STREAM_RATE (200),
 * BENCH_STREAM_INVENTORY_SHARE (0.1), BENCH_BASELINE_SECONDS (10), BENCH_MAX_SECONDS (150: the
 * rollout is cut off there), BENCH_SERVER_NODE_ARGS (more flags for the server's node, after bin/fleetpatch.js's: e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`),
 * BENCH_MAX_PASS_HOSTS (the engine's default, 100), BENCH_VERBOSE (the server's log on stderr), BENCH_SHOW_ACTIVITY (what the database waits on,
 * sampled each second).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import pg from 'pg';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import type { InstalledPackage } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { DEFAULT_MAX_PASS_HOSTS } from '../src/store/rollout-store.js';
import { packageListDigest, type CheckIn } from '../src/protocol/agent-protocol.js';
import type { HostJob, JobResult } from '../src/protocol/job-protocol.js';
import { runServer } from '../src/server/run-server.js';
import { takeOverShutdownSignals } from '../src/store/embedded-postgres.js';
import { serverNodeArgs } from './server-node-args.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10_000);
const MAX_IN_FLIGHT = process.env.BENCH_MAX_IN_FLIGHT ?? '20%';
const STEP_MIN_MS = Number(process.env.BENCH_STEP_MIN_MS ?? 100);
const STEP_MAX_MS = Number(process.env.BENCH_STEP_MAX_MS ?? 1_000);
const STREAM_HOSTS = Number(process.env.BENCH_STREAM_HOSTS ?? 500);
const STREAM_RATE = Number(process.env.BENCH_STREAM_RATE ?? 200);
const STREAM_INVENTORY_SHARE = Number(process.env.BENCH_STREAM_INVENTORY_SHARE ?? 0.1);
const BASELINE_SECONDS = Number(process.env.BENCH_BASELINE_SECONDS ?? 10);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 150);
const MAX_PASS_HOSTS = Number(process.env.BENCH_MAX_PASS_HOSTS ?? DEFAULT_MAX_PASS_HOSTS);

const TARGETS = { transitionsPerSecond: 1_000, passP99Ms: 50, rssMb: 1_024 };

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

/** Deadlocks PostgreSQL has detected (and broken by aborting a statement) in the bench's database. */
async function deadlocksSoFar(db: pg.Client | pg.Pool): Promise<number> {
  const row = await db.query<{ deadlocks: string }>('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()');
  return Number(row.rows[0]?.deadlocks ?? 0);
}

const ADVISORY = {
  id: 'DSA-9900-1', modified: '2026-11-01T00:00:00Z', published: '2026-11-01T00:00:00Z', summary: 'libfp: heap overflow',
  severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
  affected: [{ package: { ecosystem: 'Debian:12', name: 'libfp' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1' }] }] }],
};

const OS = { id: 'debian', idLike: [], versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)' };
/** A small Debian host: the vulnerable library and a few neighbours. */
function packages(libfp: string): InstalledPackage[] {
  const others = ['bash', 'coreutils', 'libc6', 'openssl', 'libssl3', 'systemd', 'curl', 'tar', 'gzip', 'sed'];
  return [
    { ecosystem: 'Debian:12', name: 'libfp1', version: libfp, arch: 'amd64', sourceName: 'libfp', sourceVersion: libfp },
    ...others.map((name, index) => ({ ecosystem: 'Debian:12', name, version: `1.${index}-1`, arch: 'amd64', sourceName: name, sourceVersion: `1.${index}-1` })),
  ];
}
const OLD = packages('1.0-1');
const NEW = packages('1.1-1');
const OLD_DIGEST = packageListDigest(OLD);
const NEW_DIGEST = packageListDigest(NEW);

function fullCheckIn(list: InstalledPackage[], digest: string, labels: Record<string, string>, bootId: string): CheckIn {
  return { kind: 'full', rebootRequired: false, labels, packageDigest: digest, packages: list, os: OS, osEcosystem: 'Debian:12', bootId, agentVersion: 'simulated' };
}

function policyText(now: Date): string {
  // A daily window that opened an hour ago and lasts six hours.
  const start = new Date(now.getTime() - 3_600_000);
  const hhmm = `${String(start.getUTCHours()).padStart(2, '0')}:${String(start.getUTCMinutes()).padStart(2, '0')}`;
  return `version: 1
windows:
  now: { timeZone: UTC, every: day, start: "${hhmm}", duration: 6h, admissionCutoff: 10m }
buckets:
  - name: web
    owner: web-team
    match: { labels: { role: web } }
    strategy: { kind: in-place }
    windows: [now]
    # The bench creates the rollout itself, as an operator would.
    scheduled: false
    waves: [1, "5%", "25%", "100%"]
    maxInFlight: "${MAX_IN_FLIGHT}"
    errorBudget: "1%"
    reboot: { policy: never }
    expectedHostDuration: 5m
    checks:
      pre: [{ name: healthy, command: "true" }]
      post: [{ name: healthy, command: "true" }]
fallback: { bucket: leftovers, owner: sre }
`;
}

// ---------------------------------------------------------------------------------------------
// The server process: `bench/rollout.ts --server` (its RSS and CPU are the server's alone).

async function serve(): Promise<void> {
  const { home, policyFile } = JSON.parse(process.env.BENCH_ROLLOUT_SERVER!) as { home: string; policyFile: string };
  let passes: string[] = [];
  const server = await runServer({
    port: 0, host: '127.0.0.1', home, staleAfterSeconds: 3600, openAdvisoryFeed: () => new MemoryFeed('bench', [advisoryFromOsv(ADVISORY, { file: 'bench' })]),
    syncIntervalSeconds: 0, policyFile, policyPollMs: 0, log: (line) => process.stderr.write(`[server] ${line}\n`),
    rolloutEngine: { maxHostsPerPass: MAX_PASS_HOSTS, onPassTimed: (ms, transitions, phases) => passes.push([ms, transitions, ...PHASES.map((phase) => phases[phase])].map((value) => value.toFixed(3)).join(' ')) },
  });
  // The main thread's event-loop delay since the last `loop` line on stdin (the bench asks at the stream's starts and stops).
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) {
      if (line.trim() !== 'loop') continue;
      process.stdout.write(`LOOP ${[loopDelay.percentile(50), loopDelay.percentile(99), loopDelay.max].map((ns) => (ns / 1e6).toFixed(2)).join(' ')}\n`);
      loopDelay.reset();
    }
  });
  setInterval(() => {
    if (passes.length === 0) return;
    process.stdout.write(`PASSES ${passes.join(',')}\n`);
    passes = [];
  }, 200).unref();
  process.stdout.write(`READY ${JSON.stringify({ url: server.url, adminToken: server.firstStart!.adminToken, databaseUrl: server.database.connectionString })}\n`);
  // The server's own shutdown stops the database last, as `fleetpatch server` does.
  takeOverShutdownSignals();
  process.on('SIGTERM', () => void server.stop().then(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------
// The load generator.

/** The server's main-thread event-loop delay over an interval, in milliseconds. */
interface LoopDelay { p50: number; p99: number; max: number }

interface ServerProcess {
  url: string; adminToken: string; databaseUrl: string; pid: number; postmasterPid: () => number | undefined; passes: Array<{ ms: number; transitions: number; phases: number[]; at: number }>;
  /** The server's event-loop delay since the last call. */
  loopDelay: () => Promise<LoopDelay>;
  stop: () => Promise<void>;
}

/** A pass's phases, as the engine reports them (`PassPhases`). */
const PHASES = ['begin', 'lock', 'read', 'decide', 'write', 'commit'] as const;

async function startServer(home: string, policyFile: string): Promise<ServerProcess> {
  const nodeArgs = serverNodeArgs();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', import.meta.filename, '--server'], {
    env: { ...process.env, BENCH_ROLLOUT_SERVER: JSON.stringify({ home, policyFile }) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const loopAnswers: Array<(delay: LoopDelay) => void> = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8000);
    if (process.env.BENCH_VERBOSE) process.stderr.write(chunk);
  });
  const passes: ServerProcess['passes'] = [];
  let buffered = '';
  const ready = new Promise<{ url: string; adminToken: string; databaseUrl: string }>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith('READY ')) resolve(JSON.parse(line.slice(6)));
        else if (line.startsWith('LOOP ')) {
          const [p50, p99, max] = line.slice(5).split(' ').map(Number);
          loopAnswers.shift()?.({ p50: p50!, p99: p99!, max: max! });
        }
        else if (line.startsWith('PASSES ')) {
          const at = performance.now();
          for (const pass of line.slice(7).split(',')) {
            const [ms, transitions, ...phases] = pass.split(' ').map(Number);
            passes.push({ ms: ms!, transitions: transitions!, phases, at });
          }
        }
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  const unexpected = (code: number | null) => log(`the server exited (${code}) during the run:\n${stderr}`);
  const started = await ready;
  child.on('exit', unexpected);
  return {
    ...started, pid: child.pid!, passes,
    loopDelay: () => new Promise((answer) => {
      loopAnswers.push(answer);
      child.stdin.write('loop\n');
    }),
    postmasterPid: () => {
      try {
        return Number(readFileSync(join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        return undefined;
      }
    },
    stop: () => new Promise((done) => {
      child.off('exit', unexpected);
      child.on('exit', () => done());
      child.kill('SIGTERM');
    }),
  };
}

/** CPU seconds of the postmaster and its backends. */
function postgresCpuSeconds(postmaster: number | undefined): number {
  if (postmaster === undefined) return Number.NaN;
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      if (Number(entry) === postmaster || Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return ticks / 100;
}

function rssMb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

const percentile = (sorted: readonly number[], share: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? Number.NaN;

// Requests go over keep-alive sockets: one pool for the short requests, one for long polls.
const shortAgent = new http.Agent({ keepAlive: true, maxSockets: 128 });
const pollAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
// The simulated agents' results and check-ins: a real agent has a connection of its own, so they
// never queue behind each other's sockets in this process. (The stream keeps one per host.)
const agentsAgent = new http.Agent({ keepAlive: true, maxSockets: Infinity });

function request(url: string, method: string, token: string, body?: unknown, agent: http.Agent = shortAgent): Promise<{ status: number; json?: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const attempt = (retry: boolean): Promise<{ status: number; json?: unknown }> => new Promise((resolve, reject) => {
    const outgoing = http.request(url, {
      method, agent,
      headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ status: response.statusCode ?? 0, ...(text ? { json: JSON.parse(text) as unknown } : {}) }));
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => (retry && error.code === 'ECONNRESET' ? attempt(false).then(resolve, reject) : reject(error)));
    outgoing.end(payload);
  });
  return attempt(true);
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** As an agent does: a request that got no answer (a keep-alive socket closed under it) is sent again. */
async function persistently<T>(send: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await send();
    } catch (error) {
      if (tries >= 5) throw error;
      await sleep(100 * tries);
    }
  }
}

/** A steady open-loop stream of check-ins of hosts outside the rollout; latency counted from each one's scheduled send. */
async function checkInStream(server: Pick<ServerProcess, 'url' | 'adminToken'>, hosts: readonly string[], until: () => boolean): Promise<{ heartbeats: number[]; inventories: number[]; errors: number; worstSeconds: Array<[number, number]> }> {
  const heartbeats: number[] = [];
  const inventories: number[] = [];
  /** The slowest check-in sent in each second of the stream: when a stall happened. */
  const slowestBySecond = new Map<number, number>();
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const busy = new Set<string>();
  // One keep-alive connection per host, as a real agent has: its check-ins follow each other on it.
  const connections = new Map<string, http.Agent>();
  const connectionOf = (host: string) => {
    let agent = connections.get(host);
    if (!agent) connections.set(host, (agent = new http.Agent({ keepAlive: true, maxSockets: 1 })));
    return agent;
  };
  const started = performance.now();
  let sent = 0;
  let cursor = 0;
  while (!until()) {
    const due = Math.floor(((performance.now() - started) / 1000) * STREAM_RATE);
    for (; sent < due; sent++) {
      const scheduled = started + (sent / STREAM_RATE) * 1000;
      let host = hosts[cursor++ % hosts.length]!;
      for (let tries = 0; busy.has(host) && tries < hosts.length; tries++) host = hosts[cursor++ % hosts.length]!;
      const inventory = Math.random() < STREAM_INVENTORY_SHARE;
      busy.add(host);
      const sending = (inventory
        ? request(`${server.url}/api/v1/hosts/${host}/inventory`, 'PUT', server.adminToken, fullCheckIn(OLD, OLD_DIGEST, { role: 'batch' }, `boot-${host}`), connectionOf(host))
        : request(`${server.url}/api/v1/hosts/${host}/heartbeat`, 'POST', server.adminToken, { packageDigest: OLD_DIGEST, bootId: `boot-${host}` }, connectionOf(host))
      ).then((response) => {
        if (response.status >= 300) errors++;
        const latency = performance.now() - scheduled;
        (inventory ? inventories : heartbeats).push(latency);
        const second = Math.floor((scheduled - started) / 1000);
        slowestBySecond.set(second, Math.max(slowestBySecond.get(second) ?? 0, latency));
      }, () => void errors++).finally(() => busy.delete(host));
      inFlight.add(sending);
      void sending.finally(() => inFlight.delete(sending));
    }
    await sleep(2);
  }
  await Promise.all(inFlight);
  heartbeats.sort((a, b) => a - b);
  inventories.sort((a, b) => a - b);
  const worstSeconds = [...slowestBySecond].sort((a, b) => b[1] - a[1]).slice(0, 5);
  return { heartbeats, inventories, errors, worstSeconds };
}

/**
 * The simulated agents: the next `window` hosts in admission order that have not finished each
 * long-poll for their job, run it, report it, check in after the upgrade; a host is done after
 * its post-check (the last step this bucket has). Ends when every host is done or `stop` holds.
 */
async function driveAgents(server: ServerProcess, order: readonly string[], window: number, stop: () => boolean): Promise<{ jobs: number; errors: string[] }> {
  let next = 0;
  let jobs = 0;
  const errors: string[] = [];
  const agent = async (host: string) => {
    const bootId = `boot-${host}`;
    for (;;) {
      if (stop()) return;
      const polled = await persistently(() => request(`${server.url}/api/v1/hosts/${host}/job?waitSeconds=10`, 'GET', server.adminToken, undefined, pollAgent));
      if (polled.status === 204) continue;
      if (polled.status !== 200) throw new Error(`job of ${host}: ${polled.status} ${JSON.stringify(polled.json)}`);
      const job = polled.json as HostJob;
      const startedAt = new Date().toISOString();
      await sleep(STEP_MIN_MS + Math.random() * (STEP_MAX_MS - STEP_MIN_MS));
      const replaced = job.step === 'upgrade' ? job.packages.map((target) => ({ name: target.name, from: '1.0-1', to: target.version })) : [];
      const result: JobResult = { outcome: 'succeeded', exitCode: 0, output: `simulated: ${job.step} done\n`, replaced, startedAt, finishedAt: new Date().toISOString() };
      const reported = await persistently(() => request(`${server.url}/api/v1/hosts/${host}/jobs/${encodeURIComponent(job.key)}/result`, 'POST', server.adminToken, result, agentsAgent));
      if (reported.status !== 200) throw new Error(`result of ${job.key}: ${reported.status} ${JSON.stringify(reported.json)}`);
      jobs++;
      if (job.step === 'upgrade') {
        const checkedIn = await persistently(() => request(`${server.url}/api/v1/hosts/${host}/inventory`, 'PUT', server.adminToken, fullCheckIn(NEW, NEW_DIGEST, { role: 'web', ...(host === order[0] ? { canary: 'true' } : {}) }, bootId), agentsAgent));
        if (checkedIn.status !== 200) throw new Error(`check-in of ${host}: ${checkedIn.status} ${JSON.stringify(checkedIn.json)}`);
      }
      if (job.step === 'post-check') return;
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, order.length) }, async () => {
    while (next < order.length && !stop()) {
      const host = order[next++]!;
      try {
        await agent(host);
      } catch (error) {
        if (errors.length < 5) errors.push(String(error));
      }
    }
  }));
  return { jobs, errors };
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'fleetpatch-bench-rollout-'));
  // Run as root, the embedded PostgreSQL runs as its own user, which must reach its data directory.
  chmodSync(home, 0o755);
  const policyFile = join(home, 'fleetpatch.yaml');
  writeFileSync(policyFile, policyText(new Date()));
  const server = await startServer(join(home, 'server'), policyFile);
  const db = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
  try {
    log(`server on ${server.url} (pid ${server.pid}), ${rssMb(server.pid).toFixed(0)} MB`);
    const synced = await request(`${server.url}/api/v1/advisories/sync`, 'POST', server.adminToken);
    if (synced.status !== 200) throw new Error(`advisory sync: ${synced.status} ${JSON.stringify(synced.json)}`);

    // The fleet checks in through the API: the rollout's bucket and the stream's hosts.
    const web = Array.from({ length: HOSTS }, (_, index) => `web-${String(index).padStart(5, '0')}`);
    const batch = Array.from({ length: STREAM_HOSTS }, (_, index) => `batch-${String(index).padStart(4, '0')}`);
    let started = performance.now();
    await pool([...web, ...batch], 32, async (host) => {
      const labels = host.startsWith('web-') ? { role: 'web', ...(host === web[0] ? { canary: 'true' } : {}) } : { role: 'batch' };
      const response = await request(`${server.url}/api/v1/hosts/${host}/inventory`, 'PUT', server.adminToken, fullCheckIn(OLD, OLD_DIGEST, labels, `boot-${host}`));
      if (response.status !== 200) throw new Error(`check-in of ${host}: ${response.status} ${JSON.stringify(response.json)}`);
    });
    const fleetSeconds = (performance.now() - started) / 1000;
    const findings = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM findings WHERE state = 'vulnerable'");
    log(`${web.length + batch.length} hosts checked in through the API in ${fleetSeconds.toFixed(1)} s; ${findings.rows[0]!.n} open findings`);
    await db.query('VACUUM ANALYZE');

    // The steady check-in stream without a rollout.
    await server.loopDelay();
    const baselineStream = startStream(server, batch);
    await sleep(BASELINE_SECONDS * 1000);
    const baseline = await baselineStream.stop();
    const baselineLoop = await server.loopDelay();
    const baselineLoad = loadavg()[0]!;
    log(`baseline stream: ${baseline.heartbeats.length + baseline.inventories.length} check-ins, p99 ${percentile(baseline.heartbeats, 0.99).toFixed(1)} ms (heartbeats) / ${percentile(baseline.inventories, 0.99).toFixed(1)} ms (inventories)`);

    // The rollout.
    const draft = await request(`${server.url}/api/v1/rollouts`, 'POST', server.adminToken, { bucket: 'web', dryRun: true });
    if (draft.status !== 200) throw new Error(`dry run: ${draft.status} ${JSON.stringify(draft.json)}`);
    const { waves, settings } = draft.json as { waves: Array<{ wave: number; hosts: string[] }>; settings: { maxInFlight: number } };
    const order = waves.flatMap((wave) => wave.hosts);
    log(`rollout of ${order.length} hosts in waves of ${waves.map((wave) => wave.hosts.length).join(', ')}, maxInFlight ${settings.maxInFlight}`);
    const rssBefore = rssMb(server.pid);
    let peakRss = rssBefore;
    const cpuBefore = cpuSeconds(server.pid);
    const passesBefore = server.passes.length;
    const created = await request(`${server.url}/api/v1/rollouts`, 'POST', server.adminToken, { bucket: 'web', reason: 'bench' });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.json)}`);
    const id = (created.json as { id: number }).id;
    const rolloutStarted = performance.now();
    let finished = false;
    let state = 'created';
    const cutoff = rolloutStarted + MAX_SECONDS * 1000;
    const stop = () => finished || performance.now() > cutoff;
    const loads: number[] = [];
    const watcher = (async () => {
      let lastLog = performance.now();
      let lastActivity = 0;
      while (!stop()) {
        peakRss = Math.max(peakRss, rssMb(server.pid));
        const row = await db.query<{ state: string }>('SELECT state FROM rollouts WHERE id = $1', [id]);
        state = row.rows[0]!.state;
        if (['succeeded', 'completed-with-errors', 'canceled', 'halted'].includes(state)) finished = true;
        if (performance.now() - lastLog > 5_000) {
          lastLog = performance.now();
          loads.push(loadavg()[0]!);
          const counts = await db.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM rollout_hosts WHERE rollout_id = $1 GROUP BY state ORDER BY state', [id]);
          // Where hosts wait: for their agent to fetch a job, for it to report, for a pass to read the news.
          const waits = await db.query<{ unfetched: number; running: number; news: number }>(
            `SELECT (SELECT count(*)::int FROM rollout_jobs WHERE rollout_id = $1 AND fetched_at IS NULL) AS unfetched,
                    (SELECT count(*)::int FROM rollout_jobs WHERE rollout_id = $1 AND fetched_at IS NOT NULL AND reported_at IS NULL) AS running,
                    (SELECT count(DISTINCT host)::int FROM rollout_news WHERE rollout_id = $1) AS news`,
            [id],
          );
          const wait = waits.rows[0]!;
          log(`${((performance.now() - rolloutStarted) / 1000).toFixed(0)} s: ${state}; ${counts.rows.map((count) => `${count.state} ${count.n}`).join(', ')}; jobs unfetched ${wait.unfetched}, running ${wait.running}; news unread ${wait.news}; RSS ${rssMb(server.pid).toFixed(0)} MB; load ${loadavg()[0]!.toFixed(2)}`);
        }
        if (process.env.BENCH_SHOW_ACTIVITY && performance.now() - lastActivity > 1_000) {
          lastActivity = performance.now();
          const activity = await db.query<{ wait: string | null; query: string; n: number; oldest: number }>("SELECT wait_event_type || ':' || wait_event AS wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS query, count(*)::int AS n, coalesce(max(extract(epoch FROM now() - query_start)), 0)::float8 AS oldest FROM pg_stat_activity WHERE state <> 'idle' AND pid <> pg_backend_pid() AND backend_type = 'client backend' GROUP BY 1, 2 ORDER BY 4 DESC LIMIT 6");
          log(`  db at ${((performance.now() - rolloutStarted) / 1000).toFixed(0)} s:`);
          for (const row of activity.rows) log(`    ${row.n} × ${row.wait ?? 'on CPU'} (oldest ${row.oldest.toFixed(2)} s): ${row.query}`);
        }
        await sleep(200);
      }
    })();
    await server.loopDelay();
    const duringStream = startStream(server, batch);
    const generatorCpu = process.cpuUsage();
    const postgresBefore = postgresCpuSeconds(server.postmasterPid());
    const deadlocksBefore = await deadlocksSoFar(db);
    const generatorDelay = monitorEventLoopDelay({ resolution: 5 });
    generatorDelay.enable();
    const [driven] = await Promise.all([driveAgents(server, order, settings.maxInFlight, stop), watcher]);
    // The last passes (monitoring → succeeded) after the agents are done.
    while (!stop()) await sleep(100);
    const during = await duringStream.stop();
    const duringLoop = await server.loopDelay();
    log(`slowest check-ins while the rollout ran, by second of the stream: ${during.worstSeconds.map(([second, ms]) => `${second} s: ${ms.toFixed(0)} ms`).join(', ')}`);
    // The server's own view (its request histogram): requests it took over a second to answer.
    const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${server.adminToken}` } }).then((response) => response.text());
    const slowByRoute = new Map<string, { slow: number; all: number }>();
    for (const line of metrics.split('\n')) {
      const bucket = /^fleetpatch_server_http_request_duration_seconds_bucket\{([^}]*)\} (\d+)/.exec(line);
      const le = bucket && /le="([^"]*)"/.exec(bucket[1]!)?.[1];
      if (!bucket || (le !== '1' && le !== '+Inf')) continue;
      const route = /route="([^"]*)"/.exec(bucket[1]!)?.[1] ?? '?';
      const entry = slowByRoute.get(route) ?? { slow: 0, all: 0 };
      if (le === '1') entry.slow -= Number(bucket[2]);
      else {
        entry.slow += Number(bucket[2]);
        entry.all += Number(bucket[2]);
      }
      slowByRoute.set(route, entry);
    }
    log(`requests the server answered in over 1 s: ${[...slowByRoute].filter(([, entry]) => entry.slow > 0).map(([route, entry]) => `${route} ${entry.slow} of ${entry.all}`).join(', ') || 'none'}`);
    generatorDelay.disable();
    const generatorCores = (() => {
      const used = process.cpuUsage(generatorCpu);
      return (used.user + used.system) / 1e6;
    })();
    const postgresSeconds = postgresCpuSeconds(server.postmasterPid()) - postgresBefore;
    const deadlocks = (await deadlocksSoFar(db)) - deadlocksBefore;
    const rolloutSeconds = (performance.now() - rolloutStarted) / 1000;
    const serverCores = (cpuSeconds(server.pid) - cpuBefore) / rolloutSeconds;
    peakRss = Math.max(peakRss, rssMb(server.pid));
    await sleep(400); // the last pass timings
    if (driven.errors.length > 0) log(`agent errors: ${driven.errors.join('; ')}`);

    const span = await db.query<{ n: number; seconds: number | null; succeeded: number }>(
      `SELECT count(*)::int AS n, extract(epoch FROM max(at) - min(at))::float8 AS seconds,
              (SELECT count(*)::int FROM rollout_hosts WHERE rollout_id = $1 AND state = 'succeeded') AS succeeded
         FROM rollout_events WHERE rollout_id = $1 AND kind = 'host'`,
      [id],
    );
    const { n: transitions, seconds: eventSeconds, succeeded } = span.rows[0]!;
    // Where a host's time goes, job by job: waiting to be fetched, running (the simulated step and
    // the result's way back), and from a result to the host's next job (the engine's reaction,
    // and after an upgrade the check-in that verifies it).
    const jobTimes = await db.query<{ fetch: number[]; run: number[]; next: number[] }>(
      `WITH jobs AS (
         SELECT dispatched_at, fetched_at, reported_at, lead(dispatched_at) OVER (PARTITION BY host ORDER BY dispatched_at) AS next_at
           FROM rollout_jobs WHERE rollout_id = $1
       )
       SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM fetched_at - dispatched_at) * 1000) AS fetch,
              percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM reported_at - fetched_at) * 1000) AS run,
              percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM next_at - reported_at) * 1000) AS next
         FROM jobs`,
      [id],
    );
    const jobPhase = (values: number[] | null) => (values ? values.map((value) => value.toFixed(0)).join(' / ') : '–');
    const passes = server.passes.slice(passesBefore);
    const passTimes = passes.map((pass) => pass.ms).sort((a, b) => a - b);
    const busyPasses = passes.filter((pass) => pass.transitions > 0).map((pass) => pass.transitions).sort((a, b) => a - b);
    const rate = transitions / (eventSeconds || rolloutSeconds);
    const passP99 = percentile(passTimes, 0.99);
    const load = loadavg();

    const fmt = (sorted: number[]) => `${percentile(sorted, 0.5).toFixed(1)} / ${percentile(sorted, 0.99).toFixed(1)}`;
    const moved = (base: number[], now: number[], share: number) => `${(percentile(now, share) - percentile(base, share) >= 0 ? '+' : '')}${(percentile(now, share) - percentile(base, share)).toFixed(1)}`;
    const rows: Array<[string, string, string, string]> = [
      ['hosts in the rollout / succeeded', `${order.length} / ${succeeded}`, '', ''],
      [`rollout ${id}: final state, wall time (s)`, `${state}, ${rolloutSeconds.toFixed(1)}${finished ? '' : ' (cut off)'}`, '', finished && state === 'succeeded' ? 'yes' : 'NO'],
      ['host-step transitions (timeline)', String(transitions), '', ''],
      ['host-step transitions / s (over the timeline span)', rate.toFixed(0), `>= ${TARGETS.transitionsPerSecond}`, rate >= TARGETS.transitionsPerSecond ? 'yes' : 'NO'],
      ['jobs run by the simulated agents', String(driven.jobs), '', ''],
      ['a job: dispatched → fetched by its agent, p50 / p99 (ms)', jobPhase(jobTimes.rows[0]!.fetch), '', ''],
      [`a job: fetched → result recorded (its step takes ${STEP_MIN_MS}–${STEP_MAX_MS}), p50 / p99 (ms)`, jobPhase(jobTimes.rows[0]!.run), '', ''],
      ['a job: result recorded → the host\'s next job dispatched, p50 / p99 (ms)', jobPhase(jobTimes.rows[0]!.next), '', ''],
      ['scheduling passes', String(passes.length), '', ''],
      ['pass duration p50 / p99 / max (ms)', `${fmt(passTimes)} / ${(passTimes.at(-1) ?? Number.NaN).toFixed(1)}`, `p99 <= ${TARGETS.passP99Ms}`, passP99 <= TARGETS.passP99Ms ? 'yes' : 'NO'],
      ['transitions per pass that wrote any: p50 / p99', fmt(busyPasses), '', ''],
      ...PHASES.map((phase, index): [string, string, string, string] => [`  pass phase ${phase}: p50 / p99 (ms)`, fmt(passes.map((pass) => pass.phases[index]!).sort((a, b) => a - b)), '', '']),
      ['check-in stream: heartbeats p50 / p99 (ms), no rollout', fmt(baseline.heartbeats), '', ''],
      ['check-in stream: heartbeats p50 / p99 (ms), rollout running', fmt(during.heartbeats), '', ''],
      ['  heartbeats moved p50 / p99 (ms)', `${moved(baseline.heartbeats, during.heartbeats, 0.5)} / ${moved(baseline.heartbeats, during.heartbeats, 0.99)}`, 'report', ''],
      ['check-in stream: inventories p50 / p99 (ms), no rollout', fmt(baseline.inventories), '', ''],
      ['check-in stream: inventories p50 / p99 (ms), rollout running', fmt(during.inventories), '', ''],
      ['  inventories moved p50 / p99 (ms)', `${moved(baseline.inventories, during.inventories, 0.5)} / ${moved(baseline.inventories, during.inventories, 0.99)}`, 'report', ''],
      ['deadlocks PostgreSQL broke during the rollout (the statement retried, a pass tried again)', String(deadlocks), '', ''],
      ['check-in stream errors (no rollout / running)', `${baseline.errors} / ${during.errors}`, '', ''],
      ['CPU during the rollout (cores busy): server / PostgreSQL / agents', `${serverCores.toFixed(2)} / ${(postgresSeconds / rolloutSeconds).toFixed(2)} / ${(generatorCores / rolloutSeconds).toFixed(2)}`, '', ''],
      ['event-loop delay p50 / p99 / max (ms): server main thread, no rollout / running', [baselineLoop, duringLoop].map((delay) => `${delay.p50.toFixed(1)} / ${delay.p99.toFixed(1)} / ${delay.max.toFixed(0)}`).join(', '), '', ''],
      ['event-loop delay p99 / max (ms): simulated agents', `${(generatorDelay.percentile(99) / 1e6).toFixed(1)} / ${(generatorDelay.max / 1e6).toFixed(0)}`, '', ''],
      ['event-loop delay p99 / max (ms): check-in stream, no rollout / running', `${baseline.loopDelayP99.toFixed(1)} / ${baseline.loopDelayMax.toFixed(0)}, ${during.loopDelayP99.toFixed(1)} / ${during.loopDelayMax.toFixed(0)}`, '', ''],
      ['server RSS before / peak during the rollout (MB)', `${rssBefore.toFixed(0)} / ${peakRss.toFixed(0)}`, `<= ${TARGETS.rssMb}`, peakRss <= TARGETS.rssMb ? 'yes' : 'NO'],
      ['machine load average (1 min): baseline / during (max) / end', `${baselineLoad.toFixed(2)} / ${Math.max(...loads, 0).toFixed(2)} / ${load[0]!.toFixed(2)}`, '', ''],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    const valueWidth = Math.max(...rows.map(([, value]) => value.length));
    process.stdout.write(`\nbench:rollout — ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown cpu'}), load average ${load.map((value) => value.toFixed(2)).join(' ')}
${HOSTS} hosts, waves [1, 5%, 25%, 100%], maxInFlight ${MAX_IN_FLIGHT} (${settings.maxInFlight}), ${MAX_PASS_HOSTS} hosts per pass, steps ${STEP_MIN_MS}–${STEP_MAX_MS} ms, check-in stream ${STREAM_RATE}/s (${(STREAM_INVENTORY_SHARE * 100).toFixed(0)}% full inventories) over ${STREAM_HOSTS} other hosts

| ${'measure'.padEnd(width)} | ${'value'.padEnd(valueWidth)} | target        | met |
|${'-'.repeat(width + 2)}|${'-'.repeat(valueWidth + 2)}|---------------|-----|
${rows.map(([label, value, target, met]) => `| ${label.padEnd(width)} | ${value.padEnd(valueWidth)} | ${target.padEnd(13)} | ${met.padEnd(3)} |`).join('\n')}
`);
  } finally {
    await db.end();
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

/** The check-in stream in a process of its own (the agents' load must not delay its sends): runs until a line on stdin, then prints what it measured. */
async function streamProcess(): Promise<void> {
  const { url, adminToken, hosts } = JSON.parse(process.env.BENCH_ROLLOUT_STREAM!) as { url: string; adminToken: string; hosts: string[] };
  let stopped = false;
  process.stdin.once('data', () => (stopped = true));
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  const measured = await checkInStream({ url, adminToken }, hosts, () => stopped);
  // Exits once the pipe has taken it all: a large write to a pipe completes asynchronously.
  process.stdout.write(`${JSON.stringify({ ...measured, loopDelayP99: delay.percentile(99) / 1e6, loopDelayMax: delay.max / 1e6 })}\n`, () => process.exit(0));
}

type StreamResult = Awaited<ReturnType<typeof checkInStream>> & { loopDelayP99: number; loopDelayMax: number };

/** Starts the stream process; `stop` ends it and answers its latencies. */
function startStream(server: ServerProcess, hosts: readonly string[]): { stop: () => Promise<StreamResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--stream'], {
    env: { ...process.env, BENCH_ROLLOUT_STREAM: JSON.stringify({ url: server.url, adminToken: server.adminToken, hosts }) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    stop: async () => {
      child.stdin.end('stop\n');
      await exited;
      return JSON.parse(output) as StreamResult;
    },
  };
}

if (process.argv.includes('--server')) await serve();
else if (process.argv.includes('--stream')) await streamProcess();
else {
  await main();
  process.exit(0);
}
