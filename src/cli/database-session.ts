/**
 * Opens the database a command works on: the server in `DATABASE_URL`, or the embedded PostgreSQL
 * under the fleetpatch home, started for the command and stopped after it.
 */
import { openDatabase, type Database } from '../store/database.js';
import { fleetpatchHome } from '../store/fleetpatch-home.js';
import type { Progress } from './progress.js';

export async function withDatabase<T>(progress: Progress | undefined, work: (database: Database) => Promise<T>): Promise<T> {
  const databaseUrl = process.env.DATABASE_URL;
  const database = await openDatabase({
    ...(databaseUrl ? { databaseUrl } : {}),
    home: fleetpatchHome(),
    ...(progress ? { onProgress: (message: string) => progress.note(message) } : {}),
  });
  try {
    return await work(database);
  } finally {
    await database.close();
  }
}
