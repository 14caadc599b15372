/**
 * Opens fleetpatch's database: the PostgreSQL server in `DATABASE_URL`, or the embedded one under
 * the fleetpatch home, started here and stopped on close. Migrations run on open. The rest of the
 * code sees only a `pg.Pool`, plus `health()`: the database is watched while open, an embedded
 * server that dies is restarted with backoff, and an external one is reported down until the
 * pool reaches it again.
 */
import pg from 'pg';
import { InputError } from '../domain/errors.js';
import { startEmbeddedPostgres, type EmbeddedServer, type ServerExit } from './embedded-postgres.js';
import { migrate, type MigrationStatus } from './migrate.js';

export type DatabaseHealth = { state: 'up' } | { state: 'down'; reason: string; since: Date };

/** The database cannot be reached now (down, restarting, refusing connections); retrying later may succeed. */
export class DatabaseUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

export interface Database {
  pool: pg.Pool;
  kind: 'embedded' | 'external';
  /** What each migration did on open (applied now, or already there). */
  migrations: MigrationStatus[];
  /** Where the data lives, without credentials. */
  describe(): string;
  /** How another connection of this process reaches it (a worker thread's own pool); holds the password. */
  connectionString: string;
  /** Whether the database answers now; `down` says why and since when. */
  health(): DatabaseHealth;
  /**
   * A pool of its own, for work that must not queue behind the main pool's (the rollout engine's
   * passes behind a burst of check-ins), with its own session settings; ended by `close`.
   */
  openPool(name: string, size: number, settings?: Record<string, string>): pg.Pool;
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
  /** Progress on open, and later the database's losses, restarts and recoveries. */
  onProgress?: (message: string) => void;
  /** How the open database is watched and the embedded server restarted. */
  supervision?: Partial<SupervisionSettings>;
}

export interface SupervisionSettings {
  /** Failed restarts of the embedded server in a row before giving up; 5 by default. */
  maxRestarts: number;
  /** Wait before the first restart; doubled after each failure up to `maxRestartDelayMs`. */
  restartDelayMs: number;
  maxRestartDelayMs: number;
  /** Interval of the `SELECT 1` probe; it also notices an external server coming back. */
  probeIntervalMs: number;
  /** A probe that takes longer (connecting included) counts as a failure. */
  probeTimeoutMs: number;
  /**
   * Called once when the embedded server could not be restarted `maxRestarts` times: the process
   * should exit non-zero and let its service manager start it afresh. Without it the database stays down.
   */
  onGiveUp?: (error: DatabaseUnavailableError) => void;
  now: () => Date;
}

const DEFAULT_POOL_SIZE = 8;
const CONNECT_TIMEOUT_MS = 15_000;
/** A restarted server that runs this long has recovered; one that dies sooner is in a crash loop. */
const STABLE_AFTER_MS = 60_000;
const DEFAULT_SUPERVISION: SupervisionSettings = {
  maxRestarts: 5,
  restartDelayMs: 1_000,
  maxRestartDelayMs: 30_000,
  probeIntervalMs: 5_000,
  probeTimeoutMs: 5_000,
  now: () => new Date(),
};

/**
 * Supervision settings from `FLEETPATCH_DATABASE_RESTARTS`, `FLEETPATCH_DATABASE_RESTART_DELAY_MS`
 * and `FLEETPATCH_DATABASE_PROBE_INTERVAL_MS`; unset or invalid values keep the defaults.
 *
 * @example supervisionFromEnvironment({ FLEETPATCH_DATABASE_RESTARTS: '3' }) // { maxRestarts: 3 }
 */
export function supervisionFromEnvironment(environment: NodeJS.ProcessEnv): Partial<SupervisionSettings> {
  const settings: Partial<SupervisionSettings> = {};
  const read = (name: string) => {
    const value = Number(environment[name]);
    return environment[name]?.trim() && Number.isInteger(value) && value >= 0 ? value : undefined;
  };
  const maxRestarts = read('FLEETPATCH_DATABASE_RESTARTS');
  if (maxRestarts !== undefined) settings.maxRestarts = maxRestarts;
  const restartDelayMs = read('FLEETPATCH_DATABASE_RESTART_DELAY_MS');
  if (restartDelayMs !== undefined) settings.restartDelayMs = restartDelayMs;
  const probeIntervalMs = read('FLEETPATCH_DATABASE_PROBE_INTERVAL_MS');
  if (probeIntervalMs !== undefined && probeIntervalMs > 0) settings.probeIntervalMs = probeIntervalMs;
  return settings;
}

/** Node's socket errors that mean the server is not there or went away mid-conversation. */
const UNAVAILABLE_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EAI_AGAIN']);
/** SQLSTATEs of a server that shuts down, starts up, crashed or has no connection left (class 08: connection exceptions). */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** node-postgres reports a lost connection and a connect that timed out only by message. */
const UNAVAILABLE_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

/**
 * True when `error` says the database cannot be reached now rather than that a statement is wrong:
 * refused or reset connections, a server shutting down or starting (57P01, 57P03), connect timeouts.
 *
 * @example isDatabaseUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })) // true
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return isUnavailable(error, 0);
}

function isUnavailable(error: unknown, depth: number): boolean {
  if (depth > 5 || typeof error !== 'object' || error === null) return false;
  if (error instanceof DatabaseUnavailableError) return true;
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_ERROR_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((known) => message.includes(known))) return true;
  // Connecting to a name with several addresses fails with an AggregateError of one error per address.
  if (Array.isArray(errors) && errors.length > 0 && errors.every((each) => isUnavailable(each, depth + 1))) return true;
  return isUnavailable(cause, depth + 1);
}

/**
 * @example const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, home: fleetpatchHome() })
 */
export async function openDatabase(options: OpenOptions): Promise<Database> {
  const external = options.databaseUrl ? parseDatabaseUrl(options.databaseUrl) : undefined;
  const embedded = external ? undefined : await startEmbeddedPostgres({ home: options.home, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  const connectionString = external ? options.databaseUrl! : embedded!.connectionString;
  const where = embedded ? `embedded PostgreSQL in ${embedded.dataDirectory} (127.0.0.1:${embedded.port})` : `PostgreSQL at ${redact(external!)}`;
  const watcher = new DatabaseWatcher(connectionString, where, embedded, { ...DEFAULT_SUPERVISION, ...options.supervision }, options.onProgress ?? (() => undefined));
  const pools: pg.Pool[] = [];
  const openPool = (name: string, size: number, settings: Record<string, string> = {}) => {
    const opened = new pg.Pool({
      connectionString,
      max: size,
      application_name: name,
      keepAlive: true,
      ...(Object.keys(settings).length > 0 ? { options: Object.entries(settings).map(([setting, value]) => `-c ${setting}=${value}`).join(' ') } : {}),
      ...(options.statementTimeoutMs !== undefined ? { statement_timeout: options.statementTimeoutMs } : {}),
    });
    // An idle connection that breaks (server restart, network) is dropped by the pool and the next query
    // reports the problem; the watcher looks at once. Without a listener the error would end the process.
    opened.on('error', (error) => {
      if (isDatabaseUnavailable(error)) watcher.probeSoon();
    });
    pools.push(opened);
    return opened;
  };
  const pool = openPool('fleetpatch', options.poolSize ?? DEFAULT_POOL_SIZE);
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= watcher
      .stop()
      .then(async () => void (await Promise.all(pools.map((opened) => opened.end()))))
      .finally(() => embedded?.stop());
    return closing;
  };
  try {
    if (external) await checkReachable(connectionString, where);
    const migrations = await migrate(pool, options.migrationsDirectory);
    watcher.start();
    return { pool, kind: embedded ? 'embedded' : 'external', migrations, describe: () => where, connectionString, health: () => watcher.health, openPool, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Keeps `health` current while the database is open. The embedded server's exit is seen at once
 * and answered with restarts (1 s, 2 s, 4 s … up to the limit); a `SELECT 1` over a connection of
 * its own every few seconds, or as soon as a pooled connection breaks, tells when an external
 * server (or an embedded one that hangs) stops or starts answering. The pool needs no help to
 * recover: it opens new connections to the same address on demand.
 */
class DatabaseWatcher {
  health: DatabaseHealth = { state: 'up' };
  private probeTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private probing: Promise<void> | undefined;
  private probeClient: pg.Client | undefined;
  /** From the embedded server's unexpected exit until it is back or given up. */
  private restarting = false;
  private failedRestarts = 0;
  /** When the last restart succeeded: a server that dies again soon after counts as a failed restart. */
  private restartedAt: Date | undefined;
  private stopped = false;

  constructor(
    private readonly connectionString: string,
    private readonly where: string,
    private readonly embedded: EmbeddedServer | undefined,
    private readonly settings: SupervisionSettings,
    private readonly log: (message: string) => void,
  ) {}

  start(): void {
    this.embedded?.onUnexpectedExit((exit) => this.onEmbeddedExit(exit));
    this.probeTimer = setInterval(() => this.probeSoon(), this.settings.probeIntervalMs);
    // Watching never keeps a process alive on its own.
    this.probeTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.probeTimer);
    clearTimeout(this.restartTimer);
    await this.probing;
    await this.probeClient?.end().catch(() => undefined);
  }

  probeSoon(): void {
    if (this.stopped || this.restarting) return;
    this.probing ??= this.probe().finally(() => (this.probing = undefined));
  }

  private async probe(): Promise<void> {
    try {
      this.probeClient ??= await this.connectProbe();
      await this.probeClient.query('SELECT 1');
      if (!this.restarting) this.markUp();
    } catch (error) {
      const broken = this.probeClient;
      this.probeClient = undefined;
      await broken?.end().catch(() => undefined);
      if (!this.restarting && !this.stopped) this.markDown(`${this.where} does not answer: ${describeError(error)}`, true);
    }
  }

  private async connectProbe(): Promise<pg.Client> {
    const timeout = this.settings.probeTimeoutMs;
    const client = new pg.Client({ connectionString: this.connectionString, connectionTimeoutMillis: timeout, query_timeout: timeout, application_name: 'fleetpatch-probe' });
    // The probe's own connection breaking is the quickest sign that the server went away.
    client.on('error', () => {
      if (this.probeClient === client) this.probeClient = undefined;
      void client.end().catch(() => undefined);
      this.probeSoon();
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    return client;
  }

  private onEmbeddedExit(exit: ServerExit): void {
    if (this.stopped) return;
    const reason = `embedded PostgreSQL exited (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`})`;
    this.restarting = true;
    const crashLoop = this.restartedAt !== undefined && this.settings.now().getTime() - this.restartedAt.getTime() < STABLE_AFTER_MS;
    this.failedRestarts = crashLoop ? this.failedRestarts + 1 : 0;
    this.markDown(reason, false);
    this.scheduleRestart(reason);
  }

  private scheduleRestart(reason: string): void {
    if (this.failedRestarts >= this.settings.maxRestarts) {
      const message = `${reason}; giving up after ${this.failedRestarts} failed restart${this.failedRestarts === 1 ? '' : 's'}`;
      this.log(message);
      this.settings.onGiveUp?.(new DatabaseUnavailableError(message));
      return;
    }
    const delayMs = Math.min(this.settings.restartDelayMs * 2 ** this.failedRestarts, this.settings.maxRestartDelayMs);
    this.log(`${reason}; restarting in ${formatDelay(delayMs)}`);
    this.restartTimer = setTimeout(() => void this.restart(), delayMs);
    this.restartTimer.unref();
  }

  private async restart(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.embedded!.restart();
    } catch (error) {
      if (this.stopped) return;
      this.failedRestarts++;
      const reason = `embedded PostgreSQL did not restart (attempt ${this.failedRestarts} of ${this.settings.maxRestarts}): ${describeError(error)}`;
      this.markDown(reason, false);
      this.scheduleRestart(reason);
      return;
    }
    this.restarting = false;
    this.restartedAt = this.settings.now();
    this.markUp();
  }

  private markDown(reason: string, logIt: boolean): void {
    if (this.health.state === 'down' && this.health.reason === reason) return;
    // One line per outage: the reason a probe sees may change while the server is away.
    if (logIt && this.health.state === 'up') this.log(`database unavailable: ${reason}`);
    this.health = { state: 'down', reason, since: this.health.state === 'down' ? this.health.since : this.settings.now() };
  }

  private markUp(): void {
    if (this.health.state === 'up') return;
    const downMs = this.settings.now().getTime() - this.health.since.getTime();
    this.log(`database available again after ${formatDelay(downMs)}`);
    this.health = { state: 'up' };
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  // An AggregateError (one failed connect per address) has no message of its own.
  const parts = error instanceof AggregateError ? error.errors.map(describeError) : [];
  return parts.length > 0 ? parts.join('; ') : ((error as NodeJS.ErrnoException).code ?? error.name);
}

function formatDelay(milliseconds: number): string {
  return milliseconds < 1_000 ? `${milliseconds} ms` : `${Number((milliseconds / 1_000).toFixed(1))}s`;
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
