/**
 * Fresh, fully migrated databases for tests, on the run's one PostgreSQL (test/global-setup.ts).
 * The real migrations are applied once into a template named after their content; each test
 * database is a clone of it, which takes milliseconds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { defaultMigrationsDirectory, migrate } from '../src/store/migrate.js';

export interface TestDatabase {
  pool: pg.Pool;
  connectionString: string;
  /** Ends the pool and drops the database; idempotent. */
  drop(): Promise<void>;
}

/** Serialises template builds across vitest workers (and concurrent runs on one external server). */
const TEMPLATE_LOCK_KEY = 0x666c7474;

let templateReady: Promise<string> | undefined;

export interface TestDatabaseOptions {
  /** false: an empty database, for tests of the migration runner itself. Default true. */
  migrated?: boolean;
}

/**
 * A new database with every migration of src/store/migrations applied (or none).
 *
 * @example const database = await createTestDatabase(); … await database.drop();
 */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const template = options.migrated === false ? 'template0' : await (templateReady ??= ensureTemplate());
  const name = `fleetpatch_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`));
  const connectionString = urlFor(name);
  const pool = new pg.Pool({ connectionString, max: 8, application_name: 'fleetpatch-test' });
  pool.on('error', () => undefined);
  let dropping: Promise<void> | undefined;
  return {
    pool,
    connectionString,
    drop() {
      dropping ??= pool.end().then(() => withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined));
      return dropping;
    },
  };
}

/** Connection string for another database on the test server. */
function urlFor(database: string): string {
  const url = new URL(inject('postgresAdminUrl'));
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor('postgres'), application_name: 'fleetpatch-test' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * The template's name carries a hash of the migrations, so an edited or added migration gets a new
 * template even on a long-lived server. It is built under another name and renamed when complete,
 * so a worker that dies half-way never leaves a half-migrated template behind.
 */
async function ensureTemplate(): Promise<string> {
  const directory = defaultMigrationsDirectory();
  const template = `fleetpatch_template_${migrationsHash(directory)}`;
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock($1)', [TEMPLATE_LOCK_KEY]);
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
      if (exists.rowCount !== 0) return;
      const building = `${template}_building_${randomBytes(4).toString('hex')}`;
      await admin.query(`CREATE DATABASE ${building}`);
      const pool = new pg.Pool({ connectionString: urlFor(building), max: 1 });
      try {
        await migrate(pool, directory);
      } finally {
        await pool.end();
      }
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${template}`);
      await admin.query(`ALTER DATABASE ${template} WITH IS_TEMPLATE true`);
    } finally {
      await admin.query('SELECT pg_advisory_unlock($1)', [TEMPLATE_LOCK_KEY]);
    }
  });
  return template;
}

function migrationsHash(directory: string): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.sql')).sort()) {
    hash.update(file).update('\0').update(readFileSync(join(directory, file))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}
