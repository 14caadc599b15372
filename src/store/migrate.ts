/**
 * Applies the numbered SQL migrations (`NNNN_description.sql`) in order, each in its own
 * transaction, recorded with a checksum in `fleetpatch_migrations`. A session advisory lock
 * serialises concurrent starts, so several server replicas may migrate the same database at once.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { BugError, InputError } from '../domain/errors.js';

export interface MigrationStatus {
  version: number;
  name: string;
  status: 'applied' | 'already-applied';
  durationMs: number;
}

interface MigrationFile {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

/** Arbitrary, fixed: the advisory lock key every fleetpatch process uses for migrations ("fltp"). */
const MIGRATION_LOCK_KEY = 0x666c7470;
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/**
 * The shipped migrations in `src/store/migrations`: found beside this module when it runs from
 * `src/store` (tsx, vitest), and through the package root when it runs from `dist/store` (the build
 * does not copy .sql files; the package ships `src/`).
 *
 * @example defaultMigrationsDirectory() // '/usr/lib/node_modules/fleetpatch/src/store/migrations'
 */
export function defaultMigrationsDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'migrations'), resolve(here, '../../src/store/migrations')];
  const found = candidates.find((candidate) => existsSync(candidate) && readdirSync(candidate).some((file) => FILE_NAME.test(file)));
  if (!found) throw new BugError(`no migrations found in ${candidates.join(' or ')}`);
  return found;
}

/**
 * Brings the database up to the newest migration in `directory`; returns what happened to each.
 *
 * @example await migrate(pool) // [{ version: 1, name: 'inventory_and_detection', status: 'applied', durationMs: 41 }]
 */
export async function migrate(pool: pg.Pool, directory = defaultMigrationsDirectory()): Promise<MigrationStatus[]> {
  const migrations = readMigrations(directory);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await applyPending(client, migrations);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch((error: Error) => {
        broken = error;
      });
    }
  } finally {
    // A connection that could not unlock is discarded, which ends its session and frees the lock.
    client.release(broken);
  }
}

async function applyPending(client: pg.PoolClient, migrations: MigrationFile[]): Promise<MigrationStatus[]> {
  await client.query(`CREATE TABLE IF NOT EXISTS fleetpatch_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now())`);
  const applied = new Map(
    (await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM fleetpatch_migrations')).rows.map((row) => [row.version, row.checksum]),
  );
  // Check every applied migration before changing anything.
  for (const migration of migrations) {
    const known = applied.get(migration.version);
    if (known !== undefined && known !== migration.checksum) {
      throw new InputError(
        `migration ${migration.file} was changed after it was applied (checksum ${known.slice(0, 12)} in the database, ${migration.checksum.slice(0, 12)} on disk)`,
        { file: migration.file },
        'this database was migrated by a different build of fleetpatch; run the matching release, and add new migrations instead of editing applied ones',
      );
    }
  }
  const statuses: MigrationStatus[] = [];
  for (const migration of migrations) {
    const startedAt = Date.now();
    if (applied.has(migration.version)) {
      statuses.push({ version: migration.version, name: migration.name, status: 'already-applied', durationMs: 0 });
      continue;
    }
    await client.query('BEGIN');
    try {
      // A pool-wide statement timeout must not cut a long migration short.
      await client.query('SET LOCAL statement_timeout = 0');
      await client.query(migration.sql);
      await client.query('INSERT INTO fleetpatch_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw new Error(`migration ${migration.file} failed: ${(error as Error).message}`, { cause: error });
    }
    statuses.push({ version: migration.version, name: migration.name, status: 'applied', durationMs: Date.now() - startedAt });
  }
  return statuses;
}

function readMigrations(directory: string): MigrationFile[] {
  const migrations = readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => {
      const match = FILE_NAME.exec(file);
      if (!match) throw new BugError(`migration file ${join(directory, file)} is not named NNNN_description.sql (lower case, digits, underscores)`);
      // Line endings are normalised so a checkout with CRLF does not look like an edited migration.
      const sql = readFileSync(join(directory, file), 'utf8').replace(/\r\n/g, '\n');
      return { version: Number(match[1]), name: match[2]!, file, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
  for (let index = 1; index < migrations.length; index++) {
    if (migrations[index]!.version === migrations[index - 1]!.version) {
      throw new BugError(`two migrations share version ${migrations[index]!.version}: ${migrations[index - 1]!.file} and ${migrations[index]!.file}`);
    }
  }
  return migrations;
}
