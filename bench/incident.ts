/**
 * `npm run bench:incident`: the emergency path at fleet scale (issue 11), on an embedded
 * PostgreSQL in a temp home: BENCH_HOSTS (10,000) hosts in three buckets, each running a library a
 * critical advisory then names. Measured: the advisory's import until its incident is opened (one
 * transaction: the advisory stored, every affected host re-evaluated, the incident opened), the
 * first look of the emergency path (scope, one emergency rollout per bucket, the timeline), the
 * incident's detail as the dashboard reads it, and the status update's draft. Prints the table with
 * the machine's cores.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importAdvisories } from '../src/app/advisory-import.js';
import { DetectionService } from '../src/app/detection-service.js';
import { advanceIncidents, draftIncidentUpdate } from '../src/app/incident-emergency.js';
import { incidentDetail, incidentOpener } from '../src/app/incident-service.js';
import { importInventories } from '../src/app/inventory-import.js';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { policyOwnership } from '../src/domain/policy/ownership.js';
import { parsePolicy } from '../src/domain/policy/policy-document.js';
import type { HostInventory } from '../src/domain/types.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { openDatabase } from '../src/store/database.js';

const HOSTS = Number(process.env.BENCH_HOSTS ?? 10_000);
const NOW = new Date('2026-12-01T10:00:00Z');
const POLICY = parsePolicy(`version: 1
windows:
  nightly: { timeZone: UTC, every: day, start: "02:00", duration: 2h }
buckets:
  - { name: databases, owner: data-platform, match: { labels: { role: db } }, strategy: { kind: in-place }, windows: [nightly] }
  - { name: web, owner: web-team, match: { labels: { role: web } }, strategy: { kind: in-place }, windows: [nightly], waves: [1, "10%", "100%"], maxInFlight: "5%" }
  - { name: batch, owner: data-platform, match: { labels: { role: batch } }, strategy: { kind: in-place }, windows: [nightly] }
`, 'bench.yaml');
const ROLES = ['db', 'web', 'web', 'web', 'batch'];

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { ms: performance.now() - started, value };
}

const host = (index: number): HostInventory => ({
  hostname: `bench-${index}`, osEcosystem: 'Debian:12', rebootRequired: false, labels: { role: ROLES[index % ROLES.length]! }, kernel: { installed: [] },
  packages: [
    { ecosystem: 'Debian:12', name: 'libfp1', version: '1.0-1', arch: 'amd64', sourceName: 'libfp', sourceVersion: '1.0-1' },
    { ecosystem: 'Debian:12', name: `libother${index % 50}`, version: '2.0-1', arch: 'amd64', sourceName: `libother${index % 50}`, sourceVersion: '2.0-1' },
  ],
});

const home = mkdtempSync(join(tmpdir(), 'fleetpatch-bench-incident-'));
chmodSync(home, 0o755);
const database = await openDatabase({ home, onProgress: log });
try {
  const { pool } = database;
  const detection = await DetectionService.load(pool);
  log(`storing ${HOSTS} hosts`);
  const inventories = Array.from({ length: HOSTS }, (_, index) => host(index));
  await importInventories(pool, detection, inventories, { source: 'bench', ownership: policyOwnership(POLICY), now: NOW });
  // Their agents checked in just now: none is stale.
  await pool.query('UPDATE hosts SET last_seen_at = $1', [NOW]);
  await pool.query('VACUUM ANALYZE');

  const advisory = advisoryFromOsv({
    id: 'BENCH-2026-0001', modified: '2026-11-30T00:00:00Z', published: '2026-11-30T06:00:00Z', summary: 'libfp: remote code execution', database_specific: { severity: 'critical' },
    affected: [{ package: { ecosystem: 'Debian:12', name: 'libfp' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '1.1-1' }] }] }],
  }, { file: 'BENCH-2026-0001.json' });
  log('importing the critical advisory');
  const imported = await timed(() => importAdvisories(pool, detection, new MemoryFeed('bench', [advisory]), { now: NOW, openIncidents: incidentOpener(() => POLICY.emergency, () => NOW) }));
  const id = imported.value.incidentsOpened?.[0];
  if (id === undefined) throw new Error('no incident opened');
  log('the first look of the emergency path');
  const look = await timed(() => advanceIncidents(pool, { policy: POLICY, now: NOW, staleAfterSeconds: 3600 }));
  const secondLook = await timed(() => advanceIncidents(pool, { policy: POLICY, now: new Date(NOW.getTime() + 30_000), staleAfterSeconds: 3600 }));
  const options = { now: NOW, staleAfterMs: 3_600_000 };
  const detail = await timed(() => incidentDetail(pool, id, options));
  const draft = await timed(() => draftIncidentUpdate(pool, { id, ...options, policy: POLICY }));

  const row = (name: string, ms: number) => `| ${name.padEnd(70)} | ${ms.toFixed(0).padStart(8)} |`;
  process.stdout.write(`
bench:incident — ${availableParallelism()} cores, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}, ${HOSTS} hosts (ms)

| work                                                                   |       ms |
|------------------------------------------------------------------------|----------|
${row(`import until the incident is opened (${detail.value.scope.total.hosts} hosts affected)`, imported.ms)}
${row(`first look: scope, ${look.value.rolloutsCreated.length} emergency rollouts, timeline`, look.ms)}
${row('a later look (nothing to create)', secondLook.ms)}
${row('the incident\'s detail (scope per bucket and team, plan, timeline)', detail.ms)}
${row(`the status update's draft (${draft.value.markdown.length} characters)`, draft.ms)}
`);
} finally {
  await database.close();
  rmSync(home, { recursive: true, force: true });
}
