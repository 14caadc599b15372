// The shared test harness: each createTestDatabase() is a separate, fully migrated database,
// cloned from a template, and drop() removes it.
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';
import { defaultMigrationsDirectory } from '../src/store/migrate.js';
import { createTestDatabase } from './postgres.js';

async function databaseExists(name: string): Promise<boolean> {
  const url = new URL(inject('postgresAdminUrl'));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('createTestDatabase', () => {
  it('gives each caller its own database with every shipped migration applied, and drops it', async () => {
    const shipped = readdirSync(defaultMigrationsDirectory()).filter((file) => file.endsWith('.sql')).length;
    const [first, second] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    const firstName = new URL(first!.connectionString).pathname.slice(1);
    try {
      expect(firstName).not.toBe(new URL(second!.connectionString).pathname.slice(1));
      for (const database of [first!, second!]) {
        expect((await database.pool.query('SELECT count(*)::int AS n FROM fleetpatch_migrations')).rows[0].n).toBe(shipped);
      }
      await first!.pool.query('CREATE TABLE only_in_first (id integer)');
      expect((await second!.pool.query("SELECT to_regclass('only_in_first') AS found")).rows[0].found).toBeNull();
    } finally {
      await Promise.all([first!.drop(), second!.drop()]);
    }
    expect(await databaseExists(firstName)).toBe(false);
    await first!.drop();
  });

  it('gives an empty database when asked for one', async () => {
    const database = await createTestDatabase({ migrated: false });
    try {
      expect((await database.pool.query("SELECT to_regclass('fleetpatch_migrations') AS found")).rows[0].found).toBeNull();
    } finally {
      await database.drop();
    }
  });
});
