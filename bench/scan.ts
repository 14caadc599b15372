/**
 * `npm run bench:scan`: detection at fleet scale on the real data.
 *
 * Builds a simulated fleet (10,000 hosts by default) from the Debian 12 image's package list and
 * AlmaLinux 8/9/10 package names with versions before, at and after the fixed versions of the real
 * advisories; serialises every host to its native inventory format and parses it back; evaluates
 * the fleet against all AlmaLinux advisories on a real PostgreSQL; then measures one host's changed
 * inventory and "hosts affected by advisory X" on a 100,000-host fleet.
 *
 * Options (environment): BENCH_HOSTS (10000), BENCH_LARGE_HOSTS (100000), DATABASE_URL (else an
 * embedded PostgreSQL in a temporary home), FLEETPATCH_DATA_DIR.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { importAdvisories } from '../src/app/advisory-import.js';
import { DetectionService } from '../src/app/detection-service.js';
import { importInventories } from '../src/app/inventory-import.js';
import type { Advisory } from '../src/domain/advisories/advisory.js';
import { parseInventory } from '../src/domain/inventory/index.js';
import type { HostInventory, InstalledPackage } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { openAdvisoryFeed } from '../src/feeds/open-feed.js';
import { simulateFleet } from '../src/simulator/fleet-simulator.js';
import { startEmbeddedPostgres } from '../src/store/embedded-postgres.js';
import { advisoryImpact } from '../src/store/finding-queries.js';
import { migrate } from '../src/store/migrate.js';
import { withTransaction } from '../src/store/transaction.js';
import { realBaselines } from '../test/simulated-fleet.js';

const dataDir = process.env.FLEETPATCH_DATA_DIR ?? resolve(import.meta.dirname, '../../shared/data');
const HOSTS = Number(process.env.BENCH_HOSTS ?? 10_000);
const LARGE_HOSTS = Number(process.env.BENCH_LARGE_HOSTS ?? 100_000);
const NOW = new Date('2026-11-24T00:00:00Z');

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function seconds(start: number): number {
  return (performance.now() - start) / 1000;
}

async function loadAdvisories(): Promise<Advisory[]> {
  const advisories: Advisory[] = [];
  for (const release of [8, 9, 10]) {
    const batch = await openAdvisoryFeed(join(dataDir, `osv/almalinux/almalinux${release}.zip`)).read();
    advisories.push(...batch.advisories);
  }
  return advisories;
}

/** Writes a host's packages in its native inventory format, so the benchmark measures real parsing. */
function serialise(host: HostInventory): { text: string; format: 'dpkg-status' | 'rpm' } {
  if (host.osEcosystem?.startsWith('Debian')) {
    const stanzas = host.packages.map((pkg) =>
      [`Package: ${pkg.name}`, 'Status: install ok installed', `Architecture: ${pkg.arch ?? 'amd64'}`, `Version: ${pkg.version}`,
        ...(pkg.sourceName ? [`Source: ${pkg.sourceName}${pkg.sourceVersion ? ` (${pkg.sourceVersion})` : ''}`] : [])].join('\n'));
    return { text: `${stanzas.join('\n\n')}\n`, format: 'dpkg-status' };
  }
  const lines = host.packages.map((pkg) => {
    const epoch = /^(\d+):/.exec(pkg.version)?.[1] ?? '0';
    const evr = pkg.version.replace(/^\d+:/, '');
    const hyphen = evr.lastIndexOf('-');
    return [pkg.name, epoch, evr.slice(0, hyphen), evr.slice(hyphen + 1), pkg.arch ?? 'x86_64', `${pkg.name}-${evr}.src.rpm`].join('\t');
  });
  return { text: `${lines.join('\n')}\n`, format: 'rpm' };
}

/**
 * Serialises each host to its native format and parses it back, host by host (as inventories
 * arrive), sharing identical package objects as the ingest path does. Only parsing is timed.
 */
function parseFleet(hosts: HostInventory[]): { fleet: HostInventory[]; parseSeconds: number } {
  const interned = new Map<string, InstalledPackage>();
  let parseMs = 0;
  const fleet = hosts.map((host) => {
    const { text, format } = serialise(host);
    const started = performance.now();
    const { packages } = parseInventory({ text, fileName: host.hostname, format, osEcosystem: host.osEcosystem! });
    parseMs += performance.now() - started;
    return {
      ...host,
      packages: packages.map((pkg) => {
        const key = `${pkg.ecosystem}\u0000${pkg.name}\u0000${pkg.version}\u0000${pkg.arch ?? ''}\u0000${pkg.sourceName ?? ''}\u0000${pkg.sourceVersion ?? ''}`;
        const existing = interned.get(key);
        if (existing) return existing;
        interned.set(key, pkg);
        return pkg;
      }),
    };
  });
  return { fleet, parseSeconds: parseMs / 1000 };
}

async function openDatabase(): Promise<{ pool: pg.Pool; close: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
    await migrate(pool);
    return { pool, close: () => pool.end() };
  }
  const home = mkdtempSync(join(tmpdir(), 'fleetpatch-bench-'));
  const server = await startEmbeddedPostgres({ home });
  const pool = new pg.Pool({ connectionString: server.connectionString, max: 4 });
  await migrate(pool);
  return {
    pool,
    close: async () => {
      await pool.end();
      await server.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  log(`loading real advisories and package lists from ${dataDir}`);
  const advisories = await loadAdvisories();
  const simulated = simulateFleet({ advisories, baselines: realBaselines() }, { hosts: HOSTS, seed: 42, now: NOW });

  const { fleet, parseSeconds } = parseFleet(simulated);
  let start = performance.now();
  const packageInstances = fleet.reduce((sum, host) => sum + host.packages.length, 0);
  log(`parsed ${fleet.length} inventories (${packageInstances} package instances) in ${parseSeconds.toFixed(2)} s`);

  const database = await openDatabase();
  try {
    // The fleet first meets the advisories published up to a month before the newest one; the
    // newest month arrives later, as a real errata drop would.
    const newest = Math.max(...advisories.map((advisory) => (advisory.published ?? advisory.modified).getTime()));
    const cutoff = newest - 30 * 86_400_000;
    const older = advisories.filter((advisory) => (advisory.published ?? advisory.modified).getTime() <= cutoff);
    const newer = advisories.filter((advisory) => (advisory.published ?? advisory.modified).getTime() > cutoff);
    const loader = new DetectionService();
    start = performance.now();
    await importAdvisories(database.pool, loader, new MemoryFeed('older errata', older));
    const advisoryImportSeconds = seconds(start);
    log(`imported ${older.length} advisories in ${advisoryImportSeconds.toFixed(2)} s (${newer.length} newer ones held back)`);

    start = performance.now();
    const initial = await importInventories(database.pool, loader, fleet, { source: 'bench', now: NOW, progress: (message) => log(`  ${message} (+${seconds(start).toFixed(2)} s)`) });
    const initialSeconds = seconds(start);
    log(`stored the fleet and wrote ${initial.findings} findings in ${initialSeconds.toFixed(2)} s`);

    start = performance.now();
    const drop = await importAdvisories(database.pool, loader, new MemoryFeed('newest errata', newer), { progress: (message) => log(`  ${message} (+${seconds(start).toFixed(2)} s)`) });
    const dropSeconds = seconds(start);
    log(`newest ${newer.length} advisories: ${drop.hostsReevaluated} hosts re-evaluated, ${drop.evaluation?.opened ?? 0} findings opened in ${dropSeconds.toFixed(2)} s`);
    await database.pool.query('VACUUM ANALYZE');

    // Full re-evaluation with a cold matcher, as after a restart: every host matched again, only
    // what changed written.
    const detection = await DetectionService.load(database.pool);
    start = performance.now();
    const full = await withTransaction(database.pool, (client) => detection.evaluateHosts(client, undefined, NOW, (message) => log(`  ${message} (+${seconds(start).toFixed(2)} s)`)));
    const fullSeconds = seconds(start);
    log(`full re-evaluation of ${full.hosts} hosts in ${fullSeconds.toFixed(2)} s`);

    // Worst case: forget what was written, so every host's findings are merged row by row again.
    await database.pool.query('UPDATE hosts SET findings_digest = NULL');
    const rewriter = await DetectionService.load(database.pool);
    start = performance.now();
    const rewrite = await withTransaction(database.pool, (client) => rewriter.evaluateHosts(client, undefined, NOW));
    const rewriteSeconds = seconds(start);
    log(`forced full re-evaluation and merge of ${rewrite.findings} findings in ${rewriteSeconds.toFixed(2)} s`);

    // One host's changed inventory: a lagging host catches up on one package.
    const singleTimings: number[] = [];
    const hostToChange = fleet.find((host) => host.osEcosystem === 'AlmaLinux:9' && host.labels.cohort === 'lagging')!;
    for (let run = 0; run < 20; run++) {
      const changed = { ...hostToChange, packages: run % 2 === 0 ? hostToChange.packages.slice(1) : hostToChange.packages };
      start = performance.now();
      await importInventories(database.pool, detection, [changed], { source: 'bench', now: NOW });
      singleTimings.push(performance.now() - start);
    }

    // "Hosts affected by advisory X": the kernel erratum touching the most hosts.
    const { rows: [widest] } = await database.pool.query<{ id: string }>(
      `SELECT a.id FROM findings f JOIN advisories a ON a.key = f.advisory_key WHERE f.state <> 'not-applicable'
        GROUP BY a.id ORDER BY count(DISTINCT f.host_key) DESC LIMIT 1`,
    );
    const impactAt = async (label: string) => {
      const timings: number[] = [];
      let affectedHosts = 0;
      for (let run = 0; run < 21; run++) {
        start = performance.now();
        const rows = await advisoryImpact(database.pool, widest!.id);
        timings.push(performance.now() - start);
        affectedHosts = rows.reduce((sum, row) => sum + row.hosts, 0);
      }
      log(`${label}: ${widest!.id} affects ${affectedHosts} hosts, median ${median(timings).toFixed(1)} ms`);
      return { ms: median(timings), affectedHosts };
    };
    const impactSmall = await impactAt(`${HOSTS} hosts`);

    // Grow the fleet to the large size with more simulated hosts, then ask again.
    let total = HOSTS;
    let seed = 43;
    while (total < LARGE_HOSTS) {
      const count = Math.min(HOSTS, LARGE_HOSTS - total);
      const more = simulateFleet({ advisories, baselines: realBaselines() }, { hosts: count, seed: seed++, now: NOW })
        .map((host, index) => ({ ...host, hostname: `${host.hostname}-b${seed}-${index}` }));
      await importInventories(database.pool, detection, more, { source: 'bench', now: NOW });
      total += count;
      log(`fleet grown to ${total} hosts`);
    }
    await database.pool.query('VACUUM ANALYZE');
    const impactLarge = await impactAt(`${total} hosts`);
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    const rows: Array<[string, string]> = [
      ['cores', String(cpus().length)],
      ['hosts', String(full.hosts)],
      ['package instances', String(packageInstances)],
      ['distinct package versions', String(full.distinctVersions)],
      ['advisories (AlmaLinux 8/9/10)', String(advisories.length)],
      ['advisory import, older errata (s)', advisoryImportSeconds.toFixed(2)],
      ['findings (open, incl. not-applicable kernels)', String(full.findings)],
      ['parse inventories (s)', parseSeconds.toFixed(2)],
      ['first import of the fleet: store + match + write all findings (s)', initialSeconds.toFixed(2)],
      ['full re-evaluation: load (s)', full.seconds.load.toFixed(2)],
      ['full re-evaluation: match (s)', full.seconds.match.toFixed(2)],
      ['full re-evaluation: write (s)', full.seconds.write.toFixed(2)],
      ['full re-evaluation total (s)  [target <= 10]', fullSeconds.toFixed(2)],
      ['  forced: every host merged row by row (s)', rewriteSeconds.toFixed(2)],
      [`newest errata (${newer.length} advisories) -> ${drop.hostsReevaluated} hosts re-evaluated (s)`, dropSeconds.toFixed(2)],
      ['one host changed -> findings, median of 20 (ms)  [target <= 5]', median(singleTimings).toFixed(1)],
      [`affected hosts by advisory at ${HOSTS} hosts (ms)`, impactSmall.ms.toFixed(1)],
      [`affected hosts by advisory at ${total} hosts (ms)  [target <= 50]`, `${impactLarge.ms.toFixed(1)} (${impactLarge.affectedHosts} hosts)`],
      ['peak RSS of the benchmark process (MB)', peakRssMb.toFixed(0)],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    process.stdout.write(`\nfleetpatch bench:scan (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown cpu'})\n`);
    for (const [label, value] of rows) process.stdout.write(`${label.padEnd(width)}  ${value}\n`);
  } finally {
    await database.close();
  }
}

await main();
process.exit(0);
