/**
 * The reload part of `npm run bench:plan`, in a process of its own so the server's heap is only
 * the server's: a real server (embedded PostgreSQL, 100,000 stored hosts) re-reads its changed
 * 500-bucket `--policy` file BENCH_RUNS times; the longest event-loop stall during each reload
 * bounds how long any check-in waited for it. Prints progress on stderr and, last on stdout, the
 * stalls as a JSON array of milliseconds. Run alone with the node flags the
 * `fleetpatch` command starts with: `node --v8-pool-size=0 --import tsx bench/policy-reload.ts`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer } from '../src/server/run-server.js';
import { fiveHundredBuckets } from './five-hundred-buckets.js';

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** The longest gap between 1 ms timer ticks while `work` runs: how long a check-in could have waited. */
async function longestStall(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 1);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(stall, performance.now() - last);
}

export async function reloadStalls(runs: number): Promise<number[]> {
  const home = mkdtempSync(join(tmpdir(), 'fleetpatch-bench-reload-'));
  // Run as root, the embedded PostgreSQL runs as its own user, which must reach its data directory.
  chmodSync(home, 0o755);
  const policyFile = join(home, 'fleetpatch.yaml');
  writeFileSync(policyFile, fiveHundredBuckets());
  const server = await runServer({ port: 0, host: '127.0.0.1', home: join(home, 'server'), staleAfterSeconds: 3600, openAdvisoryFeed: () => new MemoryFeed('empty', []), syncIntervalSeconds: 0, policyFile, policyPollMs: 0, log: () => undefined });
  try {
    await server.database.pool.query(`INSERT INTO hosts (name, labels, os_id, os_id_like, os_version, bucket, team)
      SELECT 'bench-' || n, jsonb_build_object('service', 'svc-' || (n % 500), 'env', 'prod'), 'almalinux', '["rhel"]'::jsonb, '9', 'unassigned', 'unowned'
        FROM generate_series(1, 100000) AS n`);
    // Settled, so autovacuum and a checkpoint do not compete with the reloads for the two cores.
    await server.database.pool.query('VACUUM ANALYZE hosts');
    await server.database.pool.query('CHECKPOINT');
    log('reload: 100000 hosts stored; re-reading a changed 500-bucket policy');
    const quiet = await longestStall(() => new Promise((resolve) => setTimeout(resolve, 2_000)));
    log(`reload: longest stall over 2 s without a reload ${quiet.toFixed(1)} ms`);
    const stalls: number[] = [];
    for (let run = 1; run <= runs; run++) {
      writeFileSync(policyFile, fiveHundredBuckets(run));
      stalls.push(await longestStall(() => server.checkPolicyFile()));
    }
    const owners = await server.database.pool.query<{ team: string }>("SELECT team FROM hosts WHERE name = 'bench-1'");
    log(`reload: bench-1 is owned by ${owners.rows[0]?.team} after ${runs} reloads`);
    log(`reload: longest stall per reload ${stalls.map((stall) => stall.toFixed(1)).join(", ")} ms`);
    return stalls.sort((a, b) => a - b);
  } finally {
    await server.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await reloadStalls(Number(process.env.BENCH_RUNS ?? 5)))}\n`);
}
