// Migrations: concurrent starts apply each migration once; an edited applied migration is refused.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

describe('migrate', () => {
  let database: TestDatabase;
  const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-migrations-'));

  beforeAll(async () => {
    database = await createTestDatabase();
    await database.pool.query('DROP TABLE fleetpatch_migrations');
    writeFileSync(join(directory, '0001_first.sql'), 'CREATE TABLE migration_probe (id integer);');
    writeFileSync(join(directory, '0002_second.sql'), 'ALTER TABLE migration_probe ADD COLUMN name text;');
  });
  afterAll(async () => database.drop());

  it('applies each migration once when several processes start at the same time', async () => {
    const results = await Promise.all([migrate(database.pool, directory), migrate(database.pool, directory), migrate(database.pool, directory)]);
    const applied = results.flat().filter((status) => status.status === 'applied').map((status) => status.version);
    expect(applied.sort()).toEqual([1, 2]);
    expect((await database.pool.query('SELECT count(*)::int AS n FROM fleetpatch_migrations')).rows[0].n).toBe(2);
  });

  it('refuses to run when an applied migration was edited', async () => {
    writeFileSync(join(directory, '0002_second.sql'), 'ALTER TABLE migration_probe ADD COLUMN other text;');
    await expect(migrate(database.pool, directory)).rejects.toThrow(/0002_second\.sql was changed after it was applied/);
  });
});
