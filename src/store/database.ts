/**
 * Opens fleetpatch's database: the PostgreSQL server in `DATABASE_URL`, or the embedded one under
 * the fleetpatch home, started here and stopped on close. Migrations run on open. The rest of the
 * code sees only a `pg.Pool`.
 */
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { migrate } from './migrate.js';

export interface Database {
  pool: pg.Pool;
  kind: 'embedded' | 'external';
  /** Where the data lives, without credentials. */
  describe(): string;
  close(): Promise<void>;
}

export interface OpenOptions {
  databaseUrl?: string;
  home: string;
  poolSize?: number;
  onProgress?: (message: string) => void;
}

/** @example const database = await openDatabase({ home: fleetpatchHome() }) */
export async function openDatabase(options: OpenOptions): Promise<Database> {
  const embedded = options.databaseUrl ? undefined : await startEmbeddedPostgres({ home: options.home, ...(options.onProgress ? { onProgress: options.onProgress } : {}) });
  const connectionString = options.databaseUrl ?? embedded!.connectionString;
  const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 8, application_name: 'fleetpatch' });
  try {
    await migrate(pool);
  } catch (error) {
    await pool.end();
    await embedded?.stop();
    throw error;
  }
  const where = embedded ? `embedded PostgreSQL in ${embedded.dataDirectory}` : `PostgreSQL at ${redact(connectionString)}`;
  return {
    pool,
    kind: embedded ? 'embedded' : 'external',
    describe: () => where,
    async close() {
      await pool.end();
      await embedded?.stop();
    },
  };
}

function redact(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return 'DATABASE_URL';
  }
}
