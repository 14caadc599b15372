/**
 * Cross-process cache invalidation over PostgreSQL `LISTEN/NOTIFY`: a process that changes shared
 * state (advisories, credentials) notifies inside its transaction, and every server replica on the
 * same database hears it after the commit. While the listening connection is down nothing can be
 * heard, so subscribers are told to stop trusting their caches (`onReset`) until it is back.
 */
import type pg from 'pg';

/** The channels fleetpatch notifies on; one per kind of shared state that processes cache. */
export type ChangeChannel = 'fleetpatch_advisories' | 'fleetpatch_access' | 'fleetpatch_policy' | 'fleetpatch_jobs' | 'fleetpatch_rollouts';

type Queryable = pg.Pool | pg.PoolClient;

/** Sends a notification; inside a transaction it is delivered only if, and when, that commits. */
export async function notifyChange(db: Queryable, channel: ChangeChannel, payload = ''): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [channel, payload]);
}

export interface ChangeListener {
  /** Calls `handler` with each payload notified on `channel` (by any process, this one included). */
  subscribe(channel: ChangeChannel, handler: (payload: string) => void): void;
  /**
   * Calls `handler` whenever notifications may have been missed (the listening connection broke)
   * and again once listening resumed: caches must be dropped or re-validated both times.
   */
  onReset(handler: (listening: boolean) => void): void;
  /** True while notifications are being received. */
  readonly listening: boolean;
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Delay before the first reconnection attempt; doubled up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
  log?: (message: string) => void;
}

/**
 * Holds one connection of `pool` for `LISTEN` and reconnects with backoff when it breaks.
 *
 * @example const listener = await listenForChanges(pool); listener.subscribe('fleetpatch_access', () => cache.clear())
 */
export async function listenForChanges(pool: pg.Pool, options: ListenOptions = {}): Promise<ChangeListener> {
  const handlers = new Map<ChangeChannel, Array<(payload: string) => void>>();
  const resetHandlers: Array<(listening: boolean) => void> = [];
  const retryMs = options.retryMs ?? 250;
  const maxRetryMs = options.maxRetryMs ?? 10_000;
  let client: pg.PoolClient | undefined;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let nextRetryMs = retryMs;

  // Statements on the listening connection run one after another: pg refuses (from pg@9; warns
  // now) a query sent while another is under way, and subscriptions come several in one tick.
  let queue: Promise<unknown> = Promise.resolve();
  const inTurn = (connection: pg.PoolClient, sql: string): Promise<unknown> => {
    const run = queue.then(() => connection.query(sql));
    queue = run.catch(() => undefined);
    return run;
  };

  const reset = (listening: boolean) => {
    for (const handler of resetHandlers) handler(listening);
  };

  const connect = async (): Promise<void> => {
    const connection = await pool.connect();
    connection.on('notification', (message) => {
      for (const handler of handlers.get(message.channel as ChangeChannel) ?? []) handler(message.payload ?? '');
    });
    connection.on('error', () => lost(connection));
    try {
      for (const channel of handlers.keys()) await connection.query(`LISTEN ${channel}`);
    } catch (error) {
      connection.release(true);
      throw error;
    }
    client = connection;
    nextRetryMs = retryMs;
  };

  const lost = (connection: pg.PoolClient) => {
    if (client !== connection) return;
    client = undefined;
    connection.release(true);
    reset(false);
    scheduleReconnect();
  };

  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().then(
        () => reset(true),
        (error: unknown) => {
          options.log?.(`listening for changes failed (${(error as Error).message}); retrying in ${nextRetryMs} ms`);
          nextRetryMs = Math.min(nextRetryMs * 2, maxRetryMs);
          scheduleReconnect();
        },
      );
    }, nextRetryMs);
    retryTimer.unref();
  };

  await connect();
  return {
    subscribe(channel, handler) {
      const list = handlers.get(channel);
      if (list) {
        list.push(handler);
        return;
      }
      handlers.set(channel, [handler]);
      // A channel added later is listened to on the current connection, and on every reconnect.
      const connection = client;
      if (connection) inTurn(connection, `LISTEN ${channel}`).catch(() => lost(connection));
    },
    onReset(handler) {
      resetHandlers.push(handler);
    },
    get listening() {
      return client !== undefined;
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const connection = client;
      client = undefined;
      if (connection) {
        await inTurn(connection, 'UNLISTEN *').catch(() => undefined);
        connection.release();
      }
    },
  };
}
