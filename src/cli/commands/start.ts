/**
 * `fleetpatch start` (what `npm start` runs): the control plane on this machine in one command.
 * Starts the server on the embedded database, enrolls this machine through a real agent run,
 * syncs advisories (or says plainly why it cannot), prints the dashboard URL and the admin token,
 * and keeps serving until Ctrl-C. `--demo` adds a simulated fleet to explore offline.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { collectHostFacts } from '../../agent/host-facts.js';
import type { RunningServer } from '../../server/run-server.js';
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
      const log = (message: string) => process.stderr.write(`${message}\n`);
      // Loaded only for the demo: its simulated cluster brings the Kubernetes client, a good half second to load.
      const demo = options.demo ? await import('../demo.js') : undefined;
      // The demo's simulated Kubernetes cluster is up before the server, which reaches it by --kubeconfig.
      const infrastructure = demo ? await demo.startDemoInfrastructureIn(home, { log }) : undefined;
      const server = await startServer({ port: options.port, host: '127.0.0.1', staleAfter: 3600, syncInterval: 21_600, ...(options.advisories ? { advisories: options.advisories } : {}), ...(infrastructure ? { kubeconfig: infrastructure.kubeconfigFile } : {}) });
      const simulation = new AbortController();
      let simulated: { done: Promise<void>; criticalCveFile?: string } | undefined;
      try {
        const adminToken = await localAdminToken(server, home);
        await enrollThisMachine(server, home);
        if (demo && infrastructure) await demo.loadDemo(server, { hosts: options.demoHosts, substitutions: infrastructure.substitutions, log });
        await server.syncAdvisories();
        // The simulated hosts act on their rollout jobs (each result says "simulated: …").
        if (demo && infrastructure) simulated = await demo.startDemoHosts(server, { token: adminToken, infrastructure, signal: simulation.signal, log });
        process.stdout.write(
          `\nfleetpatch is running on ${server.database.describe()}\n` +
            `  dashboard:   ${server.url}/#/?token=${adminToken}\n` +
            `  admin token: ${adminToken}  (kept in ${join(home, 'admin-token')}; the database stores only its hash)\n` +
            `  API:         ${server.url}/openapi.json   metrics: ${server.url}/metrics\n` +
            (simulated?.criticalCveFile
              ? `  a simulated critical CVE, to walk the emergency path (an incident on the dashboard):\n` +
                `    curl -s -H "authorization: Bearer $(cat ${join(home, 'admin-token')})" -H 'content-type: application/json' --data @${simulated.criticalCveFile} ${server.url}/api/v1/advisories\n`
              : '') +
            '\n',
        );
        if (!options.exitAfterSetup) {
          process.stderr.write('serving; Ctrl-C to stop\n');
          await untilSignal();
        }
      } finally {
        simulation.abort();
        await simulated?.done;
        await server.stop();
        await infrastructure?.close();
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

