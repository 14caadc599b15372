/**
 * `npm run bench:plan`: the planner at fleet scale, in process (the planner is pure; reading the
 * fleet from PostgreSQL is measured by bench:scan's store paths and is not part of these targets).
 *
 * - plan: 100,000 hosts in 6 buckets of the seed's policy (the four of examples/fleetpatch.yaml and
 *   two more), about 10 open findings each (about 1M), real AlmaLinux advisory ids and fixed
 *   versions from ../shared/data; target ≤ 2 s.
 * - what-if: a critical CVE in a package every host runs, routine and emergency paths; target ≤ 1 s.
 * - policy check: judging a generated 500-bucket policy (reading, cross-checks, each issue placed
 *   at its line), as `fleetpatch policy check` does; target ≤ 200 ms. Measured first, as the
 *   command runs: in a process without a million findings in its heap (its max is the first,
 *   JIT-cold run).
 * - reload: a real server (embedded PostgreSQL, 100,000 stored hosts) re-reads its changed
 *   500-bucket `--policy` file; the longest event-loop stall while it parses, checks, applies and
 *   re-assigns the hosts bounds how long any check-in waits for it; target ≤ 20 ms.
 *
 * Each is run BENCH_RUNS times (5); the table shows min / median / max and the machine's cores.
 * Options (environment): BENCH_HOSTS (100000), BENCH_FINDINGS_PER_HOST (10), FLEETPATCH_DATA_DIR.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { planFleet } from '../src/domain/planning/planner.js';
import type { PlanFinding, PlanHost } from '../src/domain/planning/plan-types.js';
import { whatIf } from '../src/domain/planning/what-if.js';
import { judgePolicy } from '../src/domain/policy/policy-report.js';
import { parsePolicy } from '../src/domain/policy/policy-document.js';
import type { Severity } from '../src/domain/types.js';
import { openAdvisoryFeed } from '../src/feeds/open-feed.js';
import { fiveHundredBuckets } from './five-hundred-buckets.js';
import { seededRandom } from '../src/simulator/seeded-random.js';
import { serverNodeArgs } from './server-node-args.js';

const dataDir = process.env.FLEETPATCH_DATA_DIR ?? resolve(import.meta.dirname, '../../shared/data');
const HOSTS = Number(process.env.BENCH_HOSTS ?? 100_000);
const FINDINGS_PER_HOST = Number(process.env.BENCH_FINDINGS_PER_HOST ?? 10);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const NOW = new Date('2026-12-01T12:00:00Z');
const DAY = 86_400_000;

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

const example = readFileSync(resolve(import.meta.dirname, '../examples/fleetpatch.yaml'), 'utf8');

/** The seed's policy with two more buckets: six in all. */
const policyText = example.replace('fallback:', `  - name: batch-workers
    owner: data-science
    match: { labels: { role: batch } }
    strategy: { kind: in-place }
    windows: [nightly-nodes]
    waves: [1, "5%", "25%", "100%"]
    maxInFlight: "20%"
    expectedHostDuration: 10m
  - name: edge-proxies
    owner: network
    match: { labels: { role: edge } }
    strategy: { kind: in-place }
    windows: [sunday-rotation]
    waves: [1, "50%", "100%"]
    maxInFlight: "10%"
    expectedHostDuration: 8m

fallback:`);
const policy = parsePolicy(policyText, 'bench policy');

/** Share of the fleet per bucket: mostly Kubernetes nodes and stateless hosts, few physical ones. */
const BUCKETS: Array<[string, string, number]> = [
  ['kubernetes-nodes', 'platform', 0.45], ['stateless', 'web', 0.25], ['batch-workers', 'data-science', 0.15],
  ['edge-proxies', 'network', 0.1], ['databases', 'data-platform', 0.049], ['physical', 'infrastructure', 0.001],
];

async function realFixes(): Promise<Array<{ id: string; packageName: string; fixed: string; severity: Severity }>> {
  const batch = await openAdvisoryFeed(join(dataDir, 'osv/almalinux/almalinux9.zip')).read();
  const fixes: Array<{ id: string; packageName: string; fixed: string; severity: Severity }> = [];
  for (const advisory of batch.advisories) {
    for (const affected of advisory.affected) {
      const fixed = affected.ranges.flatMap((range) => range.events.flatMap((event) => ('fixed' in event ? [event.fixed] : [])))[0];
      if (fixed) fixes.push({ id: advisory.id, packageName: affected.name, fixed, severity: advisory.severity });
    }
  }
  return fixes;
}

function fleet(fixes: Awaited<ReturnType<typeof realFixes>>): PlanHost[] {
  const random = seededRandom(2026);
  const hosts: PlanHost[] = [];
  let index = 0;
  for (const [bucket, team, share] of BUCKETS) {
    const count = Math.max(1, Math.round(HOSTS * share));
    for (let n = 0; n < count && index < HOSTS; n++, index++) {
      const findings: PlanFinding[] = [];
      for (let f = 0; f < FINDINGS_PER_HOST; f++) {
        const fix = fixes[Math.floor(random() * fixes.length)]!;
        findings.push({
          advisoryId: fix.id,
          severity: fix.severity,
          packageName: fix.packageName,
          ecosystem: 'AlmaLinux:9',
          installedVersion: '0:1.0-1.el9',
          fixedVersion: fix.fixed,
          state: random() < 0.1 ? 'pending-reboot' : 'vulnerable',
          firstSeenAt: new Date(NOW.getTime() - Math.floor(random() * 60) * DAY),
          knownExploited: random() < 0.01,
          needsReboot: fix.packageName.startsWith('kernel'),
        });
      }
      hosts.push({ name: `${bucket}-${n}`, bucket, team, labels: n === 0 ? { canary: 'true' } : {}, lastSeenAt: new Date(NOW.getTime() - 60_000), rebootRequired: false, findings, availableUpdates: [] });
    }
  }
  return hosts;
}

/** Runs bench/policy-reload.ts and reads its stalls (ms, one per reload) from its last line. */
async function measureReloadInItsOwnProcess(runs: number): Promise<number[]> {
  const child = spawn(process.execPath, [...serverNodeArgs(), '--import', 'tsx', resolve(import.meta.dirname, 'policy-reload.ts')], { env: { ...process.env, BENCH_RUNS: String(runs) }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/policy-reload.ts exited with ${code}`);
  return (JSON.parse(output.trim().split('\n').at(-1)!) as number[]).sort((a, b) => a - b);
}

function measure(runs: number, work: () => void): number[] {
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const started = performance.now();
    work();
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

const bigPolicy = fiveHundredBuckets();
let problems = 0;
// What `fleetpatch policy check` runs: read, cross-check, and place each issue at its line.
const checkTimes = measure(RUNS, () => {
  problems = judgePolicy(bigPolicy, { now: NOW }).issues.length;
});
log(`policy check of 500 buckets: ${problems} findings (the catch-all-free buckets shadow nothing)`);

const fixes = await realFixes();
log(`${fixes.length} real (advisory, package, fixed version) triples from AlmaLinux 9`);
let hosts: PlanHost[] | undefined = fleet(fixes);
const findingCount = hosts.reduce((sum, host) => sum + host.findings.length, 0);
const hostCount = hosts.length;
log(`${hosts.length} hosts, ${findingCount} open findings, ${BUCKETS.length} buckets`);

let scheduled = 0;
const planTimes = measure(RUNS, () => {
  const plan = planFleet(policy, hosts!, { now: NOW, staleAfterMs: 3_600_000 });
  scheduled = plan.hosts.filter((host) => host.status === 'scheduled').length;
});
log(`plan: ${scheduled} hosts scheduled`);
const affected = hosts.map((host) => ({ name: host.name, bucket: host.bucket, labels: host.labels }));
const whatIfTimes = measure(RUNS, () => void whatIf(policy, affected, { packageName: 'openssl', severity: 'critical', publishedAt: NOW, needsReboot: true }));
hosts = undefined;

// The reload is measured in a process of its own: the server's heap is the server's, not this one's fleet.
const reloadTimes = await measureReloadInItsOwnProcess(RUNS);



/** Met on the median; `never` targets (a stall) on the longest of the runs. */
const row = (name: string, times: number[], target: number, judged: 'median' | 'max' = 'median') => {
  const [min, median, max] = [times[0]!, times[Math.floor(times.length / 2)]!, times.at(-1)!];
  const met = (judged === 'median' ? median : max) <= target;
  return `| ${name.padEnd(44)} | ${min.toFixed(0).padStart(7)} | ${median.toFixed(0).padStart(7)} | ${max.toFixed(0).padStart(7)} | ${`≤ ${target}`.padStart(7)} | ${met ? 'yes' : 'NO '} |`;
};
process.stdout.write(`
bench:plan — ${availableParallelism()} cores, load average ${loadavg().map((value) => value.toFixed(2)).join(' ')}, ${RUNS} runs (ms)

| work                                         |     min |  median |     max |  target | met |
|----------------------------------------------|---------|---------|---------|---------|-----|
${row(`plan ${hostCount} hosts, ${findingCount} findings`, planTimes, 2000)}
${row(`what-if over ${affected.length} hosts`, whatIfTimes, 1000)}
${row('policy check, 500 buckets', checkTimes, 200)}
${row('reload stall, 500 buckets, 100000 hosts', reloadTimes, 20, 'max')}
`);
