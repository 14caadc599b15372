/**
 * Opens fleetpatch's database: the PostgreSQL server in `DATABASE_URL`, or the embedded one under
 * the fleetpatch home, started here and stopped on close. Migrations run on open. The rest of the
 * code sees only a `pg.Pool`.
 */
import pg from 'pg';
import { InputError } from '../domain/errors.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { migrate, type MigrationStatus } from './migrate.js';

export interface Database {
  pool: pg.Pool;
  kind: 'embedded' | 'external';
  /** What each migration did on open (applied now, or already there). */
  migrations: MigrationStatus[];
  /** Where the data lives, without credentials. */
  describe(): string;
  /** Ends the pool, then stops the embedded server if we started it; idempotent. */
  close(): Promise<void>;
}

export interface OpenOptions {
  /** An external PostgreSQL (`DATABASE_URL`); without it the embedded server under `home` is used. */
  databaseUrl?: string;
  home: string;
  /** Connections in the pool; 8 by default. */
  poolSize?: number;
  /** Server-side limit for each statement, in milliseconds; none by default. */
  statementTimeoutMs?: number;
  /** Migrations folder; the shipped `src/store/migrations` by default. */
  migrationsDirectory?: string;
  onProgress?: (message: string) => void;
}

const DEFAULT_POOL_SIZE = 8;
const CONNECT_TIMEOUT_MS = 15_000;

/**
 * @example const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, home: fleetpatchHome() })
 */
export async function openDatabase(options: OpenOptions): Promise<Database> {
  const external = options.databaseUrl ? parseDatabaseUrl(options.databaseUrl) : undefined;
  const embedded = external ? undefined : await startEmbeddedPostgres({ home: options.home, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  const connectionString = external ? options.databaseUrl! : embedded!.connectionString;
  const pool = new pg.Pool({
    connectionString,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    application_name: 'fleetpatch',
    keepAlive: true,
    ...(options.statementTimeoutMs !== undefined ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle connection that breaks (server restart, network) is dropped by the pool; the next query
  // reports the problem. Without a listener the error would end the process.
  pool.on('error', () => undefined);
  const where = embedded ? `embedded PostgreSQL in ${embedded.dataDirectory} (127.0.0.1:${embedded.port})` : `PostgreSQL at ${redact(external!)}`;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= pool.end().finally(() => embedded?.stop());
    return closing;
  };
  try {
    if (external) await checkReachable(connectionString, where);
    const migrations = await migrate(pool, options.migrationsDirectory);
    return { pool, kind: embedded ? 'embedded' : 'external', migrations, describe: () => where, close };
  } catch (error) {
    await close();
    throw error;
  }
}

function parseDatabaseUrl(databaseUrl: string): URL {
  try {
    const url = new URL(databaseUrl);
    if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') return url;
  } catch {
    // Reported below, without echoing a URL that may hold a password.
  }
  throw new InputError('not a PostgreSQL URL', { field: 'DATABASE_URL' }, 'use postgres://user:password@host:5432/database');
}

/** A wrong host, password or database name is the operator's to fix: say so plainly, once. */
async function checkReachable(connectionString: string, where: string): Promise<void> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'fleetpatch' });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new InputError(`cannot connect to ${where}: ${(error as Error).message}`, { field: 'DATABASE_URL' }, 'check the host, port, user, password and database name in DATABASE_URL, or unset it to use the embedded database');
  } finally {
    await client.end().catch(() => undefined);
  }
}

function redact(url: URL): string {
  const shown = new URL(url.toString());
  if (shown.password) shown.password = '***';
  if (shown.searchParams.has('password')) shown.searchParams.set('password', '***');
  return shown.toString();
}
