// Losing the embedded PostgreSQL while fleetpatch runs (kill -9 of the postmaster): the loss is
// seen and logged at once, health() says why, the server is restarted on its port and the pool
// reconnects with the data intact; a server that cannot be restarted is given up after N attempts.
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, isDatabaseUnavailable, openDatabase, type Database, type DatabaseHealth } from '../src/store/database.js';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres.js';

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'fleetpatch-loss-'));
  homes.push(home);
  return home;
}

function postmasterPid(home: string): number {
  return Number(readFileSync(join(home, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** Polls every 20 ms, for at most `timeoutMs`; returns the milliseconds it took. */
async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const startedAt = Date.now();
  while (!condition()) {
    if (Date.now() - startedAt > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return Date.now() - startedAt;
}

const isDown = (health: DatabaseHealth) => health.state === 'down';

describe('losing the embedded PostgreSQL', () => {
  it('detects the kill, restarts the server on its port, and the pool reconnects to intact data', async () => {
    const home = newHome();
    const logs: string[] = [];
    const database: Database = await openDatabase({ home, onProgress: (message) => logs.push(message), supervision: { restartDelayMs: 100, probeIntervalMs: 200 } });
    try {
      await database.pool.query("INSERT INTO feed_state (location, state) VALUES ('loss-test', '{}')");
      expect(database.health()).toEqual({ state: 'up' });
      const port = new URL(database.pool.options.connectionString!).port;

      process.kill(postmasterPid(home), 'SIGKILL');
      // The supervisor's word, not the probe's: under load a probe may fail first, and the exit's reason replaces its reason when the exit is seen.
      const detectMs = await waitFor(() => { const health = database.health(); return isDown(health) && health.reason.startsWith('embedded PostgreSQL exited'); }, 5_000, 'the kill to be noticed');
      const health = database.health();
      expect(health).toMatchObject({ state: 'down', reason: 'embedded PostgreSQL exited (signal SIGKILL)' });
      expect((health as { since: Date }).since).toBeInstanceOf(Date);
      expect(logs).toContain('embedded PostgreSQL exited (signal SIGKILL); restarting in 100 ms');
      // A new connection is refused until the restart; a pooled one may still reach a backend that has not yet noticed its postmaster's death.
      const probe = new pg.Client({ connectionString: database.pool.options.connectionString! });
      const failure = await probe.connect().then(
        () => probe.end(),
        (error: unknown) => error,
      );
      expect(isDatabaseUnavailable(failure)).toBe(true);

      const recoverMs = await waitFor(() => database.health().state === 'up', 30_000, 'the restart');
      console.log(`embedded PostgreSQL loss noticed after ${detectMs} ms, back after ${recoverMs} ms more`);
      const rows = await database.pool.query("SELECT location FROM feed_state WHERE location = 'loss-test'");
      expect(rows.rowCount).toBe(1);
      expect(new URL(database.pool.options.connectionString!).port).toBe(port);
      expect(postmasterPid(home)).not.toBeNaN();
      expect(logs.some((line) => /^embedded PostgreSQL restarted on 127\.0\.0\.1:\d+/.test(line))).toBe(true);
      expect(logs.some((line) => line.startsWith('database available again after'))).toBe(true);
    } finally {
      await database.close();
    }
  }, 120_000);

  it('gives up after the configured number of failed restarts', async () => {
    const home = newHome();
    const logs: string[] = [];
    let gaveUp: DatabaseUnavailableError | undefined;
    const database = await openDatabase({
      home,
      onProgress: (message) => logs.push(message),
      supervision: { restartDelayMs: 50, maxRestarts: 2, onGiveUp: (error) => (gaveUp = error) },
    });
    const versionFile = join(home, 'postgres', 'PG_VERSION');
    try {
      // Without PG_VERSION the directory is no data directory to PostgreSQL: every restart fails.
      renameSync(versionFile, `${versionFile}.aside`);
      process.kill(postmasterPid(home), 'SIGKILL');
      await waitFor(() => gaveUp !== undefined, 60_000, 'giving up');
      expect(gaveUp).toBeInstanceOf(DatabaseUnavailableError);
      expect(isDatabaseUnavailable(gaveUp)).toBe(true);
      expect(gaveUp!.message).toMatch(/^embedded PostgreSQL did not restart \(attempt 2 of 2\): .+; giving up after 2 failed restarts$/);
      expect(database.health()).toMatchObject({ state: 'down', reason: expect.stringContaining('attempt 2 of 2') });
      expect(logs.filter((line) => line.includes('restarting in'))).toEqual([
        'embedded PostgreSQL exited (signal SIGKILL); restarting in 50 ms',
        expect.stringMatching(/^embedded PostgreSQL did not restart \(attempt 1 of 2\): .+; restarting in 100 ms$/),
      ]);
    } finally {
      renameSync(`${versionFile}.aside`, versionFile);
      await database.close();
    }
  }, 120_000);
});

describe('an embedded PostgreSQL that keeps dying after restarts', () => {
  it('counts a death within a minute of a restart as a failed restart; a server that ran longer starts afresh', async () => {
    const home = newHome();
    let clock = new Date('2026-01-01T00:00:00Z');
    let gaveUp: DatabaseUnavailableError | undefined;
    const database = await openDatabase({ home, supervision: { restartDelayMs: 50, maxRestarts: 1, now: () => clock, onGiveUp: (error) => (gaveUp = error) } });
    const killAndAwaitRestart = async () => {
      process.kill(postmasterPid(home), 'SIGKILL');
      await waitFor(() => isDown(database.health()), 5_000, 'the loss to be noticed');
      await waitFor(() => database.health().state === 'up', 30_000, 'the restart');
    };
    try {
      await killAndAwaitRestart();
      clock = new Date(clock.getTime() + 61_000);
      await killAndAwaitRestart();
      expect(gaveUp).toBeUndefined();
      clock = new Date(clock.getTime() + 59_000);
      process.kill(postmasterPid(home), 'SIGKILL');
      await waitFor(() => gaveUp !== undefined, 10_000, 'giving up');
      expect(gaveUp!.message).toBe('embedded PostgreSQL exited (signal SIGKILL); giving up after 1 failed restart');
      expect(database.health()).toEqual({ state: 'down', reason: 'embedded PostgreSQL exited (signal SIGKILL)', since: clock });
    } finally {
      await database.close();
    }
  }, 120_000);
});

describe('losing an external PostgreSQL (DATABASE_URL)', () => {
  it('is reported down while the server is away and up again once the pool reaches it', async () => {
    const home = newHome();
    const first = await startEmbeddedPostgres({ home });
    const logs: string[] = [];
    const database = await openDatabase({ home: join(home, 'unused'), databaseUrl: first.connectionString, onProgress: (message) => logs.push(message), supervision: { probeIntervalMs: 100 } });
    try {
      await first.stop();
      await waitFor(() => isDown(database.health()), 5_000, 'the loss to be noticed');
      expect(database.health()).toMatchObject({ state: 'down', reason: expect.stringMatching(/^PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/fleetpatch does not answer: /) });
      expect(logs.filter((line) => line.startsWith('database unavailable: '))).toHaveLength(1);
      // Nothing restarts an external server; it comes back on its own, at the same address.
      const second = await startEmbeddedPostgres({ home, port: first.port });
      try {
        await waitFor(() => database.health().state === 'up', 10_000, 'the server to be seen again');
        expect((await database.pool.query('SELECT count(*)::int AS n FROM fleetpatch_migrations')).rows[0].n).toBeGreaterThan(0);
      } finally {
        await database.close();
        await second.stop();
      }
    } finally {
      await database.close();
      await first.stop();
    }
  }, 120_000);
});

describe('isDatabaseUnavailable', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });
  it.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['admin_shutdown', withCode('57P01')],
    ['cannot_connect_now', withCode('57P03')],
    ['a connection exception', withCode('08006')],
    ['a lost connection', new Error('Connection terminated unexpectedly')],
    ['a pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['every address refusing', new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')])],
    ['a wrapped cause', new Error('check-in failed', { cause: withCode('ECONNREFUSED') })],
    ['our own error', new DatabaseUnavailableError('down')],
  ])('is true for %s', (_case, error) => expect(isDatabaseUnavailable(error)).toBe(true));

  it.each([
    ['a syntax error', withCode('42601')],
    ['a unique violation', withCode('23505')],
    ['a plain error', new Error('boom')],
    ['a string', 'ECONNREFUSED'],
    ['undefined', undefined],
  ])('is false for %s', (_case, error) => expect(isDatabaseUnavailable(error)).toBe(false));
});
