// A running `fleetpatch server` whose embedded PostgreSQL is killed with SIGKILL: it says so in its
// log and /healthz, restarts the database and serves the same data again; when the database cannot be
// restarted it exits non-zero for its service manager to start it afresh.
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCli } from './cli.js';

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

interface Server {
  url: string;
  adminToken: string;
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

async function startServer(home: string, env: Record<string, string>): Promise<Server> {
  const { child, done } = startCli(['server', '--port', '0', '--sync-interval', '0'], { FLEETPATCH_HOME: home, ...env });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.on('data', (chunk: string) => (stderr += chunk));
  const exited = done.then((result) => result.code);
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`server exited early (${code}): ${stderr}`)));
  });
  await waitFor(() => /enrollment token/.test(stdout), 5_000, 'the first-start tokens');
  return {
    url,
    adminToken: /admin token:\s+(\S+)/.exec(stdout)![1]!,
    stderr: () => stderr,
    exited,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const startedAt = Date.now();
  while (!(await condition())) {
    if (Date.now() - startedAt > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - startedAt;
}

function killPostmaster(home: string): void {
  process.kill(Number(readFileSync(join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]), 'SIGKILL');
}

const status = async (url: string, token?: string) => (await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {})).status;

describe('fleetpatch server losing its embedded PostgreSQL', () => {
  it('logs the loss, restarts the database and serves the same data again', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fleetpatch-loss-server-'));
    homes.push(home);
    const server = await startServer(home, { FLEETPATCH_DATABASE_RESTART_DELAY_MS: '1000' });
    try {
      expect(await status(`${server.url}/api/v1/hosts`, server.adminToken)).toBe(200);
      killPostmaster(home);
      const detectMs = await waitFor(() => server.stderr().includes('embedded PostgreSQL exited (signal SIGKILL); restarting in 1s'), 5_000, 'the log line');
      const healthz = await fetch(`${server.url}/healthz`);
      expect(healthz.status).toBe(503);
      expect(await healthz.json()).toEqual({ status: 'unavailable', reason: expect.stringMatching(/^embedded PostgreSQL exited \(signal SIGKILL\) \(since \d{4}-.+Z\)$/) });
      const hosts = await fetch(`${server.url}/api/v1/hosts`, { headers: { authorization: `Bearer ${server.adminToken}` } });
      expect(hosts.status).toBe(503);
      expect(((await hosts.json()) as { error: { code: string } }).error.code).toBe('database-unavailable');
      const recoverMs = await waitFor(async () => (await status(`${server.url}/healthz`)) === 200, 30_000, '/healthz to answer 200');
      console.log(`server: loss logged after ${detectMs} ms, /healthz 200 again ${recoverMs} ms later`);
      // The admin token is read from the database: the data survived.
      expect(await status(`${server.url}/api/v1/hosts`, server.adminToken)).toBe(200);
      expect(server.stderr()).toMatch(/database available again after/);
    } finally {
      await server.stop();
    }
  }, 120_000);

  it('exits with status 3 when the database cannot be restarted', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fleetpatch-loss-server-'));
    homes.push(home);
    const server = await startServer(home, { FLEETPATCH_DATABASE_RESTART_DELAY_MS: '50', FLEETPATCH_DATABASE_RESTARTS: '2' });
    const versionFile = join(home, 'postgres', 'PG_VERSION');
    renameSync(versionFile, `${versionFile}.aside`);
    killPostmaster(home);
    expect(await server.exited).toBe(3);
    expect(server.stderr()).toMatch(/did not restart \(attempt 2 of 2\).*; giving up after 2 failed restarts\nexiting with status 3\n/);
  }, 120_000);
});
