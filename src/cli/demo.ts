/**
 * The `--demo` fleet of `fleetpatch start`: the seed's four buckets as simulated hosts with 90 days
 * of history, the example policy applied, and the simulated infrastructure its strategies patch
 * through (a Kubernetes cluster, runbooks, a cloud, a Prometheus), so every bucket's rollout runs
 * end to end. Everything simulated says so: hosts `sim-…`, advisories `SIM-…`, outputs
 * `simulated: …`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { collectHostFacts } from '../agent/host-facts.js';
import { importAdvisories } from '../app/advisory-import.js';
import { DetectionService } from '../app/detection-service.js';
import { reassignHosts } from '../app/host-reassignment.js';
import { applyPolicy } from '../app/policy-service.js';
import { judgePolicy } from '../domain/policy/policy-report.js';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import { MemoryFeed } from '../feeds/memory-feed.js';
import { fullCheckInOf } from '../protocol/agent-protocol.js';
import type { RunningServer } from '../server/run-server.js';
import { startDemoInfrastructure, type DemoInfrastructure } from '../simulator/demo-infrastructure.js';
import { demoFleet } from '../simulator/demo-fleet.js';
import { driveSimulatedHosts, SimulatedHost } from '../simulator/simulated-agent.js';
import { replaceKevCatalogue } from '../store/advisory-store.js';
import { storedInventories } from '../store/fleet-queries.js';
import { demoCriticalCve } from '../simulator/demo-cve.js';
import { takeFleetSnapshot } from '../store/fleet-snapshots.js';

/** The demo's policy: the seed's own fleet, as examples/fleetpatch.yaml writes it down. */
const DEMO_POLICY_FILE = fileURLToPath(new URL('../../examples/fleetpatch.yaml', import.meta.url));
const DEMO_AUTHOR = 'system:demo';
/** Same seed, same fleet: every `--demo` shows the same teams and the same history. */
const DEMO_SEED = 2026;
const DEMO_ADVISORIES = 40;
const DAY_MS = 86_400_000;

/**
 * The simulated infrastructure under `<home>/demo`, its runbook scripts calling this same
 * fleetpatch (`simulate-runbook`).
 */
export function startDemoInfrastructureIn(home: string, options: { fleetpatchCommand?: string[]; bootMs?: number; clusterNow?: () => number; log: (message: string) => void }): Promise<DemoInfrastructure> {
  return startDemoInfrastructure({
    directory: join(home, 'demo'),
    fleetpatchCommand: options.fleetpatchCommand ?? [process.execPath, ...process.execArgv, process.argv[1]!],
    ...(options.bootMs !== undefined ? { bootMs: options.bootMs } : {}),
    ...(options.clusterNow ? { clusterNow: options.clusterNow } : {}),
    log: options.log,
  });
}

/**
 * examples/fleetpatch.yaml with its runbooks, cloud hooks and Prometheus replaced by the
 * simulated infrastructure's (none replaced without one).
 */
export function demoPolicyText(substitutions: ReadonlyMap<string, string> = new Map()): string {
  let text = readFileSync(DEMO_POLICY_FILE, 'utf8');
  if (substitutions.size === 0) return text;
  for (const [from, to] of substitutions) text = text.replaceAll(from, to);
  return `# fleetpatch --demo: examples/fleetpatch.yaml, its runbooks, provisioning hooks and Prometheus\n# replaced by the demo's simulated infrastructure (${[...substitutions.values()].join(', ')}).\n${text}`;
}

/**
 * Every simulated host of the demo as an agent that runs its rollout jobs on its simulated
 * package list, handed to the simulated infrastructure (which boots replacements and reboots
 * nodes), so a demo rollout moves like a real one and says it is simulated.
 */
export async function startDemoHosts(server: RunningServer, options: { token: string; infrastructure: DemoInfrastructure; signal: AbortSignal; base?: HostInventory; now?: () => Date; pollMs?: number; checkInMs?: number; log: (message: string) => void }): Promise<{ hosts: readonly SimulatedHost[]; done: Promise<void>; criticalCveFile?: string }> {
  const now = options.now ?? (() => new Date());
  const { infrastructure } = options;
  const hostOf = (name: string, labels: Record<string, string>, packages: InstalledPackage[], os: NonNullable<HostInventory['os']>, osEcosystem: string, state: { runningKernel?: string; rebootRequired?: boolean } = {}) =>
    new SimulatedHost({ serverUrl: server.url, token: options.token, name, labels, os, osEcosystem, packages, ...state, now, onReboot: (host, bootId) => infrastructure.rebooted(host, bootId) });
  const inventories = await storedInventories(server.database.pool, 'sim-');
  const hosts = inventories.flatMap((inventory) => (inventory.os && inventory.osEcosystem ? [hostOf(inventory.name, inventory.labels, inventory.packages, inventory.os, inventory.osEcosystem, { ...(inventory.runningKernel ? { runningKernel: inventory.runningKernel } : {}), rebootRequired: inventory.rebootRequired })] : []));
  const base = options.base ?? (await collectHostFacts({ root: '/' }));
  infrastructure.attach(hosts, {
    baseline: base.packages,
    create: (name, labels, packages) => hostOf(name, labels, packages, base.os!, base.osEcosystem!),
  });
  options.log(`demo: ${hosts.length} simulated hosts take their rollout jobs (fleetpatch rollout create --bucket databases); ${infrastructure.cluster.url} is their simulated Kubernetes API`);
  // The emergency path's walk: a critical CVE of the simulated fleet, as the body `POST /api/v1/advisories` takes.
  const cve = demoCriticalCve(inventories, now());
  const cveFile = join(infrastructure.directory, 'critical-cve.json');
  if (cve) writeFileSync(cveFile, `${JSON.stringify({ advisories: [cve] }, null, 2)}\n`);
  const pollMs = options.pollMs ?? 2_000;
  const driven = driveSimulatedHosts(infrastructure.hosts, { pollMs, checkInMs: options.checkInMs ?? 10 * 60_000, signal: options.signal, log: options.log });
  const hands = operatorsHands(server, infrastructure.hosts, { pollMs, signal: options.signal, log: options.log });
  return { hosts: infrastructure.hosts, done: Promise.all([driven, hands]).then(() => undefined), ...(cve ? { criticalCveFile: cveFile } : {}) };
}

/**
 * The person at a simulated physical host's console: once a manual window's checklist is
 * confirmed past its upgrade step (the first that says upgrade, patch or install), the host gets
 * the rollout's versions and a reboot, as that person's `apt-get upgrade` would give it; the
 * checklist itself is left to whoever runs the demo (the dashboard or `fleetpatch rollout confirm`).
 */
async function operatorsHands(server: RunningServer, hosts: readonly SimulatedHost[], options: { pollMs: number; signal: AbortSignal; log: (message: string) => void }): Promise<void> {
  const patched = new Set<string>();
  while (!options.signal.aborted) {
    try {
      const waiting = await server.database.pool.query<{ rollout_id: number; host: string; confirmed: number | null; checklist: string[] | null; snapshot: Array<{ name: string; version: string }> }>(
        "SELECT rh.rollout_id, rh.host, (rh.memo->>'confirmed')::integer AS confirmed, r.settings->'strategy'->'checklist' AS checklist, r.snapshot FROM rollout_hosts rh JOIN rollouts r ON r.id = rh.rollout_id WHERE rh.state = 'awaiting-operator' AND rh.host LIKE 'sim-%'",
      );
      for (const row of waiting.rows) {
        const checklist = row.checklist ?? [];
        const upgradeStep = checklist.findIndex((item) => /upgrade|patch|install/i.test(item));
        const key = `${row.rollout_id} ${row.host}`;
        if (patched.has(key) || (row.confirmed ?? 0) < (upgradeStep === -1 ? checklist.length : upgradeStep + 1)) continue;
        const host = hosts.find((candidate) => candidate.name === row.host && !candidate.isDown);
        if (!host) continue;
        patched.add(key);
        await host.patchByHand(row.snapshot.map(({ name, version }) => ({ name, version })));
        options.log(`demo: ${host.name} patched by hand (simulated) in rollout ${row.rollout_id}`);
      }
    } catch (error) {
      if (!options.signal.aborted) options.log(`demo: the simulated operator could not look at the manual windows: ${error instanceof Error ? error.message : String(error)}`);
    }
    // Ends early on abort (the rejection says so; nothing more to do).
    await sleep(options.pollMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}

export interface DemoOptions {
  hosts: number;
  /** The real package list the simulated hosts are built around (default: this machine's). */
  base?: HostInventory;
  now?: Date;
  /** When a host counts as stale in the history's daily snapshots (the server's own setting; default 3600). */
  staleAfterSeconds?: number;
  /** The simulated infrastructure's addresses for the example policy's (see `demoPolicyText`). */
  substitutions?: ReadonlyMap<string, string>;
  log?: (message: string) => void;
}

/**
 * Loads the simulated fleet with its 90 days of history through the real code paths: the example
 * policy is applied first (so check-ins file the hosts into its buckets), then the timeline is
 * replayed in order — each advisory imported dated its publication, as `fleetpatch import
 * advisories` would be by another process, and each check-in through the control plane dated
 * when it happened. A fleet already loaded is left as it is.
 */
export async function loadDemo(server: RunningServer, options: DemoOptions): Promise<void> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const started = performance.now();
  await applyDemoPolicy(server, demoPolicyText(options.substitutions), log);
  const base = options.base ?? (await collectHostFacts({ root: '/' }));
  const fleet = demoFleet(base, { hosts: options.hosts, advisories: DEMO_ADVISORIES, seed: DEMO_SEED, now: options.now ?? new Date() });
  const first = fleet.hosts[0]?.inventory.hostname;
  if (first !== undefined && (await server.controlPlane.hostExists(first))) {
    log(`demo: the simulated fleet is already loaded (${first} exists); nothing added`);
    return;
  }
  const { pool } = server.database;
  // The advisory history is imported as a second process would import it: past-dated imports
  // need an import time, which the control plane's own sync does not take.
  const importer = await DetectionService.load(pool);
  const feedName = 'fleetpatch simulator';
  // Each midnight the replay passes is a day's fleet snapshot, as a server running all along would have kept it.
  const staleAfterSeconds = options.staleAfterSeconds ?? 3600;
  let nextMidnight = fleet.timeline.length > 0 ? Math.ceil(fleet.timeline[0]!.at.getTime() / DAY_MS) * DAY_MS : Number.POSITIVE_INFINITY;
  let snapshots = 0;
  for (const event of fleet.timeline) {
    for (; nextMidnight <= event.at.getTime(); nextMidnight += DAY_MS, snapshots++) await takeFleetSnapshot(pool, { now: new Date(nextMidnight), staleAfterSeconds, replace: true });
    if (event.kind === 'publish') await importAdvisories(pool, importer, new MemoryFeed(feedName, event.advisories), { now: event.at });
    else await server.controlPlane.checkIn(event.inventory.hostname, fullCheckInOf(event.inventory), event.at);
  }
  // A real KEV catalogue is never replaced; the simulated entries go away with the first real one.
  const kevLoaded = ((await pool.query('SELECT 1 FROM kev_entries LIMIT 1')).rowCount ?? 0) > 0;
  if (!kevLoaded) await replaceKevCatalogue(pool, fleet.knownExploited);
  const checkIns = fleet.timeline.length - fleet.advisories.length;
  log(
    `demo: ${fleet.hosts.length} simulated hosts and ${fleet.advisories.length} simulated advisories loaded ` +
      `(90 days of history: ${checkIns} check-ins, ${snapshots} daily snapshots${kevLoaded ? '' : `, ${fleet.knownExploited.length} simulated KEV entries`}; ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}

/**
 * Applies the demo's copy of examples/fleetpatch.yaml as an audited revision unless another
 * policy is in force, so the dashboard and `fleetpatch plan` show the seed's cadences at once. A
 * demo revision whose text is out of date (the example changed, the simulated infrastructure
 * moved) is replaced by the current one.
 */
async function applyDemoPolicy(server: RunningServer, text: string, log: (message: string) => void): Promise<void> {
  const inForce = server.policy.current;
  if (inForce.origin === 'revision') {
    const revision = inForce.revision!;
    if (revision.author !== DEMO_AUTHOR) {
      log(`demo: ${server.policy.describe()} by ${revision.author} stays in force; examples/fleetpatch.yaml is not applied over it`);
      return;
    }
    if (inForce.text === text) {
      log(`demo: examples/fleetpatch.yaml is in force (policy revision ${revision.revision}, applied by the demo)`);
      return;
    }
  }
  const result = await applyPolicy(server.database.pool, {
    text,
    judgement: judgePolicy(text, { now: new Date() }),
    author: DEMO_AUTHOR,
    message: inForce.origin === 'revision' ? 'the demo fleet: examples/fleetpatch.yaml or the simulated infrastructure changed' : 'the demo fleet: the seed\'s four buckets',
    source: 'examples/fleetpatch.yaml',
  });
  server.policy.adopt(result.revision, text, result.policy);
  await reassignHosts(server.database.pool, server.policy);
  log(
    `demo: applied examples/fleetpatch.yaml as policy revision ${result.revision.revision} (author ${DEMO_AUTHOR}): ` +
      'kubernetes-nodes rolling reboots nightly 03:00–04:00 UTC at most 10% at a time, databases in place through the runbook Tuesday and Thursday 22:00 Europe/Berlin, ' +
      'stateless replaced from the baseline image Sunday 02:00 UTC, physical a manual window the Saturday after Patch Tuesday with 14 days\' notice',
  );
}
