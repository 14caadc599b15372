/**
 * Fresh, fully migrated databases for tests, cloned from a template so each test file starts from a
 * clean schema in milliseconds, on the same PostgreSQL engine fleetpatch runs on.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../src/store/migrate.js';

export interface TestDatabase {
  pool: pg.Pool;
  connectionString: string;
  drop(): Promise<void>;
}

const TEMPLATE = 'fleetpatch_test_template';

function urlFor(database: string): string {
  const url = new URL(inject('postgresAdminUrl'));
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor('postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Builds the template once per run; concurrent workers serialise on an advisory lock. */
async function ensureTemplate(): Promise<void> {
  await withAdmin(async (admin) => {
    await admin.query('SELECT pg_advisory_lock(424242)');
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE]);
      if (exists.rowCount === 0) {
        await admin.query(`CREATE DATABASE ${TEMPLATE}`);
        const pool = new pg.Pool({ connectionString: urlFor(TEMPLATE), max: 1 });
        try {
          await migrate(pool);
        } finally {
          await pool.end();
        }
      }
    } finally {
      await admin.query('SELECT pg_advisory_unlock(424242)');
    }
  });
}

/** @example const database = await createTestDatabase(); … await database.drop(); */
export async function createTestDatabase(): Promise<TestDatabase> {
  await ensureTemplate();
  const name = `fleetpatch_test_${randomBytes(6).toString('hex')}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`));
  const connectionString = urlFor(name);
  const pool = new pg.Pool({ connectionString, max: 4 });
  return {
    pool,
    connectionString,
    async drop() {
      await pool.end();
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}
