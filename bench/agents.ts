/**
 * `npm run bench:agents`: the control plane under agent load, on loopback.
 *
 * Starts a real `fleetpatch server` process on a PostgreSQL of its own, enrolls N simulated agents
 * (fleetpatch's simulator over the real AlmaLinux and Debian data), sends each a full inventory,
 * then runs the steady state (heartbeats, with a share of deltas) for a fixed time: saturated
 * (a fixed number in flight: the most check-ins/s the server sustains), then BENCH_PACED_RUNS
 * times paced at the target rate (open loop: the latency agents see at that rate), reported as
 * min / median / max over the runs. Then it grows the fleet until the server holds
 * BENCH_SUMMARY_HOSTS hosts, and reports the server's RSS there and the fleet summary API's
 * latency. BENCH_GROWTH=api checks every new host's full inventory in through the API (about 35
 * minutes for 100,000); the default, bulk, imports them straight into the database (the store's
 * bulk path, as bench:scan does), then the server serves them: every one sends a heartbeat, and
 * BENCH_GROWTH_FULL (8000) of them a full inventory through the API, which with the agents fills
 * the server's per-host caches (the last package lists) to their bound.
 *
 * Environment: BENCH_AGENTS (2000), BENCH_SECONDS (20), BENCH_PACED_RUNS (5), BENCH_CONCURRENCY
 * (64), BENCH_RATE (2000), BENCH_DELTA_SHARE (0.01), BENCH_SUMMARY_HOSTS (100000), BENCH_GROWTH
 * (bulk), BENCH_GROWTH_FULL (8000), FLEETPATCH_DATA_DIR, and BENCH_SERVER_NODE_ARGS: more flags for
 * the server's node, after those bin/fleetpatch.js gives it (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { DetectionService } from '../src/app/detection-service.js';
import { importAdvisories } from '../src/app/advisory-import.js';
import { importInventories } from '../src/app/inventory-import.js';
import type { HostInventory } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { packageDelta, packageListDigest } from '../src/protocol/agent-protocol.js';
import { simulateFleet } from '../src/simulator/fleet-simulator.js';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres.js';
import { migrate } from '../src/store/migrate.js';
import { almaLinuxAdvisories, fullCheckIn, realBaselines } from '../test/simulated-fleet.js';
import { serverNodeArgs } from './server-node-args.js';

const AGENTS = Number(process.env.BENCH_AGENTS ?? 2_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const PACED_RUNS = Number(process.env.BENCH_PACED_RUNS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
// Agents check in every 15 minutes and packages change about daily: most check-ins are heartbeats.
const DELTA_SHARE = Number(process.env.BENCH_DELTA_SHARE ?? 0.01);
const SUMMARY_HOSTS = Number(process.env.BENCH_SUMMARY_HOSTS ?? 100_000);
const GROWTH = process.env.BENCH_GROWTH ?? 'bulk';
const GROWTH_FULL = Number(process.env.BENCH_GROWTH_FULL ?? 8_000);
// The rate the target is stated at: latency is measured there, not only at saturation.
const PACED_RATE = Number(process.env.BENCH_RATE ?? 2_000);
const repoRoot = resolve(import.meta.dirname, '..');

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);

function percentile(sorted: number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * share))] ?? Number.NaN;
}

/** CPU seconds (user + system) and resident memory of a process, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(stat[11]) + Number(stat[12]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssMb: rssKb / 1024 };
}

async function startServer(databaseUrl: string): Promise<{ url: string; adminToken: string; enrollmentToken: string; pid: number; log: () => string; stop: () => Promise<void> }> {
  const nodeArgs = serverNodeArgs();
  const child = spawn(process.execPath, [...nodeArgs, join(repoRoot, 'bin/fleetpatch.js'), 'server', '--port', '0', '--sync-interval', '0', '--stale-after', '3600'], {
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolveUrl(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${stderr}`)));
  });
  // A server that dies under load would otherwise surface only as the next request's ECONNREFUSED.
  const unexpectedExit = (code: number | null) => log(`the server exited (${code}) during the run:\n${stderr.slice(-4000)}`);
  child.on('exit', unexpectedExit);
  while (!/enrollment token/.test(stdout)) await new Promise((wait) => setTimeout(wait, 50));
  return {
    url,
    pid: child.pid!,
    log: () => stderr.slice(-4000),
    adminToken: /admin token:\s+(\S+)/.exec(stdout)![1]!,
    enrollmentToken: /enrollment token:\s+(\S+)/.exec(stdout)![1]!,
    stop: () => new Promise((done) => {
      child.off('exit', unexpectedExit);
      child.on('exit', () => done());
      child.kill('SIGTERM');
    }),
  };
}

// node:http with keep-alive costs the load generator less CPU per request than fetch, leaving
// more of the two cores to the server being measured.
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 256 });

/**
 * One request; a keep-alive socket the server closed while idle (a reset before any answer) is
 * retried once on a connection of its own, as an agent would: the pool's other sockets, idle
 * just as long, may be closing at that very moment.
 */
async function request(url: string, method: string, token: string | undefined, body?: unknown): Promise<{ status: number; ms: number; json?: unknown }> {
  const started = performance.now();
  try {
    return await requestOnce(url, method, token, body, keepAlive);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') throw error;
    const retried = await requestOnce(url, method, token, body, false);
    return { ...retried, ms: performance.now() - started };
  }
}

function requestOnce(url: string, method: string, token: string | undefined, body: unknown, agent: http.Agent | false): Promise<{ status: number; ms: number; json?: unknown }> {
  const started = performance.now();
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolveResponse, reject) => {
    const outgoing = http.request(url, {
      method,
      agent,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...(payload ? { 'content-length': Buffer.byteLength(payload) } : {}) },
    }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => {
        resolveResponse({ status: response.statusCode ?? 0, ms: performance.now() - started, ...(text ? { json: JSON.parse(text) as unknown } : {}) });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/**
 * The server's own view from /metrics: event-loop delay since the previous scrape (prom-client
 * restarts its window on every scrape) and the total time spent in garbage collection so far.
 */
async function serverHealth(url: string): Promise<{ loopDelayP99: number; loopDelayMax: number; heapUsedMb: number; gcSeconds: { minor: number; major: number }; durations: DurationBuckets }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
  const durations: DurationBuckets = { heartbeat: new Map(), inventory: new Map() };
  for (const match of text.matchAll(/^fleetpatch_server_http_request_duration_seconds_bucket\{le="([^"]+)",route="\/api\/v1\/hosts\/:name\/(heartbeat|inventory)",status="2\d\d"\} (\S+)$/gm)) {
    const buckets = durations[match[2] as keyof DurationBuckets];
    buckets.set(match[1]!, (buckets.get(match[1]!) ?? 0) + Number(match[3]));
  }
  return {
    durations,
    loopDelayP99: value(/^fleetpatch_server_nodejs_eventloop_lag_p99_seconds (\S+)$/m),
    loopDelayMax: value(/^fleetpatch_server_nodejs_eventloop_lag_max_seconds (\S+)$/m),
    heapUsedMb: value(/^fleetpatch_server_nodejs_heap_size_used_bytes (\S+)$/m) / 1024 / 1024,
    gcSeconds: {
      minor: value(/^fleetpatch_server_nodejs_gc_duration_seconds_sum\{kind="minor"\} (\S+)$/m) || 0,
      major: value(/^fleetpatch_server_nodejs_gc_duration_seconds_sum\{kind="major"\} (\S+)$/m) || 0,
    },
  };
}

/** Requests answered per route kind by upper bound (`le`, seconds), cumulative, as /metrics counts them since the start. */
interface DurationBuckets {
  heartbeat: Map<string, number>;
  inventory: Map<string, number>;
}

/**
 * The server's own p99 between two scrapes: the smallest bucket bound below which 99 % of the
 * requests answered meanwhile fell (the time from the request's first middleware to its answer,
 * so a request waiting for the event loop to read it is not counted: the gap to the agents' p99).
 */
function serverP99(before: Map<string, number>, after: Map<string, number>): number {
  const bounds = [...after.keys()].sort((a, b) => Number(a) - Number(b));
  const total = (after.get('+Inf') ?? 0) - (before.get('+Inf') ?? 0);
  for (const bound of bounds) if ((after.get(bound) ?? 0) - (before.get(bound) ?? 0) >= 0.99 * total) return Number(bound) * 1000;
  return Number.NaN;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await work(items[next++]!);
  }));
}

/** What one paced run measured. */
interface PacedRun {
  rate: number;
  p50: number;
  p99: number;
  heartbeatP99: number;
  deltaP50: number;
  deltaP99: number;
  deltas: number;
  errors: number;
  serverCores: number;
  serverHeartbeatP99: number;
  serverDeltaP99: number;
  serverLoopP99: number;
  serverLoopMax: number;
  generatorLoopP99: number;
  generatorLoopMax: number;
  gcMinor: number;
  gcMajor: number;
  /** The machine's one-minute load average at the end of the run: a busy machine inflates everything. */
  loadAverage: number;
}

/** The paced runs as min / median / max of each measure, beside the targets. */
function pacedTable(runs: PacedRun[]): string {
  const measures: Array<[string, (run: PacedRun) => number, number]> = [
    ['achieved check-ins/s', (run) => run.rate, 0],
    ['p50 latency from scheduled send (ms)', (run) => run.p50, 1],
    ['p99 latency (ms)', (run) => run.p99, 1],
    ['heartbeats p99 (ms)  [target <= 50]', (run) => run.heartbeatP99, 1],
    ['deltas p50 (ms)', (run) => run.deltaP50, 1],
    ['deltas p99 (ms)  [target <= 150]', (run) => run.deltaP99, 1],
    ['deltas sent', (run) => run.deltas, 0],
    ['errors', (run) => run.errors, 0],
    ['server CPU (cores busy)', (run) => run.serverCores, 2],
    ['server-side heartbeats p99 (ms, bucket bound)', (run) => run.serverHeartbeatP99, 0],
    ['server-side deltas p99 (ms, bucket bound)', (run) => run.serverDeltaP99, 0],
    ['server event-loop delay p99 (ms)', (run) => run.serverLoopP99, 1],
    ['server event-loop delay max (ms)', (run) => run.serverLoopMax, 1],
    ['load generator event-loop delay p99 (ms)', (run) => run.generatorLoopP99, 1],
    ['load generator event-loop delay max (ms)', (run) => run.generatorLoopMax, 1],
    ['server GC minor (s)', (run) => run.gcMinor, 2],
    ['server GC major (s)', (run) => run.gcMajor, 2],
    ['machine load average (1 min)', (run) => run.loadAverage, 2],
  ];
  const width = Math.max(...measures.map(([label]) => label.length));
  const lines = [`\npaced at ${PACED_RATE} check-ins/s, ${runs.length} runs of ${SECONDS} s, ${availableParallelism()} cores: min / median / max`];
  for (const [label, value, digits] of measures) {
    const sorted = runs.map(value).sort((a, b) => a - b);
    const median = sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
    lines.push(`${label.padEnd(width)}  ${[sorted[0]!, median, sorted.at(-1)!].map((number) => number.toFixed(digits).padStart(8)).join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'fleetpatch-bench-agents-'));
  const database = await startEmbeddedPostgres({ home });
  const adminPool = new pg.Pool({ connectionString: database.connectionString, max: 4 });
  await migrate(adminPool);
  try {
    log('loading real advisories and building the simulated fleet');
    const advisories = await almaLinuxAdvisories();
    const detection = new DetectionService();
    await importAdvisories(adminPool, detection, new MemoryFeed('AlmaLinux errata', advisories));
    const fleet = simulateFleet({ advisories, baselines: realBaselines() }, { hosts: AGENTS, seed: 11, now: new Date() });
    const server = await startServer(database.connectionString);
    const idle = processUsage(server.pid);
    log(`server on ${server.url}, ${idle.rssMb.toFixed(0)} MB`);

    // Enrollment (with a token allowing the whole fleet) and first full inventories.
    const enrollmentToken = await request(`${server.url}/api/v1/enrollment-tokens`, 'POST', server.adminToken, { name: 'bench', maxUses: fleet.length });
    if (enrollmentToken.status !== 201) throw new Error(`creating an enrollment token: ${enrollmentToken.status} ${JSON.stringify(enrollmentToken.json)}`);
    const fleetToken = (enrollmentToken.json as { token: string }).token;
    const credentials = new Map<string, string>();
    let started = performance.now();
    await pool(fleet, 16, async (host) => {
      const enrolled = await request(`${server.url}/api/v1/enroll`, 'POST', undefined, { token: fleetToken, hostname: host.hostname, labels: host.labels });
      if (enrolled.status !== 201) throw new Error(`enrolling ${host.hostname}: ${enrolled.status} ${JSON.stringify(enrolled.json)}`);
      credentials.set(host.hostname, (enrolled.json as { credential: string }).credential);
    });
    const enrollSeconds = (performance.now() - started) / 1000;
    const fullLatencies: number[] = [];
    started = performance.now();
    await pool(fleet, 8, async (host) => {
      const response = await request(`${server.url}/api/v1/hosts/${host.hostname}/inventory`, 'PUT', credentials.get(host.hostname), fullCheckIn(host));
      if (response.status !== 200) throw new Error(`full check-in of ${host.hostname}: ${response.status} ${JSON.stringify(response.json)}\nserver log:\n${server.log()}`);
      fullLatencies.push(response.ms);
    });
    const fullSeconds = (performance.now() - started) / 1000;
    log(`${fleet.length} full inventories in ${fullSeconds.toFixed(1)} s`);

    // Steady state: heartbeats, and a share of deltas (one package upgraded).
    const current = new Map<string, HostInventory>(fleet.map((host) => [host.hostname, host]));
    // An agent computes its package digest once per collection, not per heartbeat.
    const digests = new Map(fleet.map((host) => [host.hostname, packageListDigest(host.packages)]));
    // As each agent owns its host, no two check-ins of one host overlap.
    const busy = new Set<string>();
    const errorSamples: string[] = [];
    let turn = 0;
    const succeeded = (response: { status: number; json?: unknown }): boolean => {
      if (response.status < 300) return true;
      if (errorSamples.length < 5) errorSamples.push(`${response.status} ${JSON.stringify(response.json)}`);
      return false;
    };
    const checkIn = async (host: HostInventory): Promise<{ delta: boolean; ok: boolean }> => {
      busy.add(host.hostname);
      const token = credentials.get(host.hostname);
      try {
        if (Math.random() >= DELTA_SHARE) {
          const response = await request(`${server.url}/api/v1/hosts/${host.hostname}/heartbeat`, 'POST', token, { packageDigest: digests.get(host.hostname) });
          return { delta: false, ok: succeeded(response) };
        }
        const previous = current.get(host.hostname)!;
        const position = turn++ % previous.packages.length;
        const upgraded = previous.packages.map((pkg, index) => (index === position ? { ...pkg, version: `${pkg.version}.1` } : pkg));
        const body = { ...fullCheckIn({ ...previous, packages: upgraded }), kind: 'delta' as const, baseDigest: digests.get(host.hostname)!, ...packageDelta(previous.packages, upgraded) };
        delete (body as { packages?: unknown }).packages;
        const response = await request(`${server.url}/api/v1/hosts/${host.hostname}/inventory`, 'PUT', token, body);
        if (response.status === 200) {
          current.set(host.hostname, { ...previous, packages: upgraded });
          digests.set(host.hostname, body.packageDigest);
        }
        return { delta: true, ok: succeeded(response) };
      } finally {
        busy.delete(host.hostname);
      }
    };

    // 1. Saturation: CONCURRENCY check-ins always in flight, to find the most the server sustains.
    const latencies: number[] = [];
    const deltaLatencies: number[] = [];
    let deltas = 0;
    let errors = 0;
    const before = processUsage(server.pid);
    let deadline = performance.now() + SECONDS * 1000;
    started = performance.now();
    await Promise.all(Array.from({ length: CONCURRENCY }, async (_unused, worker) => {
      const own = fleet.filter((_host, index) => index % CONCURRENCY === worker);
      let next = 0;
      while (performance.now() < deadline && own.length > 0) {
        const sent = performance.now();
        const outcome = await checkIn(own[next++ % own.length]!);
        const ms = performance.now() - sent;
        latencies.push(ms);
        if (outcome.delta) {
          deltas++;
          deltaLatencies.push(ms);
        }
        if (!outcome.ok) errors++;
      }
    }));
    const steadySeconds = (performance.now() - started) / 1000;
    const after = processUsage(server.pid);
    latencies.sort((a, b) => a - b);
    deltaLatencies.sort((a, b) => a - b);
    fullLatencies.sort((a, b) => a - b);
    log(`saturation: ${latencies.length} check-ins in ${steadySeconds.toFixed(1)} s`);

    // 2. Paced: check-ins sent at a fixed rate whatever the answers (open loop), each latency
    // counted from its scheduled send time, so a stalled server cannot hide its queue. Several
    // runs: one run's p99 says little about the next one's.
    const pacedRun = async (): Promise<PacedRun> => {
      const all: number[] = [];
      const deltaLatencies: number[] = [];
      const heartbeatLatencies: number[] = [];
      let runErrors = 0;
      let sent = 0;
      let cursor = 0;
      const inFlight = new Set<Promise<void>>();
      const healthBefore = await serverHealth(server.url); // also restarts the server's event-loop delay window
      // The load generator's own stalls would count as latency in an open-loop run: measured too.
      const generatorDelay = monitorEventLoopDelay({ resolution: 5 });
      generatorDelay.enable();
      const usageBefore = processUsage(server.pid);
      const runStarted = performance.now();
      const runDeadline = runStarted + SECONDS * 1000;
      while (performance.now() < runDeadline) {
        const due = Math.floor(((performance.now() - runStarted) / 1000) * PACED_RATE);
        for (; sent < due; sent++) {
          const scheduled = runStarted + (sent / PACED_RATE) * 1000;
          let host: HostInventory | undefined;
          for (let tries = 0; tries < fleet.length && !host; tries++) {
            const candidate = fleet[cursor++ % fleet.length]!;
            if (!busy.has(candidate.hostname)) host = candidate;
          }
          if (!host) throw new Error('every simulated host has a check-in in flight');
          const sending = checkIn(host).then((outcome) => {
            const ms = performance.now() - scheduled;
            all.push(ms);
            (outcome.delta ? deltaLatencies : heartbeatLatencies).push(ms);
            if (!outcome.ok) runErrors++;
          }, (error: unknown) => {
            // A request that failed outright (no answer) is an error of the run, not the end of the bench.
            runErrors++;
            if (errorSamples.length < 5) errorSamples.push(String(error));
          });
          inFlight.add(sending);
          void sending.finally(() => inFlight.delete(sending));
        }
        await new Promise((wait) => setTimeout(wait, 1));
      }
      await Promise.all(inFlight);
      const seconds = (performance.now() - runStarted) / 1000;
      const usageAfter = processUsage(server.pid);
      const healthAfter = await serverHealth(server.url);
      generatorDelay.disable();
      for (const list of [all, deltaLatencies, heartbeatLatencies]) list.sort((x, y) => x - y);
      return {
        rate: all.length / seconds,
        p50: percentile(all, 0.5),
        p99: percentile(all, 0.99),
        heartbeatP99: percentile(heartbeatLatencies, 0.99),
        deltaP50: percentile(deltaLatencies, 0.5),
        deltaP99: percentile(deltaLatencies, 0.99),
        deltas: deltaLatencies.length,
        errors: runErrors,
        serverCores: (usageAfter.cpuSeconds - usageBefore.cpuSeconds) / seconds,
        serverHeartbeatP99: serverP99(healthBefore.durations.heartbeat, healthAfter.durations.heartbeat),
        serverDeltaP99: serverP99(healthBefore.durations.inventory, healthAfter.durations.inventory),
        serverLoopP99: healthAfter.loopDelayP99 * 1000,
        serverLoopMax: healthAfter.loopDelayMax * 1000,
        generatorLoopP99: generatorDelay.percentile(99) / 1e6,
        generatorLoopMax: generatorDelay.max / 1e6,
        gcMinor: healthAfter.gcSeconds.minor - healthBefore.gcSeconds.minor,
        gcMajor: healthAfter.gcSeconds.major - healthBefore.gcSeconds.major,
        loadAverage: loadavg()[0]!,
      };
    };
    const pacedRuns: PacedRun[] = [];
    for (let run = 0; run < PACED_RUNS; run++) {
      pacedRuns.push(await pacedRun());
      const last = pacedRuns.at(-1)!;
      log(`paced run ${run + 1}/${PACED_RUNS}: p99 ${last.p99.toFixed(1)} ms (heartbeats ${last.heartbeatP99.toFixed(1)}, deltas ${last.deltaP99.toFixed(1)}), load average ${last.loadAverage.toFixed(2)}`);
    }
    const afterPaced = processUsage(server.pid);
    if (errorSamples.length > 0) log(`errors, first ${errorSamples.length}: ${errorSamples.join('; ')}`);

    // 100,000 hosts: the server's memory with a large fleet, and the fleet summary at that size.
    let total = fleet.length;
    let seed = 100;
    const growthStarted = performance.now();
    const grownHosts: string[] = [];
    let grownThroughApi = 0;
    while (total < SUMMARY_HOSTS) {
      const count = Math.min(10_000, SUMMARY_HOSTS - total);
      const more = simulateFleet({ advisories, baselines: realBaselines() }, { hosts: count, seed: seed++, now: new Date() }).map((host, index) => ({ ...host, hostname: `${host.hostname}-g${seed}-${index}` }));
      const throughApi = GROWTH === 'api' ? more : more.slice(Math.max(0, count - (GROWTH_FULL - grownThroughApi)));
      if (GROWTH !== 'api') {
        for (let start = 0; start < more.length; start += 5_000) await importInventories(adminPool, detection, more.slice(start, start + 5_000), { source: 'bench' });
      }
      await pool(throughApi, 8, async (host) => {
        const response = await request(`${server.url}/api/v1/hosts/${host.hostname}/inventory`, 'PUT', server.adminToken, fullCheckIn(host));
        if (response.status !== 200) throw new Error(`full check-in of ${host.hostname}: ${response.status} ${JSON.stringify(response.json)}`);
      });
      grownThroughApi += throughApi.length;
      grownHosts.push(...more.map((host) => host.hostname));
      total += count;
      log(`fleet grown to ${total} hosts (${grownThroughApi} through the API; ${processUsage(server.pid).rssMb.toFixed(0)} MB RSS, ${(await serverHealth(server.url)).heapUsedMb.toFixed(0)} MB heap used)`);
    }
    // Every host is alive: a heartbeat each, as a fleet on its 15-minute cycle sends them.
    await pool(grownHosts, 64, async (hostname) => {
      const response = await request(`${server.url}/api/v1/hosts/${hostname}/heartbeat`, 'POST', server.adminToken, {});
      if (response.status !== 204) throw new Error(`heartbeat of ${hostname}: ${response.status} ${JSON.stringify(response.json)}`);
    });
    const growthSeconds = (performance.now() - growthStarted) / 1000;
    const grown = processUsage(server.pid);
    const grownHeap = (await serverHealth(server.url)).heapUsedMb;
    await adminPool.query('VACUUM ANALYZE hosts');
    // As dashboards and scrapes ask: spread over 20 s, with the server's 5 s reuse.
    const summaryLatencies: number[] = [];
    for (let run = 0; run < 40; run++) {
      summaryLatencies.push((await request(`${server.url}/api/v1/fleet/summary`, 'GET', server.adminToken)).ms);
      await new Promise((wait) => setTimeout(wait, 500));
    }
    summaryLatencies.sort((a, b) => a - b);
    const freshLatencies: number[] = [];
    for (let run = 0; run < 10; run++) freshLatencies.push((await request(`${server.url}/api/v1/fleet/summary?fresh=true`, 'GET', server.adminToken)).ms);
    freshLatencies.sort((a, b) => a - b);
    const hostsPage = await request(`${server.url}/api/v1/hosts?page=10&pageSize=50`, 'GET', server.adminToken);
    const final = processUsage(server.pid);
    await server.stop();

    const rows: Array<[string, string]> = [
      ['cores (os.availableParallelism)', String(availableParallelism())],
      ['simulated agents', String(fleet.length)],
      ['enrollments/s', (fleet.length / enrollSeconds).toFixed(0)],
      ['full inventories/s (≈1,000 packages each, 8 in flight)', (fleet.length / fullSeconds).toFixed(0)],
      ['full inventory p50 / p99 (ms)', `${percentile(fullLatencies, 0.5).toFixed(1)} / ${percentile(fullLatencies, 0.99).toFixed(1)}`],
      [`steady state: check-ins/s (${CONCURRENCY} in flight, ${(DELTA_SHARE * 100).toFixed(0)}% deltas)  [target >= 2000]`, (latencies.length / steadySeconds).toFixed(0)],
      ['steady state: p50 / p99 latency (ms)', `${percentile(latencies, 0.5).toFixed(2)} / ${percentile(latencies, 0.99).toFixed(2)}`],
      ['steady state: deltas / errors', `${deltas} / ${errors}`],
      ['  deltas alone: p50 / p99 latency (ms)', `${percentile(deltaLatencies, 0.5).toFixed(1)} / ${percentile(deltaLatencies, 0.99).toFixed(1)}`],
      ['server CPU during steady state (cores busy)', ((after.cpuSeconds - before.cpuSeconds) / steadySeconds).toFixed(2)],
      ['server RSS idle / after the paced runs (MB)', `${idle.rssMb.toFixed(0)} / ${afterPaced.rssMb.toFixed(0)}`],
      [`server RSS / heap used serving ${total} hosts (MB)  [target RSS <= 1024]`, `${grown.rssMb.toFixed(0)} / ${grownHeap.toFixed(0)}`],
      [`  grown by ${total - fleet.length} hosts (${GROWTH}: ${grownThroughApi} full check-ins through the API, then a heartbeat each) in (s)`, growthSeconds.toFixed(0)],
      [`fleet summary API at ${total} hosts, 2 req/s: p50 / p95 (ms)  [target p95 <= 100]`, `${percentile(summaryLatencies, 0.5).toFixed(1)} / ${percentile(summaryLatencies, 0.95).toFixed(1)}`],
      [`  computed anew each time (?fresh=true): p50 / p95 (ms)`, `${percentile(freshLatencies, 0.5).toFixed(1)} / ${percentile(freshLatencies, 0.95).toFixed(1)}`],
      [`host list page 10 at ${total} hosts (ms)`, hostsPage.ms.toFixed(1)],
      ['server RSS at the end (MB)', final.rssMb.toFixed(0)],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    process.stdout.write(`\nfleetpatch bench:agents (${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} cores, ${cpus()[0]?.model ?? 'unknown cpu'})\n`);
    for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
    process.stdout.write(pacedTable(pacedRuns));
  } finally {
    await adminPool.end();
    await database.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
