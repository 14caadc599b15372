/**
 * Starts one real PostgreSQL for the whole test run (the embedded server fleetpatch itself uses),
 * or uses FLEETPATCH_TEST_DATABASE_URL. Test files get fresh databases from it via test/postgres.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.FLEETPATCH_TEST_DATABASE_URL;
  if (external) {
    project.provide('postgresAdminUrl', external);
    return async () => undefined;
  }
  const home = mkdtempSync(join(tmpdir(), 'fleetpatch-test-pg-'));
  const server = await startEmbeddedPostgres({ home });
  project.provide('postgresAdminUrl', server.connectionString);
  return async () => {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  };
}
