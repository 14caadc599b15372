// The embedded PostgreSQL on real servers: data survives restarts, one owner per home, a crash
// (kill -9 of the owner, with or without its server) never blocks the next start, and signals
// stop it cleanly. Owners in other processes are tiny scripts run with `node --import tsx`.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { InputError } from '../domain/errors.js';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.js';
import { processInfo } from './process-info.js';

const scratch = mkdtempSync(join(tmpdir(), 'fleetpatch-embedded-test-'));
// As root the server runs as the postgres user, which must pass through every parent of a home.
chmodSync(scratch, 0o711);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const running: EmbeddedServer[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const server of running.splice(0)) await server.stop();
});

let homeCount = 0;
function newHome(): string {
  return join(scratch, `home-${++homeCount}`);
}

async function start(home: string, onProgress?: (message: string) => void): Promise<EmbeddedServer> {
  const server = await startEmbeddedPostgres({ home, ...(onProgress ? { onProgress } : {}) });
  running.push(server);
  return server;
}

async function query<T extends pg.QueryResultRow>(connectionString: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

const holderScript = join(scratch, 'hold-embedded.mts');
writeFileSync(
  holderScript,
  `import { startEmbeddedPostgres } from ${JSON.stringify(fileURLToPath(new URL('./embedded-postgres.ts', import.meta.url)))};
import { stopOnSignals } from ${JSON.stringify(fileURLToPath(new URL('./stop-on-signals.ts', import.meta.url)))};
const server = await startEmbeddedPostgres({ home: process.argv[2]! });
stopOnSignals(() => server.stop(), process.argv.slice(3) as NodeJS.Signals[]);
process.stdout.write(JSON.stringify({ connectionString: server.connectionString }) + '\\n');
setInterval(() => undefined, 1_000);
`,
);

interface Holder {
  child: ChildProcess;
  connectionString: string;
  postmasterPid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Another process owning `home`'s database, as a real fleetpatch would. */
function holdInChild(home: string, signals: string[] = ['SIGINT', 'SIGTERM']): Promise<Holder> {
  const child = spawn(process.execPath, ['--import', 'tsx', holderScript, home, ...signals], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal })));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolveHolder, reject) => {
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (!stdout.includes('\n')) return;
      const { connectionString } = JSON.parse(stdout) as { connectionString: string };
      const postmasterPid = Number(readFileSync(join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
      resolveHolder({ child, connectionString, postmasterPid, exited });
    });
    void exited.then(({ code }) => reject(new Error(`holder exited with ${code}: ${stderr}`)));
  });
}

async function waitForExit(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (!processInfo(pid).alive) return;
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  throw new Error(`process ${pid} did not exit`);
}

describe('startEmbeddedPostgres', () => {
  it('initialises once, keeps data across stop and start, and stays quiet', async () => {
    const home = newHome();
    // Leftovers of an initdb that crashed on an earlier first start must not get in the way.
    mkdirSync(join(home, 'postgres.partial'), { recursive: true });
    writeFileSync(join(home, 'postgres.partial', 'PG_VERSION'), '18\n');
    const consoleLog = vi.spyOn(console, 'log');
    const consoleError = vi.spyOn(console, 'error');
    const coldProgress: string[] = [];
    const first = await start(home, (message) => coldProgress.push(message));
    expect(coldProgress[0]).toBe(`initialising the embedded PostgreSQL in ${join(home, 'postgres')} (first start)`);
    expect(coldProgress.at(-1)).toMatch(/^embedded PostgreSQL ready on 127\.0\.0\.1:\d+ \(\d+ ms\)$/);
    expect(new URL(first.connectionString).pathname).toBe('/fleetpatch');
    await query(first.connectionString, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('before restart')");
    await first.stop();
    await first.stop();
    expect(existsSync(join(home, 'fleetpatch.lock'))).toBe(false);
    expect(existsSync(join(home, 'postgres', 'postmaster.pid'))).toBe(false);
    expect(existsSync(join(home, 'postgres.partial'))).toBe(false);

    const warmProgress: string[] = [];
    const second = await start(home, (message) => warmProgress.push(message));
    expect(warmProgress).toHaveLength(1);
    expect(warmProgress[0]).toMatch(/^embedded PostgreSQL ready/);
    expect(await query(second.connectionString, 'SELECT note FROM kept')).toEqual([{ note: 'before restart' }]);
    const [settings] = await query<{ encoding: string; provider: string; upper: string }>(
      second.connectionString,
      "SELECT pg_encoding_to_char(encoding) AS encoding, datlocprovider AS provider, upper('été à') AS upper FROM pg_database WHERE datname = 'fleetpatch'",
    );
    expect(settings).toEqual({ encoding: 'UTF8', provider: 'b', upper: 'ÉTÉ À' });

    expect(consoleLog).not.toHaveBeenCalled();
    expect(consoleError).not.toHaveBeenCalled();
    expect(readFileSync(join(home, 'postgres.log'), 'utf8')).toContain('database system is ready to accept connections');
    expect(statSync(join(home, 'postgres.credentials')).mode & 0o777).toBe(0o600);
    expect(first.connectionString).toContain(encodeURIComponent(readFileSync(join(home, 'postgres.credentials'), 'utf8').trim()));
  });

  it('keeps the home private (0700, 0711 as root) and its log and password file 0600, tightening an older home', async () => {
    const home = newHome();
    const modeOf = (name: string) => statSync(join(home, name)).mode & 0o777;
    const homeMode = process.getuid?.() === 0 ? 0o711 : 0o700;
    // An older version left the home and its log readable by everyone.
    mkdirSync(home, { mode: 0o755 });
    chmodSync(home, 0o755);
    writeFileSync(join(home, 'postgres.log'), '', { mode: 0o644 });
    await (await start(home)).stop();
    expect({ home: modeOf('.'), log: modeOf('postgres.log'), credentials: modeOf('postgres.credentials') }).toEqual({ home: homeMode, log: 0o600, credentials: 0o600 });

    chmodSync(home, 0o755);
    chmodSync(join(home, 'postgres.log'), 0o644);
    chmodSync(join(home, 'postgres.credentials'), 0o644);
    await (await start(home)).stop();
    expect({ home: modeOf('.'), log: modeOf('postgres.log'), credentials: modeOf('postgres.credentials') }).toEqual({ home: homeMode, log: 0o600, credentials: 0o600 });
  });

  it('refuses a second start on the same home in the same process', async () => {
    const home = newHome();
    const first = await start(home);
    const error = await startEmbeddedPostgres({ home }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(`the embedded database in ${home} is in use by process ${process.pid}; stop it or set FLEETPATCH_HOME / DATABASE_URL`);
    // The refused start released nothing of the first owner's.
    expect(readFileSync(join(home, 'fleetpatch.lock'), 'utf8').split('\n')[0]).toBe(String(process.pid));
    expect(await query(first.connectionString, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });

  it('refuses a start while another process owns the home, and recovers after both are killed with SIGKILL', async () => {
    const home = newHome();
    const holder = await holdInChild(home);
    await query(holder.connectionString, "CREATE TABLE survivor (note text); INSERT INTO survivor VALUES ('written before the crash')");

    const error = await startEmbeddedPostgres({ home }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(`the embedded database in ${home} is in use by process ${holder.child.pid}; stop it or set FLEETPATCH_HOME / DATABASE_URL`);
    expect((error as InputError).hint).toContain('FLEETPATCH_HOME');

    holder.child.kill('SIGKILL');
    process.kill(holder.postmasterPid, 'SIGKILL');
    await holder.exited;
    await waitForExit(holder.postmasterPid);
    expect(existsSync(join(home, 'fleetpatch.lock'))).toBe(true);
    expect(readFileSync(join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]).toBe(String(holder.postmasterPid));

    const progress: string[] = [];
    const recovered = await start(home, (message) => progress.push(message));
    expect(progress).toContain(`removed a stale postmaster.pid (process ${holder.postmasterPid} is gone)`);
    expect(await query(recovered.connectionString, 'SELECT note FROM survivor')).toEqual([{ note: 'written before the crash' }]);
  });

  it('stops the server an owner killed with SIGKILL left running, then starts with the data intact', async () => {
    const home = newHome();
    const holder = await holdInChild(home);
    await query(holder.connectionString, "CREATE TABLE orphan_data (note text); INSERT INTO orphan_data VALUES ('kept')");
    holder.child.kill('SIGKILL');
    await holder.exited;
    expect(processInfo(holder.postmasterPid).alive).toBe(true);

    const progress: string[] = [];
    const server = await start(home, (message) => progress.push(message));
    expect(progress).toContain(`stopping the PostgreSQL server (process ${holder.postmasterPid}) left running by a fleetpatch that exited`);
    expect(processInfo(holder.postmasterPid).alive).toBe(false);
    expect(await query(server.connectionString, 'SELECT note FROM orphan_data')).toEqual([{ note: 'kept' }]);
  });

  it('removes a postmaster.pid whose pid now belongs to an unrelated process', async () => {
    const home = newHome();
    const first = await start(home);
    await first.stop();
    // A live process of the server's own user that is not this cluster's server (a pid reused
    // after a reboot): PostgreSQL alone would refuse to start, taking it for a running server.
    const serverUser = process.getuid?.() === 0 ? { uid: Number(execFileSync('id', ['-u', 'postgres'])), gid: Number(execFileSync('id', ['-g', 'postgres'])) } : {};
    const unrelated = spawn('sleep', ['60'], { stdio: 'ignore', ...serverUser });
    children.push(unrelated);
    const pidFile = join(home, 'postgres', 'postmaster.pid');
    writeFileSync(pidFile, `${unrelated.pid}\n${join(home, 'postgres')}\n`);
    const server = await start(home);
    expect(await query(server.connectionString, 'SELECT 1 AS ok')).toEqual([{ ok: 1 }]);
  });

  it('stops cleanly on SIGTERM and on the signals given to stopOnSignals', async () => {
    for (const [signal, registered, expectedCode] of [
      ['SIGTERM', ['SIGINT', 'SIGTERM'], 143],
      // Not hooked by embedded-postgres itself, so only stopOnSignals can stop the server here.
      ['SIGUSR2', ['SIGUSR2'], 140],
    ] as const) {
      const home = newHome();
      const holder = await holdInChild(home, [...registered]);
      holder.child.kill(signal);
      expect(await holder.exited).toEqual({ code: expectedCode, signal: null });
      await waitForExit(holder.postmasterPid);
      expect(existsSync(join(home, 'postgres', 'postmaster.pid'))).toBe(false);
      expect(existsSync(join(home, 'fleetpatch.lock'))).toBe(false);
      expect(readFileSync(join(home, 'postgres.log'), 'utf8')).toMatch(/received fast shutdown request[\s\S]*database system is shut down/);
    }
  });

  it('says what to do when the password file of an existing cluster is gone, or the data folder is foreign', async () => {
    const home = newHome();
    const server = await start(home);
    await server.stop();
    rmSync(join(home, 'postgres.credentials'));
    await expect(startEmbeddedPostgres({ home })).rejects.toThrow(`the embedded database in ${home} exists but its password file is missing`);
    expect(existsSync(join(home, 'fleetpatch.lock'))).toBe(false);

    const foreign = newHome();
    mkdirSync(join(foreign, 'postgres'), { recursive: true });
    writeFileSync(join(foreign, 'postgres', 'notes.txt'), 'not a cluster');
    const error = await startEmbeddedPostgres({ home: foreign }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toContain('is not a PostgreSQL data directory (it has no PG_VERSION)');
    expect(readFileSync(join(foreign, 'postgres', 'notes.txt'), 'utf8')).toBe('not a cluster');
  });

  it.runIf(process.getuid?.() === 0)('as root, names the parent directory the postgres user cannot pass through', async () => {
    const closed = join(scratch, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    const home = join(closed, 'home');
    const error = await startEmbeddedPostgres({ home }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(`field FLEETPATCH_HOME: the PostgreSQL server (running as user postgres) cannot reach ${home}: ${closed} is closed to other users`);
    expect(existsSync(join(home, 'postgres'))).toBe(false);
  });
});
