/**
 * Helpers of the rollout resilience tests (test/rollout-kill-soak.test.ts,
 * test/rollout-replicas.test.ts): real `fleetpatch server` processes on a fixed port that can be
 * killed with SIGKILL and started again on that port, a TCP load balancer in front of replicas
 * (as a production load balancer would be), and a fleet of dpkg-root test hosts with real agents,
 * a policy whose window is open now and an advisory their old library is vulnerable to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type pg from 'pg';
import { expect } from 'vitest';
import { repoRoot } from './data-path.js';
import { buildTestAptRepository, createTestHost, startTestAgent, waitFor, type TestAgent, type TestHost } from './test-hosts.js';

/** The built CLI (npm test builds first): a server restarted twenty times would pay tsx's transform of the whole server each time. */
const BIN = resolve(repoRoot, 'bin/fleetpatch.js');

/** The advisory the test hosts' fp-demo-lib 1.0-1 is vulnerable to: the rollout's snapshot is its fix, 1.1-1. */
export const DEMO_ADVISORY = {
  id: 'DSA-9300-1', modified: '2026-11-01T00:00:00Z', published: '2026-11-01T00:00:00Z', summary: 'fp-demo-lib: heap overflow',
  affected: [{ package: { ecosystem: 'Debian:12', name: 'fp-demo-lib' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1' }] }] }],
};

/** A daily window that opened an hour ago and lasts four: open now, whatever the time of the run. */
export function openWindowStart(): string {
  const start = new Date(Date.now() - 3_600_000);
  return `${String(start.getUTCHours()).padStart(2, '0')}:${String(start.getUTCMinutes()).padStart(2, '0')}`;
}

/** A port free now (the kernel's choice), for a server that must come back on the same one. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

export interface ServerProcessOptions {
  port: number;
  /** FLEETPATCH_HOME of this server (kept across restarts). */
  home: string;
  /** DATABASE_URL, FLEETPATCH_ROLLOUT_* … */
  env: Record<string, string>;
  /** After `server --port N`: --policy, --advisories … */
  args: string[];
  /** Standard error and output of every process, appended. */
  logFile: string;
}

export interface KillableServer {
  url: string;
  pid: number;
  /** This process's name in rollout leases (the server's default: host name and pid). */
  holder: string;
  /** Only on the database's first start. */
  firstStart?: { adminToken: string; enrollmentToken: string };
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM; resolves once the process is gone. */
  stop(): Promise<void>;
  /** Exit code or signal once it ended (undefined while it runs). */
  exit(): number | string | undefined;
}

const liveServers = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveServers) child.kill('SIGKILL');
});

/**
 * A real `fleetpatch server` process (from source, as test/cli.ts runs the CLI) on a fixed port;
 * resolves once it listens.
 *
 * @example const server = await startKillableServer({ port, home, env: { DATABASE_URL }, args: ['--policy', file], logFile })
 */
export async function startKillableServer(options: ServerProcessOptions): Promise<KillableServer> {
  mkdirSync(options.home, { recursive: true });
  chmodSync(options.home, 0o755);
  if (!existsSync(resolve(repoRoot, 'dist/cli/run.js'))) throw new Error('dist/ is missing: run `npm run build` before this test');
  const child = spawn(process.execPath, [BIN, 'server', '--port', String(options.port), '--sync-interval', '0', ...options.args], {
    cwd: repoRoot,
    env: { ...process.env, FLEETPATCH_HOME: options.home, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveServers.add(child);
  let stdout = '';
  let stderr = '';
  let ended: number | string | undefined;
  const exited = new Promise<void>((done) => child.once('exit', (code, signal) => {
    ended = code ?? signal ?? 'unknown';
    liveServers.delete(child);
    appendFileSync(options.logFile, `test: server ${child.pid} ended (${ended})\n`);
    done();
  }));
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    appendFileSync(options.logFile, chunk);
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    appendFileSync(options.logFile, chunk);
  });
  const url = await new Promise<string>((listening, failed) => {
    const look = () => {
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) listening(match[1]!);
    };
    child.stderr!.on('data', look);
    void exited.then(() => failed(new Error(`the server exited before listening (${ended}): ${stderr.slice(-2_000)}`)));
  });
  // The first start's secrets follow the listening line on standard output.
  await new Promise((done) => setTimeout(done, 100));
  if (/First start/.test(stdout)) await waitFor('the first start\'s secrets', () => /enrollment token:\s+\S+/.test(stdout), 10_000, 20);
  const admin = /admin token:\s+(\S+)/.exec(stdout)?.[1];
  const enrollment = /enrollment token:\s+(\S+)/.exec(stdout)?.[1];
  const end = async (signal: NodeJS.Signals) => {
    if (ended === undefined) child.kill(signal);
    await exited;
  };
  return {
    url,
    pid: child.pid!,
    holder: `${hostname()}:${child.pid}`,
    ...(admin && enrollment ? { firstStart: { adminToken: admin, enrollmentToken: enrollment } } : {}),
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    exit: () => ended,
  };
}

export interface LoadBalancer {
  url: string;
  /** Connections each backend (by port) took. */
  served: ReadonlyMap<number, number>;
  close(): Promise<void>;
}

/**
 * A TCP load balancer on loopback: each connection goes to the next backend in turn, and to the
 * one after it when that one refuses (a dead replica), as a load balancer's health check would.
 */
export async function startLoadBalancer(backends: readonly number[]): Promise<LoadBalancer> {
  let next = 0;
  const sockets = new Set<Socket>();
  const served = new Map<number, number>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.pause();
    const attempt = (tries: number) => {
      if (tries >= backends.length) return void client.destroy();
      const port = backends[next++ % backends.length]!;
      const upstream = connect(port, '127.0.0.1');
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        served.set(port, (served.get(port) ?? 0) + 1);
        sockets.add(upstream);
        upstream.on('close', () => {
          sockets.delete(upstream);
          client.destroy();
        });
        upstream.on('error', () => upstream.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.once('error', () => {
        if (!connected) attempt(tries + 1);
      });
    };
    attempt(0);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    served,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

/** A bucket whose hosts take a few seconds each (a second of pre- and post-check): a rollout long enough to interrupt. */
export const STEPPED_BUCKET = `    waves: [1, "50%", "100%"]
    maxInFlight: 3
    errorBudget: 0
    reboot: { policy: always, timeout: 2m, onTimeout: page }
    expectedHostDuration: 1m
    checks:
      pre: [{ name: settle, command: 'sleep 1', timeout: 30s }]
      post: [{ name: service-healthy, command: 'sleep 1', timeout: 30s }]`;

export interface FleetOptions {
  hosts: number;
  /** The bucket's lines after `windows: [now]` (waves, maxInFlight, checks …), indented by four; the tests create their rollouts, the schedule does not. */
  bucket: string;
}

export interface TestFleet {
  directory: string;
  policyFile: string;
  advisoriesDirectory: string;
  hosts: TestHost[];
}

/** The policy, the advisory and the hosts (not yet their agents). */
export function createTestFleet(prefix: string, options: FleetOptions): TestFleet {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(directory, 0o755);
  const policyFile = join(directory, 'fleetpatch.yaml');
  writeFileSync(policyFile, `version: 1
windows:
  now: { timeZone: UTC, every: day, start: "${openWindowStart()}", duration: 4h, admissionCutoff: 10m }
buckets:
  - name: databases
    owner: data-platform
    match: { labels: { role: database } }
    strategy: { kind: in-place }
    windows: [now]
    scheduled: false
${options.bucket}
fallback: { bucket: leftovers, owner: sre }
`);
  const advisoriesDirectory = join(directory, 'advisories');
  mkdirSync(advisoriesDirectory);
  writeFileSync(join(advisoriesDirectory, `${DEMO_ADVISORY.id}.json`), JSON.stringify(DEMO_ADVISORY));
  const repository = buildTestAptRepository(join(directory, 'repository'));
  const hosts = Array.from({ length: options.hosts }, (_, index) => createTestHost(join(directory, 'hosts'), { name: `db-${index}`, repository, labels: { role: 'database', ...(index === 0 ? { canary: 'true' } : {}) } }));
  return { directory, policyFile, advisoriesDirectory, hosts };
}

export function startAgents(hosts: readonly TestHost[], serverUrl: (index: number) => string, enrollToken: string): TestAgent[] {
  return hosts.map((host, index) => startTestAgent(host, { serverUrl: serverUrl(index), enrollToken, intervalSeconds: 2, jobWaitSeconds: 2 }));
}

export interface Api {
  <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** The API of whichever server `url()` names now, as the admin. */
export function apiOf(url: () => string, token: () => string): Api {
  return async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${url()}${path}`, { method, headers: { authorization: `Bearer ${token()}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

/** The host states of a rollout in order, as the in-place strategy with a reboot and both checks walks them. */
export const IN_PLACE_PATH = ['pending', 'notified', 'pre-check', 'applying', 'rebooting', 'awaiting-return', 'post-check', 'monitoring', 'succeeded'];

/**
 * Every host step ran exactly once: in each host's own step log (once per key, the four in-place
 * steps, the target version in its dpkg database, one reboot), no agent died, and in the server's
 * record each host walked the in-place path once with one reported job per step.
 */
export async function expectEveryStepOnce(pool: pg.Pool, rolloutId: number, hosts: readonly TestHost[], agents: readonly TestAgent[]): Promise<void> {
  for (const host of hosts) {
    const log = host.stepLog();
    expect(new Set(log.map((line) => line.key)).size, host.name).toBe(log.length);
    expect(log.map((line) => line.step), host.name).toEqual(['pre-check', 'upgrade', 'reboot', 'post-check']);
    expect(host.installed().get('fp-demo-lib'), host.name).toBe('1.1-1');
    expect(host.reboots(), host.name).toHaveLength(1);
  }
  for (const agent of agents) expect(agent.unexpectedExits()).toEqual([]);
  const events = await pool.query<{ host: string; from_state: string; to_state: string }>("SELECT host, from_state, to_state FROM rollout_events WHERE rollout_id = $1 AND kind = 'host' ORDER BY id", [rolloutId]);
  const jobs = await pool.query<{ host: string; step: string; attempt: number; reported: boolean }>('SELECT host, step, attempt, reported_at IS NOT NULL AS reported FROM rollout_jobs WHERE rollout_id = $1 ORDER BY dispatched_at, key', [rolloutId]);
  for (const host of hosts) {
    expect(events.rows.filter((row) => row.host === host.name).map((row) => `${row.from_state}>${row.to_state}`), host.name).toEqual(IN_PLACE_PATH.slice(1).map((to, index) => `${IN_PLACE_PATH[index]}>${to}`));
    expect(jobs.rows.filter((row) => row.host === host.name).map((row) => `${row.step}:${row.attempt}:${row.reported}`), host.name).toEqual(['pre-check:1:true', 'upgrade:1:true', 'reboot:1:true', 'post-check:1:true']);
  }
}
