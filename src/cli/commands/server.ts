/** `fleetpatch server`: the HTTP API, dashboard and /metrics, with agents checking in. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerExecutors } from '../../app/job-executors.js';
import { InputError } from '../../domain/errors.js';
import { runServer, type ServerOptions } from '../../server/run-server.js';
import { takeOverShutdownSignals } from '../../store/embedded-postgres.js';
import { fleetpatchHome } from '../../store/fleetpatch-home.js';
import { openFeedFor } from '../advisory-source.js';
import { parsePositiveInteger } from './findings.js';

export interface ServerCommandOptions {
  port: number;
  host: string;
  buckets?: string;
  policy?: string;
  policyPoll?: number;
  staleAfter: number;
  advisories?: string;
  syncInterval: number;
  kubeconfig?: string;
  sshKey?: string;
  knownHosts?: string;
}

export function registerServerCommand(program: Command): void {
  program
    .command('server')
    .description('Run the control plane: HTTP API, dashboard, /metrics, agent check-ins and advisory sync.')
    .option('--port <port>', 'TCP port', parsePort, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--buckets <file>', 'YAML file mapping label selectors to buckets and owner teams (deprecated: use --policy)')
    .option('--policy <file>', 'policy file (fleetpatch.yaml): applied as a revision at start and whenever it changes; a bad file is refused')
    .option('--policy-poll <seconds>', 'how often the policy file\'s content is hashed besides change events', parsePollSeconds, 5)
    .option('--stale-after <seconds>', 'a host that has not checked in for this long is stale', parsePositiveInteger, 3600)
    .option('--advisories <dir|zip|url>', 'advisory source (default: $FLEETPATCH_ADVISORIES, else the public OSV bucket)')
    .option('--sync-interval <seconds>', 'seconds between advisory syncs (0: only at start and on request)', parseNonNegative, 21_600)
    .option('--kubeconfig <file>', 'kubeconfig for rolling reboots of Kubernetes nodes (default: the pod\'s service account when run in a cluster)')
    .option('--ssh-key <file>', 'private key for buckets with the SSH executor (default: <home>/ssh/id_ed25519, else the agent at $SSH_AUTH_SOCK)')
    .option('--known-hosts <file>', 'the pinned host keys of SSH hosts (default: <home>/ssh/known_hosts)')
    .action(async (options: ServerCommandOptions) => {
      const server = await startServer(options);
      process.stderr.write(`fleetpatch server listening on ${server.url} (${server.database.describe()})\n`);
      if (server.firstStart) printFirstStart(server.url, server.firstStart);
      void server.syncAdvisories();
      await untilSignal();
      process.stderr.write('stopping…\n');
      await server.stop();
    });
}

export async function startServer(options: ServerCommandOptions) {
  const home = fleetpatchHome();
  return runServer({
    port: options.port,
    host: options.host,
    home,
    executors: await serverExecutors(options, home, process.env),
    staleAfterSeconds: options.staleAfter,
    syncIntervalSeconds: options.syncInterval,
    openAdvisoryFeed: (ecosystems) => openFeedFor(options.advisories, ecosystems),
    log: (message) => process.stderr.write(`${message}\n`),
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    ...rolloutEngineFromEnvironment(process.env),
    ...(options.buckets ? { bucketsFile: options.buckets } : {}),
    ...(options.policy ? { policyFile: options.policy, policyPollMs: Math.round((options.policyPoll ?? 5) * 1000) } : {}),
  });
}

/**
 * What the job worker reaches hosts with: the Kubernetes API from `--kubeconfig` (or the pod's
 * service account inside a cluster), SSH with `--ssh-key` (or the home's key, or the SSH agent)
 * and the known hosts fleetpatch keeps under its home.
 */
async function serverExecutors(options: ServerCommandOptions, home: string, env: NodeJS.ProcessEnv): Promise<ServerExecutors> {
  const executors: ServerExecutors = {};
  // The Kubernetes client and ssh2 are loaded only when configured: they take a good half second to load.
  if (options.kubeconfig || env.KUBERNETES_SERVICE_HOST) {
    const [{ KubeConfig }, { disruptionBlockers }, { createKubernetesExecutor }] = await Promise.all([import('@kubernetes/client-node'), import('../../executors/kubernetes/disruption-blockers.js'), import('../../executors/kubernetes/kubernetes-executor.js')]);
    const kubeConfig = new KubeConfig();
    if (options.kubeconfig) {
      if (!existsSync(options.kubeconfig)) throw new InputError('the kubeconfig does not exist', { file: options.kubeconfig });
      kubeConfig.loadFromFile(options.kubeconfig);
    } else kubeConfig.loadFromCluster();
    executors.kubernetes = createKubernetesExecutor({ kubeConfig });
    executors.disruptionBlockers = async () => (await disruptionBlockers(kubeConfig, { signal: AbortSignal.timeout(10_000) })).map(({ budget, nodes }) => ({ budget, nodes }));
  }
  const homeKey = join(home, 'ssh', 'id_ed25519');
  const privateKeyPath = options.sshKey ?? (existsSync(homeKey) ? homeKey : undefined);
  if (options.sshKey && !existsSync(options.sshKey)) throw new InputError('the SSH key does not exist', { file: options.sshKey });
  const knownHostsPath = options.knownHosts ?? join(home, 'ssh', 'known_hosts');
  if (privateKeyPath || env.SSH_AUTH_SOCK) {
    const { createSshExecutor } = await import('../../executors/ssh/ssh-executor.js');
    executors.ssh = (settings) => createSshExecutor({ settings, knownHostsPath, ...(privateKeyPath ? { privateKeyPath } : {}), ...(env.SSH_AUTH_SOCK ? { agentSocket: env.SSH_AUTH_SOCK } : {}) });
  }
  return executors;
}

/**
 * The rollout engine's lease and pass interval: `FLEETPATCH_ROLLOUT_LEASE_SECONDS` (how soon a
 * replica takes over the rollouts of one that died; default 15) and `FLEETPATCH_ROLLOUT_PASS_MS`
 * (how often a rollout with hosts in flight is passed; default 1000).
 *
 * @example rolloutEngineFromEnvironment({ FLEETPATCH_ROLLOUT_LEASE_SECONDS: '3' }) // { rolloutEngine: { leaseMs: 3000 } }
 */
export function rolloutEngineFromEnvironment(env: NodeJS.ProcessEnv): Pick<ServerOptions, 'rolloutEngine'> {
  const read = (name: string, min: number, max: number): number | undefined => {
    const text = env[name]?.trim();
    if (text === undefined || text === '') return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) throw new InputError(`${name} must be a number from ${min} to ${max}, not ${JSON.stringify(env[name])}`, { field: name });
    return value;
  };
  const leaseSeconds = read('FLEETPATCH_ROLLOUT_LEASE_SECONDS', 0.5, 3_600);
  const passMs = read('FLEETPATCH_ROLLOUT_PASS_MS', 10, 600_000);
  if (leaseSeconds === undefined && passMs === undefined) return {};
  return { rolloutEngine: { ...(leaseSeconds !== undefined ? { leaseMs: Math.round(leaseSeconds * 1000) } : {}), ...(passMs !== undefined ? { passIntervalMs: Math.round(passMs) } : {}) } };
}

export function printFirstStart(url: string, tokens: { adminToken: string; enrollmentToken: string }): void {
  process.stdout.write(
    `\nFirst start: these secrets are shown once and stored only as hashes.\n` +
      `  admin token:      ${tokens.adminToken}\n` +
      `  enrollment token: ${tokens.enrollmentToken}\n` +
      `  dashboard:        ${url}/#/?token=${tokens.adminToken}\n` +
      `  enroll a host:    fleetpatch agent --server ${url} --enroll-token ${tokens.enrollmentToken}\n\n`,
  );
}

/** Resolves on SIGINT or SIGTERM, which the caller then shuts down on (before the embedded database stops). */
export function untilSignal(): Promise<void> {
  const signalled = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  // Only once ours listen: a signal whose last listener goes loses what was already delivered.
  takeOverShutdownSignals();
  return signalled;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`not a port: ${value}`);
  return port;
}

function parseNonNegative(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new Error(`not a whole number of seconds: ${value}`);
  return number;
}

function parsePollSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0.05 || seconds > 86_400) throw new Error(`not a number of seconds between 0.05 and 86400: ${value}`);
  return seconds;
}
