/**
 * The SSH executor: a rollout's steps run on hosts without an agent, from where the server runs.
 * Each step connects (the host key pinned in fleetpatch's known_hosts), and remote-step.sh does
 * on the host what the agent's job runner does on its own (src/agent/job-runner.ts): checks run
 * in order, an upgrade installs exactly the job's versions, a rollback reinstalls the previous
 * ones (or runs the policy's command), a reboot is journalled, reported `started` and run.
 *
 * Exactly once: the host journals every key under
 * `${FLEETPATCH_ROOT:-/}var/lib/fleetpatch/ssh-jobs/<entry>/` before anything acts (`started`,
 * then `result.json`). A key found finished answers its stored result; a key found started without
 * a result answers `interrupted`, as the agent does. Only collect-facts, which changes nothing,
 * is run again; it also waits for a rebooting host, reconnecting with backoff until the deadline.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../domain/errors.js';
import { PACKAGE_TOKEN, aptSimulationChanges, changedPackages, installCommandLine, judgeInstall, type CommandLine } from '../../domain/rollout/install-command.js';
import type { PackageTarget } from '../../domain/rollout/rollout-model.js';
import type { HostJob, HostStep, JobCommand, JobResult } from '../../protocol/job-protocol.js';
import type { ExecutedStep, Executor, ExecutorTarget, RemoteFacts, StepContext } from '../executor.js';
import { JobOutputTail } from '../../protocol/output-tail.js';
import { RemoteHost, RemoteStepError, describeExit, type RemoteRun } from './remote-host.js';
import { connectSsh, describeEndpoint, type Connected, type SshCredentials, type SshEndpoint } from './ssh-connection.js';

/** The bucket's `executor` as the policy gives it (`executorSchema`, kind `ssh`). */
export interface SshExecutorSettings {
  user: string;
  port: number;
  /** Run everything through `sudo -n`: a password prompt fails the step instead of waiting. */
  sudo: boolean;
  /** The label holding the host's address; without it (or without the label) the host's name is dialled. */
  addressLabel?: string | undefined;
  /** Pin a host key seen for the first time; off, an unknown key refuses the host. */
  trustOnFirstUse: boolean;
}

export interface SshExecutorOptions {
  settings: SshExecutorSettings;
  /** An unencrypted OpenSSH private key; with `agentSocket` too, the key is tried first. */
  privateKeyPath?: string;
  /** An SSH agent's socket, e.g. `process.env.SSH_AUTH_SOCK`. */
  agentSocket?: string;
  /** The known_hosts file fleetpatch keeps (OpenSSH's format); trust on first use appends to it. */
  knownHostsPath: string;
  /** Longest wait for a host's handshake (default 20 s). */
  connectTimeoutMs?: number;
  /** collect-facts' waits between connection attempts: doubling from `initialMs` up to `maxMs` (default 1 s to 30 s). */
  reconnectBackoff?: { initialMs: number; maxMs: number };
  /** How collect-facts waits between attempts; resolves early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

type StepOutcome = Pick<JobResult, 'outcome' | 'exitCode' | 'replaced' | 'error'> & { details?: JobResult['details'] };
/** The step's result from its outcome (its output and times filled in), with the host's facts. */
type Done = (outcome: StepOutcome, facts?: RemoteFacts) => ExecutedStep;

interface StepRun {
  job: HostJob;
  host: RemoteHost;
  output: JobOutputTail;
  /** Aborted at the job's deadline or by the worker. */
  signal: AbortSignal;
  log(message: string): void;
}

const SSH_STEPS: ReadonlySet<HostStep> = new Set(['pre-check', 'upgrade', 'reboot', 'post-check', 'rollback', 'collect-facts']);
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
const DEFAULT_BACKOFF = { initialMs: 1_000, maxMs: 30_000 };
/** After the deadline or a stop, this long is left to record the result on the host. */
const FINISH_GRACE_MS = 15_000;
/** How long a reboot's command is watched once the reboot is journalled (only its failure is logged). */
const REBOOT_WATCH_MS = 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_ERROR_LENGTH = 4096;

/**
 * @example const executor = createSshExecutor({ settings: bucket.executor, privateKeyPath: '/etc/fleetpatch/id_ed25519', knownHostsPath: '/var/lib/fleetpatch/known_hosts' })
 */
export function createSshExecutor(options: SshExecutorOptions): Executor {
  if (!options.privateKeyPath && !options.agentSocket) throw new InputError('the SSH executor needs a private key or an SSH agent', { field: 'privateKeyPath' });
  const script = readRemoteScript();
  return {
    kind: 'ssh',
    resumable: new Set<HostStep>(['collect-facts']),
    run: (job, target, context) => runStep(job, target, context, options, script),
  };
}

/**
 * The journal entry of a key on the host: readable, and unique by its hash (keys hold host names
 * and may be long).
 *
 * @example journalEntryName('42:web-1:upgrade:1') // '42_web-1_upgrade_1-25440adb451e66c9'
 */
export function journalEntryName(key: string): string {
  return `${key.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 96)}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

async function runStep(job: HostJob, target: ExecutorTarget, context: StepContext, options: SshExecutorOptions, script: string): Promise<ExecutedStep> {
  const startedAt = context.now().toISOString();
  const output = new JobOutputTail();
  const done: Done = (outcome, facts) => ({ result: resultOf(outcome, output, startedAt, context.now), ...(facts ? { facts } : {}) });
  if (!SSH_STEPS.has(job.step)) return done(failed(`the ssh executor does not run ${job.step} steps`));
  const remainingMs = Date.parse(job.deadline) - context.now().getTime();
  if (remainingMs <= 0) return done(failed('deadline passed'));
  const stop = stopSignal(context.signal, remainingMs);
  const endpoint = endpointOf(target, options.settings);
  const description = describeEndpoint(endpoint);
  try {
    const credentials = credentialsOf(options);
    const connect = (): Promise<Connected> => connectSsh(endpoint, credentials, { knownHostsPath: options.knownHostsPath, trustOnFirstUse: options.settings.trustOnFirstUse, log: context.log }, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS, stop.signal);
    if (job.step === 'collect-facts') return await collectFacts(connect, options, script, description, stop, context, done);
    const connected = await connect();
    if (!connected.ok) return done(failed(stop.signal.aborted ? `${stop.reason()} before ${description} answered` : connected.failure.message));
    const host = new RemoteHost(connected.connection, script, options.settings.sudo, description);
    try {
      return await runJournalled({ job, host, output, signal: stop.signal, log: context.log }, startedAt, stop, done);
    } finally {
      connected.connection.close();
    }
  } catch (error) {
    return done(failed(errorMessage(error, stop)));
  } finally {
    stop.dispose();
  }
}

async function runJournalled(run: StepRun, startedAt: string, stop: Stop, done: Done): Promise<ExecutedStep> {
  const { job, host } = run;
  const entry = journalEntryName(job.key);
  const claim = await host.claim(entry, { key: job.key, rolloutId: job.rolloutId, step: job.step, deadline: job.deadline, startedAt }, run.signal);
  const readFacts = (signal: AbortSignal) => host.facts(signal).then((read) => read.facts, () => undefined);
  if (claim.state === 'finished') return withFacts({ result: claim.result }, await readFacts(run.signal));
  if (claim.state === 'started') {
    // A run before this one claimed the key and never finished: what it changed is unknown.
    const interrupted = done(failed('interrupted'));
    await record(run, entry, interrupted.result, run.signal);
    return withFacts(interrupted, await readFacts(run.signal));
  }
  if (job.step === 'reboot') return reboot(run, entry, done);
  let outcome: StepOutcome;
  let after: RemoteFacts | undefined;
  try {
    ({ outcome, after } = await perform(run));
  } catch (error) {
    if (error instanceof RemoteStepError && error.kind === 'connection-lost') {
      // Nothing can be recorded on the host: its journal keeps the key started (`interrupted` from now on).
      return done(failed(`${error.message} during ${job.step}; what the step changed is unknown`));
    }
    outcome = failed(errorMessage(error, stop));
  }
  // A stopped step still records its result: the host is asked for a little longer.
  const finishing = stop.signal.aborted ? AbortSignal.timeout(FINISH_GRACE_MS) : run.signal;
  after ??= await readFacts(finishing);
  const executed = done(outcome, after);
  await record(run, entry, executed.result, finishing);
  return executed;
}

/**
 * Stores the result in the host's journal. What the step did is reported even when that fails:
 * the key then stays started there, and a later run of it answers `interrupted`.
 */
async function record(run: StepRun, entry: string, result: JobResult, signal: AbortSignal): Promise<void> {
  try {
    await run.host.finish(entry, result, signal);
  } catch (error) {
    run.log(`job ${run.job.key}: its result could not be journalled on the host (${(error as Error).message}); a later run of the key answers interrupted`);
  }
}

function withFacts(step: ExecutedStep, facts: RemoteFacts | undefined): ExecutedStep {
  return facts ? { ...step, facts } : step;
}

async function perform(run: StepRun): Promise<{ outcome: StepOutcome; after?: RemoteFacts }> {
  switch (run.job.step) {
    case 'pre-check':
    case 'post-check':
      return { outcome: { ...(await runCommands(run.job.commands, run)), replaced: [] } };
    case 'upgrade':
      return installExactly(run.job.packages, run);
    case 'rollback':
      return run.job.commands.length > 0 ? rollbackByCommands(run) : installExactly(run.job.previous, run);
    default:
      return { outcome: failed(`the ssh executor does not run ${run.job.step} steps`) };
  }
}

/** Journals `started` with the facts before it, then hands the host to its reboot command. */
async function reboot(run: StepRun, entry: string, done: Done): Promise<ExecutedStep> {
  const before = await run.host.facts(run.signal);
  const started = done({ outcome: 'started', replaced: [] }, before.facts);
  const ended = await run.host.reboot(entry, started.result, REBOOT_WATCH_MS, run.signal);
  // `started` is recorded: a reboot that never comes is the server's to judge (its deadline).
  if (ended.exitCode !== undefined && ended.exitCode !== 0) run.log(`job ${run.job.key}: the reboot command failed (exit ${ended.exitCode}): ${ended.output.trim().split('\n').slice(-3).join(' | ')}`);
  return started;
}

async function runCommands(commands: JobCommand[], run: StepRun): Promise<Omit<StepOutcome, 'replaced'>> {
  let exitCode: number | undefined;
  for (const command of commands) {
    run.output.append(`$ ${command.name}: ${command.command}\n`);
    const ran = await run.host.run([...jobEnvironment(run.job), 'sh', '-c', command.command], command.timeoutMs, run.output, run.signal);
    if (ran.timedOut) return { outcome: 'failed', error: `${command.name} timed out after ${command.timeoutMs} ms`, ...exitCodeOf(ran) };
    if (ran.exitCode === undefined || !command.allowedExitCodes.includes(ran.exitCode)) {
      return { outcome: 'failed', error: `${command.name} failed (${describeExit(ran)}; allowed: ${command.allowedExitCodes.join(', ')})`, ...exitCodeOf(ran) };
    }
    exitCode = ran.exitCode;
  }
  return { outcome: 'succeeded', ...(exitCode === undefined ? {} : { exitCode }) };
}

async function rollbackByCommands(run: StepRun): Promise<{ outcome: StepOutcome; after: RemoteFacts }> {
  const before = await run.host.facts(run.signal);
  const ran = await runCommands(run.job.commands, run);
  const after = await run.host.facts(run.signal);
  return { outcome: { ...ran, replaced: changedPackages(before.packages, after.packages) }, after: after.facts };
}

/**
 * Installs exactly `targets` (downgrades allowed: a rollback goes through here too), then checks
 * that every target is at its version and that no other package changed, as the agent does. apt
 * is asked first with a simulation, so a transaction that would touch other packages is refused
 * before anything moves.
 */
async function installExactly(targets: PackageTarget[], run: StepRun): Promise<{ outcome: StepOutcome; after?: RemoteFacts }> {
  const badToken = targets.flatMap((target) => [target.name, target.version]).find((token) => !PACKAGE_TOKEN.test(token));
  if (badToken !== undefined) return { outcome: failed(`${JSON.stringify(badToken)} is not a package name or version fleetpatch passes to a package manager`) };
  if (targets.length === 0) return { outcome: { outcome: 'succeeded', replaced: [] } };
  const before = await run.host.facts(run.signal);
  const targetNames = new Set(targets.map((target) => target.name));
  if (before.format === 'dpkg-status') {
    const simulationOutput = new JobOutputTail();
    const simulated = await runPackageManager(installCommandLine(before.format, before.root, targets, { simulate: true }), run, simulationOutput);
    if (simulated.exitCode !== 0) {
      run.output.append(simulationOutput.text());
      return { outcome: { ...failed(`apt-get refused the transaction (${describeRun(simulated)}); nothing was installed`), ...exitCodeOf(simulated) }, after: before.facts };
    }
    const outside = [...new Set(aptSimulationChanges(simulationOutput.text()).filter((name) => !targetNames.has(name)))];
    if (outside.length > 0) {
      run.output.append(simulationOutput.text());
      return { outcome: failed(`the transaction would also change ${outside.join(', ')}, outside the job's packages; nothing was installed`), after: before.facts };
    }
  }
  const install = installCommandLine(before.format, before.root, targets, {});
  const installed = await runPackageManager(install, run, run.output);
  const after = await run.host.facts(run.signal);
  const judged = judgeInstall(targets, before.packages, after.packages);
  const { replaced } = judged;
  const problems = [...(installed.exitCode !== 0 ? [`${install.command} failed (${describeRun(installed)})`] : []), ...judged.problems];
  const outcome: StepOutcome = problems.length > 0 ? { ...failed(problems.join('; ')), replaced } : { outcome: 'succeeded', replaced };
  return { outcome: { ...outcome, ...exitCodeOf(installed) }, after: after.facts };
}

/** The command line is the agent's; the host's own environment (APT_CONFIG for a directory root) comes with the session. */
function runPackageManager(line: CommandLine, run: StepRun, output: JobOutputTail): Promise<RemoteRun> {
  output.append(`$ ${line.command} ${line.args.join(' ')}\n`);
  const environment = ['LC_ALL=C', 'DEBIAN_FRONTEND=noninteractive', ...Object.entries(line.env ?? {}).map(([name, value]) => `${name}=${value}`)];
  const untilDeadline = Math.max(1, Math.min(MAX_TIMER_MS, Date.parse(run.job.deadline) - Date.now()));
  return run.host.run([...jobEnvironment(run.job), ...environment, line.command, ...line.args], untilDeadline, output, run.signal);
}

/**
 * collect-facts: read-only, so safe to repeat. A host that does not answer (rebooting) is tried
 * again with backoff until the deadline; a refused host key or login ends it at once.
 */
async function collectFacts(
  connect: () => Promise<Connected>,
  options: SshExecutorOptions,
  script: string,
  description: string,
  stop: Stop,
  context: StepContext,
  done: Done,
): Promise<ExecutedStep> {
  const backoff = options.reconnectBackoff ?? DEFAULT_BACKOFF;
  const sleep = options.sleep ?? ((ms: number, signal: AbortSignal) => sleepFor(ms, undefined, { signal }).catch(() => undefined));
  let delayMs = backoff.initialMs;
  let lastError = '';
  for (let attempt = 1; ; attempt++) {
    const connected = await connect();
    if (connected.ok) {
      try {
        const read = await new RemoteHost(connected.connection, script, options.settings.sudo, description).facts(stop.signal);
        return done({ outcome: 'succeeded', replaced: [], details: { attempts: attempt } }, read.facts);
      } catch (error) {
        if (!(error instanceof RemoteStepError && error.kind === 'connection-lost')) return done(failed(errorMessage(error, stop)));
        lastError = error.message;
      } finally {
        connected.connection.close();
      }
    } else {
      if (connected.failure.kind !== 'unreachable') return done(failed(connected.failure.message));
      // A connection cut short by the stop says nothing about the host.
      if (!stop.signal.aborted) lastError = connected.failure.message;
    }
    if (stop.signal.aborted) return done(failed(`${stop.reason()}: ${description} did not answer${lastError ? ` (last: ${lastError})` : ''}`));
    context.log(`${description} does not answer yet (${lastError}); trying again in ${delayMs} ms`);
    await sleep(delayMs, stop.signal);
    delayMs = Math.min(delayMs * 2, backoff.maxMs);
  }
}

interface Stop {
  signal: AbortSignal;
  /** Why the step was stopped, for its error. */
  reason(): string;
  dispose(): void;
}

/** Aborts at the deadline or when the worker's signal does. */
function stopSignal(workerSignal: AbortSignal, remainingMs: number): Stop {
  const controller = new AbortController();
  let reason = 'deadline passed';
  const onWorkerAbort = () => {
    reason = 'stopped: the job worker lost its lease or is shutting down';
    controller.abort();
  };
  const timer = setTimeout(() => controller.abort(), Math.min(MAX_TIMER_MS, remainingMs));
  if (workerSignal.aborted) onWorkerAbort();
  else workerSignal.addEventListener('abort', onWorkerAbort, { once: true });
  return {
    signal: controller.signal,
    reason: () => reason,
    dispose: () => {
      clearTimeout(timer);
      workerSignal.removeEventListener('abort', onWorkerAbort);
    },
  };
}

function endpointOf(target: ExecutorTarget, settings: SshExecutorSettings): SshEndpoint {
  const labelled = settings.addressLabel ? target.labels[settings.addressLabel] : undefined;
  return { name: target.name, address: labelled || target.name, port: settings.port, user: settings.user };
}

function credentialsOf(options: SshExecutorOptions): SshCredentials {
  let privateKey: Buffer | undefined;
  if (options.privateKeyPath) {
    try {
      privateKey = readFileSync(options.privateKeyPath);
    } catch (error) {
      throw new Error(`cannot read the SSH private key ${options.privateKeyPath}: ${(error as Error).message}`);
    }
  }
  return { ...(privateKey ? { privateKey } : {}), ...(options.agentSocket ? { agentSocket: options.agentSocket } : {}) };
}

/** FLEETPATCH_ROOT comes from the host itself (remote-step.sh exports it). */
function jobEnvironment(job: HostJob): string[] {
  return ['env', `FLEETPATCH_STEP=${job.step}`, `FLEETPATCH_ROLLOUT=${job.rolloutId}`];
}

/**
 * remote-step.sh, found beside this module when it runs from `src` (tsx, vitest) and through the
 * package root when it runs from `dist` (the build copies no shell scripts; the package ships `src/`).
 */
function readRemoteScript(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'remote-step.sh'), resolve(here, '../../../src/executors/ssh/remote-step.sh')];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`remote-step.sh not found in ${candidates.join(' or ')}`);
  // Sent with every command (and logged by sudo): the comments are for readers of the file.
  return readFileSync(found, 'utf8').split('\n').filter((line) => !/^\s*(#|$)/.test(line)).join('\n');
}

function failed(error: string): StepOutcome {
  return { outcome: 'failed', replaced: [], error };
}

function errorMessage(error: unknown, stop: Stop): string {
  if (stop.signal.aborted && (!(error instanceof RemoteStepError) || error.kind === 'stopped')) return stop.reason();
  return error instanceof Error ? error.message : String(error);
}

function exitCodeOf(run: RemoteRun): { exitCode?: number } {
  return run.exitCode === undefined ? {} : { exitCode: run.exitCode };
}

function describeRun(run: RemoteRun): string {
  return run.timedOut ? 'timed out' : describeExit(run);
}

function resultOf(outcome: StepOutcome, output: JobOutputTail, startedAt: string, now: () => Date): JobResult {
  return {
    outcome: outcome.outcome,
    ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }),
    output: output.text(),
    replaced: outcome.replaced,
    ...(outcome.error === undefined ? {} : { error: outcome.error.length <= MAX_ERROR_LENGTH ? outcome.error : `${outcome.error.slice(0, MAX_ERROR_LENGTH - 1)}…` }),
    ...(outcome.details ? { details: outcome.details } : {}),
    startedAt,
    finishedAt: now().toISOString(),
  };
}
