// openDatabase on real PostgreSQL: the embedded server by default (migrated on open, stopped on
// close), DATABASE_URL when given (pointed at a server this test starts), clear connection errors.
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../domain/errors.js';
import { openDatabase } from './database.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { defaultMigrationsDirectory } from './migrate.js';

const scratch = mkdtempSync(join(tmpdir(), 'fleetpatch-database-test-'));
// As root the server runs as the postgres user, which must pass through every parent of a home.
chmodSync(scratch, 0o711);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const shippedMigrations = readdirSync(defaultMigrationsDirectory()).filter((file) => file.endsWith('.sql')).length;

describe('openDatabase', () => {
  it('starts the embedded server, migrates it, and stops it on close', async () => {
    const home = join(scratch, 'embedded');
    const database = await openDatabase({ home, statementTimeoutMs: 250 });
    let port: number;
    try {
      expect(database.kind).toBe('embedded');
      expect(database.migrations).toHaveLength(shippedMigrations);
      expect(database.migrations.every((migration) => migration.status === 'applied')).toBe(true);
      expect(database.describe()).toMatch(new RegExp(`^embedded PostgreSQL in ${join(home, 'postgres')} \\(127\\.0\\.0\\.1:\\d+\\)$`));
      port = Number(/:(\d+)\)$/.exec(database.describe())![1]);
      const session = await database.pool.query("SELECT current_setting('application_name') AS application, current_setting('statement_timeout') AS timeout");
      expect(session.rows[0]).toEqual({ application: 'fleetpatch', timeout: '250ms' });
      await expect(database.pool.query('SELECT pg_sleep(1)')).rejects.toThrow(/statement timeout/);
      expect(database.pool.options.max).toBe(8);
    } finally {
      await database.close();
      await database.close();
    }
    expect(existsSync(join(home, 'fleetpatch.lock'))).toBe(false);
    expect(existsSync(join(home, 'postgres', 'postmaster.pid'))).toBe(false);
    await expect(connectTo(`postgres://postgres@127.0.0.1:${port}/postgres`)).rejects.toThrow(/ECONNREFUSED/);

    const reopened = await openDatabase({ home });
    try {
      expect(reopened.migrations.map((migration) => migration.status)).toEqual(Array(shippedMigrations).fill('already-applied'));
    } finally {
      await reopened.close();
    }
  });

  it('uses DATABASE_URL instead of the embedded server, and leaves that server running on close', async () => {
    const server = await startEmbeddedPostgres({ home: join(scratch, 'external-server') });
    try {
      const password = new URL(server.connectionString).password;
      const unusedHome = join(scratch, 'unused-home');
      const database = await openDatabase({ databaseUrl: server.connectionString, home: unusedHome, poolSize: 3 });
      try {
        expect(database.kind).toBe('external');
        expect(database.describe()).toBe(`PostgreSQL at postgres://postgres:***@127.0.0.1:${server.port}/fleetpatch`);
        expect(database.describe()).not.toContain(password);
        expect(database.migrations).toHaveLength(shippedMigrations);
        expect(database.pool.options.max).toBe(3);
        expect((await database.pool.query('SELECT count(*)::int AS n FROM fleetpatch_migrations')).rows[0].n).toBe(shippedMigrations);
      } finally {
        await database.close();
      }
      expect(existsSync(unusedHome)).toBe(false);
      const client = await connectTo(server.connectionString);
      expect((await client.query('SELECT count(*)::int AS n FROM fleetpatch_migrations')).rows[0].n).toBe(shippedMigrations);
      await client.end();
    } finally {
      await server.stop();
    }
  });

  it('reports a DATABASE_URL it cannot use as the operator’s to fix, without the password', async () => {
    const home = join(scratch, 'never-used');
    const notPostgres = await openDatabase({ databaseUrl: 'mysql://root:secret@db.example:3306/fleet', home }).catch((caught: unknown) => caught);
    expect(notPostgres).toBeInstanceOf(InputError);
    expect((notPostgres as Error).message).toBe('field DATABASE_URL: not a PostgreSQL URL');
    const closedPort = await freePort();
    const refused = await openDatabase({ databaseUrl: `postgres://fleet:secret@127.0.0.1:${closedPort}/fleet`, home }).catch((caught: unknown) => caught);
    expect(refused).toBeInstanceOf(InputError);
    expect((refused as Error).message).toMatch(new RegExp(`^field DATABASE_URL: cannot connect to PostgreSQL at postgres://fleet:\\*\\*\\*@127\\.0\\.0\\.1:${closedPort}/fleet: .*ECONNREFUSED`));
    expect((refused as Error).message).not.toContain('secret');
    expect(existsSync(home)).toBe(false);
  });

  it('reports a wrong password for DATABASE_URL', async () => {
    const server = await startEmbeddedPostgres({ home: join(scratch, 'password-server') });
    try {
      const wrong = new URL(server.connectionString);
      wrong.password = 'not-the-password';
      const error = await openDatabase({ databaseUrl: wrong.toString(), home: join(scratch, 'never-used') }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toContain('password authentication failed for user "postgres"');
    } finally {
      await server.stop();
    }
  });
});

async function connectTo(connectionString: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  return client;
}

/** A loopback port nothing listens on. */
function freePort(): Promise<number> {
  return new Promise((resolvePort) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolvePort(port));
    });
  });
}
