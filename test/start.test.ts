// `fleetpatch start` (the README's first command) on the embedded database: server, a real agent
// run for this machine, the simulated demo fleet, and a clear word when the feed is unreachable.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { runCli } from './cli.js';

/** A loopback port nothing listens on: the feed there is unreachable. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('fleetpatch start', () => {
  it('sets up the control plane, enrolls this machine and loads the demo fleet', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fleetpatch-start-'));
    const { DATABASE_URL: _ignored, ...env } = process.env;
    const offlineMirror = `http://127.0.0.1:${await closedPort()}/osv`;
    const result = await runCli(['start', '--port', '0', '--demo', '--demo-hosts', '30', '--exit-after-setup', '--advisories', offlineMirror], { ...env, FLEETPATCH_HOME: home } as Record<string, string>);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('check-in: full');
    expect(result.stderr).toContain('demo: 30 simulated hosts and 40 simulated advisories loaded');
    expect(result.stderr).toContain('demo: 30 simulated hosts take their rollout jobs');
    expect(result.stderr).toContain(`advisory feed ${offlineMirror} is unreachable (ECONNREFUSED`);
    expect(result.stderr).toContain('Point fleetpatch at a mirror or a local copy: --advisories DIR|ZIP|URL or FLEETPATCH_ADVISORIES');
    expect(result.stdout).toMatch(/dashboard: +http:\/\/127\.0\.0\.1:\d+\/#\/\?token=fpa_/);
    expect(result.stdout).toContain('embedded PostgreSQL');

    // A second start reuses the database and the admin token, and the agent needs no new enrollment.
    const again = await runCli(['start', '--port', '0', '--exit-after-setup', '--advisories', offlineMirror], { ...env, FLEETPATCH_HOME: home } as Record<string, string>);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('enrolled as');
    expect(again.stdout.match(/admin token: (\S+)/)?.[1]).toBe(result.stdout.match(/admin token: (\S+)/)?.[1]);
  }, 120_000);
});
