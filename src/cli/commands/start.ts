/**
 * `fleetpatch start` (what `npm start` runs): the control plane on this machine in one command.
 * Starts the server on the embedded database, enrolls this machine through a real agent run,
 * syncs advisories (or says plainly why it cannot), prints the dashboard URL and the admin token,
 * and keeps serving until Ctrl-C. `--demo` adds a simulated fleet to explore offline.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { collectHostFacts } from '../../agent/host-facts.js';
import { importAdvisories } from '../../app/advisory-import.js';
import { DetectionService } from '../../app/detection-service.js';
import { reassignHosts } from '../../app/host-reassignment.js';
import { applyPolicy } from '../../app/policy-service.js';
import { judgePolicy } from '../../domain/policy/policy-report.js';
import type { HostInventory } from '../../domain/types.js';
import { MemoryFeed } from '../../feeds/memory-feed.js';
import { fullCheckInOf } from '../../protocol/agent-protocol.js';
import type { RunningServer } from '../../server/run-server.js';
import { demoFleet } from '../../simulator/demo-fleet.js';
import { driveSimulatedHosts, SimulatedHost } from '../../simulator/simulated-agent.js';
import { storedInventories } from '../../store/fleet-queries.js';
import { replaceKevCatalogue } from '../../store/advisory-store.js';
import { approveReenrollment, createApiToken, createEnrollmentToken } from '../../store/auth-store.js';
import { fleetpatchHome } from '../../store/fleetpatch-home.js';
import { parsePositiveInteger } from './findings.js';
import { startServer, untilSignal } from './server.js';

interface StartOptions {
  port: number;
  advisories?: string;
  demo?: boolean;
  demoHosts: number;
  exitAfterSetup?: boolean;
}

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('Start fleetpatch on this machine: server and dashboard on the embedded database, this host enrolled by a real agent run, advisories synced.')
    .option('--port <port>', 'TCP port of the dashboard and API', (value) => Number(value), 8080)
    .option('--advisories <dir|zip|url>', 'advisory source (default: $FLEETPATCH_ADVISORIES, else the public OSV bucket)')
    .option('--demo', 'also load a simulated fleet with 90 days of history (hosts sim-…, advisories SIM-…, all labelled simulated) and apply examples/fleetpatch.yaml unless a policy is applied')
    .option('--demo-hosts <count>', 'how many simulated hosts --demo adds', parsePositiveInteger, 200)
    .option('--exit-after-setup', 'stop once everything is set up instead of serving (for scripts and tests)')
    .action(async (options: StartOptions) => {
      const home = fleetpatchHome();
      const server = await startServer({ port: options.port, host: '127.0.0.1', staleAfter: 3600, syncInterval: 21_600, ...(options.advisories ? { advisories: options.advisories } : {}) });
      try {
        const adminToken = await localAdminToken(server, home);
        await enrollThisMachine(server, home);
        if (options.demo) await loadDemo(server, { hosts: options.demoHosts });
        await server.syncAdvisories();
        // The simulated hosts act on their rollout jobs (each result says "simulated: …").
        const simulation = new AbortController();
        const simulated = options.demo ? await startSimulatedAgents(server, adminToken, simulation.signal) : undefined;
        process.stdout.write(
          `\nfleetpatch is running on ${server.database.describe()}\n` +
            `  dashboard:   ${server.url}/#/?token=${adminToken}\n` +
            `  admin token: ${adminToken}  (kept in ${join(home, 'admin-token')}; the database stores only its hash)\n` +
            `  API:         ${server.url}/openapi.json   metrics: ${server.url}/metrics\n\n`,
        );
        if (!options.exitAfterSetup) {
          process.stderr.write('serving; Ctrl-C to stop\n');
          await untilSignal();
        }
        simulation.abort();
        await simulated?.done;
      } finally {
        await server.stop();
      }
    });
}

/**
 * The quick start keeps its admin token in the home (mode 0600) so `npm start` can show the
 * dashboard link every time; `fleetpatch server` never writes tokens to disk.
 */
async function localAdminToken(server: RunningServer, home: string): Promise<string> {
  const file = join(home, 'admin-token');
  if (server.firstStart) {
    writeFileSync(file, `${server.firstStart.adminToken}\n`, { mode: 0o600 });
    return server.firstStart.adminToken;
  }
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const { token } = await createApiToken(server.database.pool, 'quick start', 'admin', 'quick start');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Runs the real agent, as a separate process, once against the server. */
async function enrollThisMachine(server: RunningServer, home: string): Promise<void> {
  const stateDirectory = join(home, 'agent');
  const enrollToken = server.firstStart?.enrollmentToken ?? (existsSync(join(stateDirectory, 'credential.json')) ? undefined : await quickStartEnrollment(server));
  const args = [process.argv[1]!, 'agent', '--server', server.url, '--state-dir', stateDirectory, '--once', '--label', 'bucket=local', '--label', 'team=local', ...(enrollToken ? ['--enroll-token', enrollToken] : [])];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('close', resolve);
  });
  if (code !== 0) process.stderr.write(`the agent run for this machine exited with ${code}; the server keeps running\n`);
}

/**
 * A one-use token for this machine's agent. Its state was lost while the server kept the host, so
 * the quick start (the local administrator) also approves the name's new enrollment.
 */
async function quickStartEnrollment(server: RunningServer): Promise<string> {
  const { pool } = server.database;
  const { hostname } = await collectHostFacts({ root: '/' });
  await approveReenrollment(pool, hostname, new Date(Date.now() + 10 * 60_000), 'quick start');
  return (await createEnrollmentToken(pool, { name: 'quick start', labels: {}, expiresAt: new Date(Date.now() + 10 * 60_000), maxUses: 1, createdBy: 'quick start' })).token;
}

/**
 * Every simulated host of the demo as an agent that runs its rollout jobs on its simulated
 * package list, so a demo rollout moves like a real one (and says it is simulated).
 */
async function startSimulatedAgents(server: RunningServer, token: string, signal: AbortSignal): Promise<{ done: Promise<void> }> {
  const inventories = await storedInventories(server.database.pool, 'sim-');
  const hosts = inventories.flatMap((inventory) => (inventory.os && inventory.osEcosystem
    ? [new SimulatedHost({ serverUrl: server.url, token, name: inventory.name, labels: inventory.labels, os: inventory.os, osEcosystem: inventory.osEcosystem, packages: inventory.packages, ...(inventory.runningKernel ? { runningKernel: inventory.runningKernel } : {}), now: () => new Date() })]
    : []));
  process.stderr.write(`demo: ${hosts.length} simulated hosts take their rollout jobs (fleetpatch rollout create --bucket databases)\n`);
  return { done: driveSimulatedHosts(hosts, { pollMs: 2_000, checkInMs: 10 * 60_000, signal, log: (message) => process.stderr.write(`${message}\n`) }) };
}

/** The demo's policy: the seed's own fleet, as examples/fleetpatch.yaml writes it down. */
const DEMO_POLICY_FILE = fileURLToPath(new URL('../../../examples/fleetpatch.yaml', import.meta.url));
const DEMO_AUTHOR = 'system:demo';
/** Same seed, same fleet: every `--demo` shows the same teams and the same history. */
const DEMO_SEED = 2026;
const DEMO_ADVISORIES = 40;

export interface DemoOptions {
  hosts: number;
  /** The real package list the simulated hosts are built around (default: this machine's). */
  base?: HostInventory;
  now?: Date;
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
  await applyDemoPolicy(server, log);
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
  for (const event of fleet.timeline) {
    if (event.kind === 'publish') await importAdvisories(pool, importer, new MemoryFeed(feedName, event.advisories), { now: event.at });
    else await server.controlPlane.checkIn(event.inventory.hostname, fullCheckInOf(event.inventory), event.at);
  }
  // A real KEV catalogue is never replaced; the simulated entries go away with the first real one.
  const kevLoaded = ((await pool.query('SELECT 1 FROM kev_entries LIMIT 1')).rowCount ?? 0) > 0;
  if (!kevLoaded) await replaceKevCatalogue(pool, fleet.knownExploited);
  const checkIns = fleet.timeline.length - fleet.advisories.length;
  log(
    `demo: ${fleet.hosts.length} simulated hosts and ${fleet.advisories.length} simulated advisories loaded ` +
      `(90 days of history: ${checkIns} check-ins${kevLoaded ? '' : `, ${fleet.knownExploited.length} simulated KEV entries`}; ${((performance.now() - started) / 1000).toFixed(1)} s)`,
  );
}

/**
 * Applies examples/fleetpatch.yaml as an audited revision unless a policy is already in force,
 * so the dashboard and `fleetpatch plan` show the seed's cadences at once.
 */
async function applyDemoPolicy(server: RunningServer, log: (message: string) => void): Promise<void> {
  const inForce = server.policy.current;
  if (inForce.origin === 'revision') {
    const revision = inForce.revision!;
    log(revision.author === DEMO_AUTHOR
      ? `demo: examples/fleetpatch.yaml is in force (policy revision ${revision.revision}, applied by the demo)`
      : `demo: ${server.policy.describe()} by ${revision.author} stays in force; examples/fleetpatch.yaml is not applied over it`);
    return;
  }
  const text = readFileSync(DEMO_POLICY_FILE, 'utf8');
  const result = await applyPolicy(server.database.pool, {
    text,
    judgement: judgePolicy(text, { now: new Date() }),
    author: DEMO_AUTHOR,
    message: 'the demo fleet: the seed\'s four buckets',
    source: 'examples/fleetpatch.yaml',
  });
  server.policy.adopt(result.revision, text, result.policy);
  await reassignHosts(server.database.pool, server.policy);
  log(
    `demo: applied examples/fleetpatch.yaml as policy revision ${result.revision.revision} (author ${DEMO_AUTHOR}): ` +
      'kubernetes-nodes nightly 03:00–04:00 UTC at most 10% at a time, databases Tuesday and Thursday 22:00 Europe/Berlin, ' +
      'stateless Sunday 02:00 UTC, physical the Saturday after Patch Tuesday with 14 days\' notice',
  );
}
