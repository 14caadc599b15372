// The migration runner on real PostgreSQL: order, one transaction per migration, replicas starting
// at once, edited migrations refused before anything changes, and the shipped folder found.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { BugError, InputError } from '../domain/errors.js';
import { createTestDatabase, type TestDatabase } from '../../test/postgres.js';
import { defaultMigrationsDirectory, migrate } from './migrate.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function emptyDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase({ migrated: false });
  cleanups.push(() => database.drop());
  return database;
}

function migrationsFolder(files: Record<string, string>): string {
  const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-migrations-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(directory, name), sql);
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

async function tableNames(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ name: string }>("SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  return result.rows.map((row) => row.name);
}

describe('migrate', () => {
  it('applies migrations in version order, records them, and skips them the second time', async () => {
    const database = await emptyDatabase();
    // Listed out of order on purpose: 0002 depends on 0001 and 0010 on both.
    const directory = migrationsFolder({
      '0010_third.sql': 'ALTER TABLE probe ADD COLUMN label text;',
      '0002_second.sql': 'ALTER TABLE probe ADD COLUMN name text;',
      '0001_first.sql': 'CREATE TABLE probe (id integer PRIMARY KEY);',
      'README.md': 'not a migration',
    });
    const first = await migrate(database.pool, directory);
    expect(first.map(({ version, name, status }) => ({ version, name, status }))).toEqual([
      { version: 1, name: 'first', status: 'applied' },
      { version: 2, name: 'second', status: 'applied' },
      { version: 10, name: 'third', status: 'applied' },
    ]);
    const recorded = await database.pool.query('SELECT version, name, length(checksum) AS checksum_length, applied_at FROM fleetpatch_migrations ORDER BY version');
    expect(recorded.rows.map((row) => [row.version, row.name, row.checksum_length])).toEqual([
      [1, 'first', 64],
      [2, 'second', 64],
      [10, 'third', 64],
    ]);
    expect(recorded.rows.every((row) => row.applied_at instanceof Date)).toBe(true);
    const columns = await database.pool.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'probe' ORDER BY ordinal_position");
    expect(columns.rows.map((row) => row.column_name)).toEqual(['id', 'name', 'label']);

    const second = await migrate(database.pool, directory);
    expect(second.map((status) => status.status)).toEqual(['already-applied', 'already-applied', 'already-applied']);
  });

  it('applies each migration once when several replicas start at the same time', async () => {
    const database = await emptyDatabase();
    // Plain CREATE TABLE (no IF NOT EXISTS) fails if run twice; the sleep makes the starts overlap.
    const directory = migrationsFolder({
      '0001_slow.sql': 'SELECT pg_sleep(0.3); CREATE TABLE replica_probe (id integer);',
      '0002_next.sql': 'CREATE TABLE replica_probe_two (id integer); INSERT INTO replica_probe VALUES (1);',
    });
    const replicas = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: database.connectionString, max: 1 }));
    cleanups.push(() => Promise.all(replicas.map((pool) => pool.end())).then(() => undefined));
    const results = await Promise.all(replicas.map((pool) => migrate(pool, directory)));
    const appliedVersions = results.flat().filter((status) => status.status === 'applied').map((status) => status.version);
    expect(appliedVersions.sort()).toEqual([1, 2]);
    expect(results.every((statuses) => statuses.length === 2)).toBe(true);
    expect((await database.pool.query('SELECT count(*)::int AS n FROM fleetpatch_migrations')).rows[0].n).toBe(2);
    expect((await database.pool.query('SELECT count(*)::int AS n FROM replica_probe')).rows[0].n).toBe(1);
  });

  it('refuses an applied migration that was edited, before applying anything newer', async () => {
    const database = await emptyDatabase();
    const directory = migrationsFolder({
      '0001_first.sql': 'CREATE TABLE edited_probe (id integer);',
      '0002_second.sql': 'ALTER TABLE edited_probe ADD COLUMN name text;',
    });
    await migrate(database.pool, directory);
    writeFileSync(join(directory, '0002_second.sql'), 'ALTER TABLE edited_probe ADD COLUMN other text;');
    writeFileSync(join(directory, '0003_third.sql'), 'CREATE TABLE newer_probe (id integer);');
    const error = await migrate(database.pool, directory).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toMatch(/^0002_second\.sql: migration 0002_second\.sql was changed after it was applied \(checksum [0-9a-f]{12} in the database, [0-9a-f]{12} on disk\)$/);
    expect((error as InputError).hint).toContain('matching release');
    expect(await tableNames(database.pool)).toEqual(['edited_probe', 'fleetpatch_migrations']);
  });

  it('does not take CRLF line endings for an edit', async () => {
    const database = await emptyDatabase();
    const directory = migrationsFolder({ '0001_first.sql': 'CREATE TABLE line_probe (id integer);\nCREATE INDEX ON line_probe (id);\n' });
    await migrate(database.pool, directory);
    writeFileSync(join(directory, '0001_first.sql'), 'CREATE TABLE line_probe (id integer);\r\nCREATE INDEX ON line_probe (id);\r\n');
    expect((await migrate(database.pool, directory)).map((status) => status.status)).toEqual(['already-applied']);
  });

  it('rolls a failing migration back whole and names it', async () => {
    const database = await emptyDatabase();
    const directory = migrationsFolder({
      '0001_good.sql': 'CREATE TABLE kept_probe (id integer);',
      '0002_bad.sql': 'CREATE TABLE lost_probe (id integer); INSERT INTO lost_probe VALUES (1); SELECT no_such_column FROM lost_probe;',
    });
    await expect(migrate(database.pool, directory)).rejects.toThrow(/^migration 0002_bad\.sql failed: column "no_such_column" does not exist$/);
    expect(await tableNames(database.pool)).toEqual(['fleetpatch_migrations', 'kept_probe']);
    expect((await database.pool.query('SELECT version FROM fleetpatch_migrations')).rows).toEqual([{ version: 1 }]);
    // The lock was released: a fixed migration applies on the next start.
    writeFileSync(join(directory, '0002_bad.sql'), 'CREATE TABLE lost_probe (id integer);');
    expect((await migrate(database.pool, directory)).map((status) => status.status)).toEqual(['already-applied', 'applied']);
  });

  it('is not cut short by a pool-wide statement timeout', async () => {
    const database = await emptyDatabase();
    const directory = migrationsFolder({ '0001_long.sql': 'SELECT pg_sleep(0.4); CREATE TABLE long_probe (id integer);' });
    const pool = new pg.Pool({ connectionString: database.connectionString, max: 1, statement_timeout: 100 });
    cleanups.push(() => pool.end());
    await expect(pool.query('SELECT pg_sleep(0.4)')).rejects.toThrow(/statement timeout/);
    expect((await migrate(pool, directory)).map((status) => status.status)).toEqual(['applied']);
  });

  it('rejects misnamed and duplicate migration files as bugs, touching nothing', async () => {
    const database = await emptyDatabase();
    const misnamed = migrationsFolder({ '0001_first.sql': 'CREATE TABLE a (id integer);', '2-second.sql': 'CREATE TABLE b (id integer);' });
    await expect(migrate(database.pool, misnamed)).rejects.toThrow(BugError);
    await expect(migrate(database.pool, misnamed)).rejects.toThrow(/2-second\.sql is not named NNNN_description\.sql/);
    const duplicate = migrationsFolder({ '0001_first.sql': 'CREATE TABLE a (id integer);', '0001_again.sql': 'CREATE TABLE b (id integer);' });
    await expect(migrate(database.pool, duplicate)).rejects.toThrow(/two migrations share version 1: 0001_again\.sql and 0001_first\.sql/);
    expect(await tableNames(database.pool)).toEqual([]);
  });

  it('finds the shipped migrations in src/store/migrations', () => {
    const directory = defaultMigrationsDirectory();
    expect(basename(directory)).toBe('migrations');
    expect(existsSync(join(directory, '..', 'migrate.ts'))).toBe(true);
    expect(readdirSync(directory).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).length).toBeGreaterThan(0);
  });
});
