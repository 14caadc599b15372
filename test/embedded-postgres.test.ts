// The embedded PostgreSQL fleetpatch owns: data survives restarts, a second owner is refused, and
// a crash (kill -9 of fleetpatch and its server) leaves nothing that blocks the next start.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/domain/errors.js';
import { openDatabase } from '../src/store/database.js';
import { repoRoot } from './data-path.js';

const home = mkdtempSync(join(tmpdir(), 'fleetpatch-embedded-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function holdDatabase(): Promise<{ pid: number; postmasterPid: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'test/fixtures/hold-database.ts')], {
    cwd: repoRoot,
    env: { ...process.env, FLEETPATCH_HOME: home },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolvePids, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const match = /ready (\d+)/.exec(chunk);
      if (match) resolvePids({ pid: child.pid!, postmasterPid: Number(match[1]) });
    });
    child.on('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });
}

async function waitForExit(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  throw new Error(`process ${pid} did not exit`);
}

describe('embedded PostgreSQL', () => {
  it('refuses a second owner of the same home while the first runs', async () => {
    const holder = await holdDatabase();
    try {
      const error = await openDatabase({ home }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(InputError);
      expect((error as Error).message).toContain(`is in use by process ${holder.pid}`);
      expect((error as InputError).hint).toContain('FLEETPATCH_HOME');
    } finally {
      process.kill(holder.pid, 'SIGKILL');
      process.kill(holder.postmasterPid, 'SIGKILL');
      await waitForExit(holder.postmasterPid);
    }
  }, 120_000);

  it('starts again after a crash left a stale lock and postmaster.pid, with the data intact', async () => {
    expect(existsSync(join(home, 'postgres', 'postmaster.pid'))).toBe(true);
    expect(existsSync(join(home, 'fleetpatch.lock'))).toBe(true);
    const database = await openDatabase({ home });
    try {
      const rows = await database.pool.query("SELECT location FROM feed_state WHERE location = 'crash-test'");
      expect(rows.rowCount).toBe(1);
      expect(database.kind).toBe('embedded');
    } finally {
      await database.close();
    }
    expect(existsSync(join(home, 'fleetpatch.lock'))).toBe(false);
    expect(existsSync(join(home, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 120_000);

  it('uses DATABASE_URL instead when it is given', async () => {
    const embedded = await openDatabase({ home });
    try {
      const url = new URL((embedded.pool as unknown as { options: { connectionString: string } }).options.connectionString);
      const external = await openDatabase({ home: join(home, 'unused'), databaseUrl: url.toString() });
      try {
        expect(external.kind).toBe('external');
        expect(external.describe()).not.toContain(url.password);
        expect((await external.pool.query('SELECT count(*)::int AS n FROM fleetpatch_migrations')).rows[0].n).toBeGreaterThan(0);
      } finally {
        await external.close();
      }
      expect(existsSync(join(home, 'unused', 'postgres'))).toBe(false);
    } finally {
      await embedded.close();
    }
  }, 120_000);
});
