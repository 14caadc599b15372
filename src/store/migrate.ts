/**
 * Applies the numbered SQL migrations in `migrations/` (`NNNN_description.sql`), each in its own
 * transaction, recorded with a checksum. An advisory lock serialises concurrent starts, so several
 * server replicas may migrate the same database at once.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

export interface MigrationStatus {
  version: number;
  name: string;
  status: 'applied' | 'already-applied';
}

/** Arbitrary, fixed: the advisory lock key every fleetpatch process uses for migrations. */
const MIGRATION_LOCK_KEY = 0x666c7470;

/**
 * Migrations ship as SQL files in `src/store/migrations`; the compiled code in `dist/store` finds
 * them there too (the build does not copy them).
 */
export function defaultMigrationsDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'migrations'), resolve(here, '../../src/store/migrations')];
  return candidates.find((candidate) => existsSync(candidate) && readdirSync(candidate).some((file) => file.endsWith('.sql')))!;
}

/** @example await migrate(pool) // [{ version: 1, name: 'inventory_and_detection', status: 'applied' }] */
export async function migrate(pool: pg.Pool, directory = defaultMigrationsDirectory()): Promise<MigrationStatus[]> {
  const files = readdirSync(directory)
    .filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file))
    .sort();
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query(`CREATE TABLE IF NOT EXISTS fleetpatch_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const applied = new Map(
      (await client.query<{ version: number; checksum: string }>('SELECT version, checksum FROM fleetpatch_migrations')).rows.map((row) => [row.version, row.checksum]),
    );
    const statuses: MigrationStatus[] = [];
    for (const file of files) {
      const version = Number(file.slice(0, 4));
      const name = file.slice(5, -4);
      const sql = readFileSync(join(directory, file), 'utf8');
      const checksum = createHash('sha256').update(sql).digest('hex');
      const known = applied.get(version);
      if (known !== undefined) {
        if (known !== checksum) throw new Error(`migration ${file} was changed after it was applied (checksum ${known.slice(0, 12)} → ${checksum.slice(0, 12)}); add a new migration instead`);
        statuses.push({ version, name, status: 'already-applied' });
        continue;
      }
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('INSERT INTO fleetpatch_migrations (version, name, checksum) VALUES ($1, $2, $3)', [version, name, checksum]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(error as Error).message}`);
      }
      statuses.push({ version, name, status: 'applied' });
    }
    return statuses;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
}
