/**
 * Runs one rollout job on this host (src/protocol/job-protocol.ts): pre- and post-checks are the
 * policy's commands, an upgrade installs exactly the snapshot's versions, a rollback reinstalls the
 * versions an upgrade replaced (or runs the policy's rollback command), a reboot hands the host to
 * its reboot command once the server knows.
 *
 * Every key is journalled in `<state>/jobs/` (fsynced) before anything acts, so a key runs at most
 * once whatever the server asks after a crash: a finished key answers its stored result, a key cut
 * short by the agent's death answers `interrupted` (what it changed is unknown). Each step that
 * acts appends a line to `<state>/step-log.jsonl`, the host's own record of what it ran.
 *
 * Where a job acts, one rule: commands run on the host, files are read under `root`.
 * - Without a host-exec prefix, commands run here, on `root`: `/`, or a directory root reached
 *   with the package manager's root options (apt's `Dir`, dpkg's `--root`, dnf's `--installroot`,
 *   apk's `--root`, `rpm --root`), and `FLEETPATCH_ROOT` is `root`.
 * - With a host-exec prefix (`--host-exec "nsenter -t 1 -m -u -i -n -p --"` in a container that
 *   mounts the host's root at `root`), every command the job runs is started as `<prefix> <argv>`
 *   and built for the host's own view, root `/`: the package manager's install and its
 *   `--simulate` dry run, `rpm -qa` before and after an install, the policy's checks and rollback
 *   commands (`<prefix> sh -c …`, with `FLEETPATCH_ROOT=/`) and the reboot command.
 * In both cases the files a job reads (dpkg's status, apk's installed database, the boot id) are
 * read under `root`: through a mount they are the very files the host's package manager wrote.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BugError, InputError } from '../domain/errors.js';
import { PACKAGE_TOKEN, aptSimulationChanges, changedPackages, installCommandLine, judgeInstall, type CommandLine } from '../domain/rollout/install-command.js';
import { type HostJob, type HostStep, type JobCommand, type JobResult } from '../protocol/job-protocol.js';
import { readBootId, readInstalledPackages } from './host-facts.js';
import { JobOutputTail } from '../protocol/output-tail.js';

export interface JobRunnerOptions {
  /**
   * Filesystem root whose files the job reads: `/`, a directory root with its own package database,
   * or the host's root as mounted in a container (with `hostExec`). Without `hostExec`, also the
   * root the job's commands change.
   */
  root: string;
  /**
   * The argv prefix that runs a command on the host itself (`--host-exec`, split into words), e.g.
   * `['nsenter', '-t', '1', '-m', '-u', '-i', '-n', '-p', '--']`: every command of a job runs
   * through it, built for the host's own root `/` (see the header).
   */
  hostExec?: string[];
  stateDirectory: string;
  /** Run through `sh -c` (after the host-exec prefix, if any) once the reboot's `started` was reported. */
  rebootCommand: string;
  log: (message: string) => void;
  now?: () => Date;
}

export interface JobRun {
  result: JobResult;
  /** The reboot: the caller runs it once the `started` result is recorded, so the server knows before the host goes down. */
  afterReport?: () => Promise<void>;
}

export interface StepLogLine {
  key: string;
  step: HostStep;
  rolloutId: number;
  startedAt: string;
}

interface JournalEntry {
  key: string;
  rolloutId: number;
  step: HostStep;
  deadline: string;
  startedAt: string;
  /** reboot: the boot it started in, and whether the reboot command ran during that boot. */
  bootId?: string;
  rebootInvoked?: boolean;
  result?: JobResult;
}

interface PackageVersion {
  name: string;
  version: string;
}

type StepOutcome = Pick<JobResult, 'outcome' | 'exitCode' | 'replaced' | 'error'>;

/** Journal entries live until their deadline is this far behind: no server asks for such a key again. */
const JOURNAL_RETENTION_MS = 7 * 86_400_000;
/** Longest delay a Node timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_ERROR_LENGTH = 4096;

/**
 * @example const { result, afterReport } = await runJob(job, { root: '/', stateDirectory, rebootCommand: 'systemctl reboot', log })
 * @example await runJob(job, { root: '/host', hostExec: ['nsenter', '-t', '1', '-m', '-u', '-i', '-n', '-p', '--'], stateDirectory, rebootCommand: 'systemctl reboot', log })
 */
export async function runJob(job: HostJob, options: JobRunnerOptions): Promise<JobRun> {
  const now = options.now ?? (() => new Date());
  const journal = new JobJournal(options.stateDirectory);
  const entry = journal.read(job.key);
  if (entry) return replay(entry, journal, options, now);
  journal.prune(now());
  const startedAt = now().toISOString();
  const started: JournalEntry = { key: job.key, rolloutId: job.rolloutId, step: job.step, deadline: job.deadline, startedAt };
  if (Date.parse(job.deadline) <= now().getTime()) {
    const result = resultOf({ outcome: 'failed', replaced: [], error: 'deadline passed' }, new JobOutputTail(), startedAt, now);
    journal.write({ ...started, result });
    return { result };
  }
  if (job.step === 'reboot') {
    const bootId = await readBootId(options.root);
    const result = resultOf({ outcome: 'started', replaced: [] }, new JobOutputTail(), startedAt, now);
    const rebooting: JournalEntry = { ...started, ...(bootId ? { bootId } : {}), result };
    journal.write(rebooting);
    journal.appendStepLog({ key: job.key, step: job.step, rolloutId: job.rolloutId, startedAt });
    return { result, afterReport: () => reboot(rebooting, journal, options) };
  }
  journal.write(started);
  journal.appendStepLog({ key: job.key, step: job.step, rolloutId: job.rolloutId, startedAt });
  const output = new JobOutputTail();
  const result = resultOf(await execute(job, options, output, now), output, startedAt, now);
  journal.write({ ...started, result });
  return { result };
}

async function replay(entry: JournalEntry, journal: JobJournal, options: JobRunnerOptions, now: () => Date): Promise<JobRun> {
  if (entry.step === 'reboot' && entry.result) {
    const bootId = await readBootId(options.root);
    const rebooted = entry.bootId !== undefined && bootId !== undefined && bootId !== entry.bootId;
    if (rebooted || entry.rebootInvoked) return { result: entry.result };
    // The agent stopped between journalling the reboot and running it: the host never went down.
    options.log(`job ${entry.key}: the reboot was journalled but never run; rebooting once it is reported`);
    return { result: entry.result, afterReport: () => reboot(entry, journal, options) };
  }
  if (entry.result) return { result: entry.result };
  // The agent died mid-step: what the step changed is unknown, so it is reported and never repeated.
  const result = resultOf({ outcome: 'failed', replaced: [], error: 'interrupted' }, new JobOutputTail(), entry.startedAt, now);
  journal.write({ ...entry, result });
  return { result };
}

async function reboot(entry: JournalEntry, journal: JobJournal, options: JobRunnerOptions): Promise<void> {
  journal.write({ ...entry, rebootInvoked: true });
  const host = hostOf(options);
  options.log(`job ${entry.key}: rebooting (${[...host.prefix, options.rebootCommand].join(' ')})`);
  const output = new JobOutputTail();
  const run = await runOnHost(host, 'sh', ['-c', options.rebootCommand], {
    env: jobEnvironment(host.root, entry.step, entry.rolloutId),
    timeoutMs: Math.max(1, Math.min(MAX_TIMER_MS, Date.parse(entry.deadline) - Date.now())),
    output,
  });
  // `started` is already recorded: a reboot that never comes is the server's to judge (its deadline).
  if (run.exitCode !== 0) options.log(`job ${entry.key}: the reboot command failed (${describeExit(run)}): ${output.text().trim().split('\n').slice(-3).join(' | ')}`);
}

async function execute(job: HostJob, options: JobRunnerOptions, output: JobOutputTail, now: () => Date): Promise<StepOutcome> {
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), Math.max(0, Math.min(MAX_TIMER_MS, Date.parse(job.deadline) - now().getTime())));
  const context: StepContext = { job, host: hostOf(options), filesRoot: options.root, stateDirectory: options.stateDirectory, output, signal: deadline.signal };
  try {
    switch (job.step) {
      case 'pre-check':
      case 'post-check':
        return { ...(await runCommands(job.commands, context)), replaced: [] };
      case 'upgrade':
        return await installExactly(job.packages, context);
      case 'rollback':
        return job.commands.length > 0 ? await rollbackByCommands(context) : await installExactly(job.previous, context);
      case 'reboot':
        throw new BugError('a reboot is started by runJob, never executed as a step');
      default:
        // Node and replacement steps run where the server runs (src/executors); the agent only reads its facts.
        return { outcome: 'failed', replaced: [], error: `the agent does not run ${job.step} steps` };
    }
  } catch (error) {
    return { outcome: 'failed', replaced: [], error: deadline.signal.aborted ? 'deadline passed' : (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Where a job's commands act and how they are started. */
interface HostTarget {
  /** The root the commands are built for: `/` through a host-exec prefix, else the runner's root. */
  root: string;
  /** Words put before every command; empty without `--host-exec`. */
  prefix: string[];
}

function hostOf(options: JobRunnerOptions): HostTarget {
  const prefix = options.hostExec ?? [];
  return prefix.length > 0 ? { root: '/', prefix } : { root: options.root, prefix };
}

interface StepContext {
  job: HostJob;
  host: HostTarget;
  /** The runner's root, under which package database files are read. */
  filesRoot: string;
  stateDirectory: string;
  output: JobOutputTail;
  /** Aborts at the job's deadline. */
  signal: AbortSignal;
}

async function runCommands(commands: JobCommand[], context: StepContext): Promise<Omit<StepOutcome, 'replaced'>> {
  let exitCode: number | undefined;
  for (const command of commands) {
    context.output.append(`$ ${command.name}: ${command.command}\n`);
    const run = await runOnHost(context.host, 'sh', ['-c', command.command], {
      env: jobEnvironment(context.host.root, context.job.step, context.job.rolloutId),
      timeoutMs: command.timeoutMs,
      signal: context.signal,
      output: context.output,
    });
    if (run.aborted) return { outcome: 'failed', error: 'deadline passed', ...exitCodeOf(run) };
    if (run.timedOut) return { outcome: 'failed', error: `${command.name} timed out after ${command.timeoutMs} ms`, ...exitCodeOf(run) };
    if (run.exitCode === undefined || !command.allowedExitCodes.includes(run.exitCode)) {
      return { outcome: 'failed', error: `${command.name} failed (${describeExit(run)}; allowed: ${command.allowedExitCodes.join(', ')})`, ...exitCodeOf(run) };
    }
    exitCode = run.exitCode;
  }
  return { outcome: 'succeeded', ...(exitCode === undefined ? {} : { exitCode }) };
}

async function rollbackByCommands(context: StepContext): Promise<StepOutcome> {
  const before = await installedPackages(context);
  const ran = await runCommands(context.job.commands, context);
  const after = await installedPackages(context);
  return { ...ran, replaced: changedPackages(before.packages, after.packages) };
}

/**
 * Installs exactly `targets` (downgrades allowed: a rollback goes through here too), then checks
 * that every target is at its version and that no other package changed. apt is asked first with
 * a simulation, so a transaction that would touch other packages is refused before anything moves.
 */
async function installExactly(targets: PackageVersion[], context: StepContext): Promise<StepOutcome> {
  const badToken = targets.flatMap((target) => [target.name, target.version]).find((token) => !PACKAGE_TOKEN.test(token));
  if (badToken !== undefined) return { outcome: 'failed', replaced: [], error: `${JSON.stringify(badToken)} is not a package name or version this agent passes to a package manager` };
  if (targets.length === 0) return { outcome: 'succeeded', replaced: [] };
  const before = await installedPackages(context);
  const targetNames = new Set(targets.map((target) => target.name));
  const aptConfig = before.format === 'dpkg-status' ? aptConfigFor(context) : undefined;
  if (before.format === 'dpkg-status') {
    const simulation = installCommandLine(before.format, context.host.root, targets, { simulate: true, aptConfig });
    const simulationOutput = new JobOutputTail();
    const simulated = await runPackageManager(simulation, context, simulationOutput);
    if (simulated.exitCode !== 0) {
      context.output.append(simulationOutput.text());
      return { outcome: 'failed', replaced: [], error: `apt-get refused the transaction (${describeExit(simulated)}); nothing was installed`, ...exitCodeOf(simulated) };
    }
    const outside = [...new Set(aptSimulationChanges(simulationOutput.text()).filter((name) => !targetNames.has(name)))];
    if (outside.length > 0) {
      context.output.append(simulationOutput.text());
      return { outcome: 'failed', replaced: [], error: truncated(`the transaction would also change ${outside.join(', ')}, outside the job's packages; nothing was installed`) };
    }
  }
  const install = installCommandLine(before.format, context.host.root, targets, { aptConfig });
  const installed = await runPackageManager(install, context, context.output);
  const after = await installedPackages(context);
  const judged = judgeInstall(targets, before.packages, after.packages);
  const { replaced } = judged;
  if (installed.aborted) return { outcome: 'failed', replaced, error: 'deadline passed', ...exitCodeOf(installed) };
  const problems = [...(installed.exitCode !== 0 ? [`${install.command} failed (${describeExit(installed)})`] : []), ...judged.problems];
  return problems.length > 0
    ? { outcome: 'failed', replaced, error: truncated(problems.join('; ')), ...exitCodeOf(installed) }
    : { outcome: 'succeeded', replaced, ...exitCodeOf(installed) };
}

/** The package list a job compares before and after it acts: files under the runner's root, rpm through the prefix. */
function installedPackages(context: StepContext): ReturnType<typeof readInstalledPackages> {
  return readInstalledPackages(context.filesRoot, { hostExec: context.host.prefix });
}

/**
 * apt reads its configuration files before its `-o` options, so a directory root's own apt.conf.d
 * (and not the host's hooks) is only read when `Dir` comes from APT_CONFIG.
 */
function aptConfigFor(context: StepContext): string | undefined {
  const { root } = context.host;
  if (root === '/') return undefined;
  if (/["\n;{}]/.test(root)) throw new InputError('the root path cannot be written in an apt configuration file', { file: root });
  const path = join(context.stateDirectory, 'apt-root.conf');
  writeFileSync(path, `Dir "${root}/";\n`, { mode: 0o600 });
  return path;
}

async function runPackageManager(line: CommandLine, context: StepContext, output: JobOutputTail): Promise<ProcessRun> {
  output.append(`$ ${[...context.host.prefix, line.command, ...line.args].join(' ')}\n`);
  return runOnHost(context.host, line.command, line.args, {
    env: { ...jobEnvironment(context.host.root, context.job.step, context.job.rolloutId), LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive', ...line.env },
    timeoutMs: Math.max(1, Math.min(MAX_TIMER_MS, Date.parse(context.job.deadline) - Date.now())),
    signal: context.signal,
    output,
  });
}

function jobEnvironment(root: string, step: HostStep, rolloutId: number): NodeJS.ProcessEnv {
  return { ...process.env, FLEETPATCH_ROOT: root, FLEETPATCH_STEP: step, FLEETPATCH_ROLLOUT: String(rolloutId) };
}

function resultOf(outcome: StepOutcome, output: JobOutputTail, startedAt: string, now: () => Date): JobResult {
  return {
    outcome: outcome.outcome,
    ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }),
    output: output.text(),
    replaced: outcome.replaced,
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    startedAt,
    finishedAt: now().toISOString(),
  };
}

function truncated(text: string): string {
  return text.length <= MAX_ERROR_LENGTH ? text : `${text.slice(0, MAX_ERROR_LENGTH - 1)}…`;
}

interface ProcessRun {
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  aborted: boolean;
  spawnError?: string;
}

function exitCodeOf(run: ProcessRun): { exitCode?: number } {
  return run.exitCode === undefined ? {} : { exitCode: run.exitCode };
}

function describeExit(run: ProcessRun): string {
  if (run.spawnError) return run.spawnError;
  if (run.timedOut) return 'timed out';
  return run.exitCode === undefined ? `killed by ${run.signal ?? 'a signal'}` : `exit ${run.exitCode}`;
}

/** Runs `command` on the job's host: after the host-exec prefix, if there is one. */
function runOnHost(host: HostTarget, command: string, args: string[], options: Parameters<typeof runProcess>[2]): Promise<ProcessRun> {
  const [program, ...rest] = [...host.prefix, command, ...args];
  return runProcess(program!, rest, options);
}

/**
 * Runs a command in a process group of its own, so a timeout or the deadline kills everything it
 * started, not only the shell.
 */
function runProcess(command: string, args: string[], options: { env: NodeJS.ProcessEnv; timeoutMs: number; signal?: AbortSignal; output: JobOutputTail }): Promise<ProcessRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    let aborted = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, Math.min(MAX_TIMER_MS, options.timeoutMs));
    const onAbort = () => {
      aborted = true;
      killGroup();
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => options.output.append(chunk));
    child.stderr.on('data', (chunk: Buffer) => options.output.append(chunk));
    const finish = (run: Omit<ProcessRun, 'timedOut' | 'aborted'>) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      resolve({ ...run, timedOut, aborted });
    };
    child.on('error', (error: NodeJS.ErrnoException) => finish({ spawnError: error.code === 'ENOENT' ? `${command} is not installed` : error.message }));
    child.on('close', (code, signal) => finish({ ...(code === null ? {} : { exitCode: code }), ...(signal ? { signal } : {}) }));
  });
}

/** One file per key (named by its hash: keys may be long), replaced atomically and fsynced. */
class JobJournal {
  private readonly directory: string;

  constructor(private readonly stateDirectory: string) {
    this.directory = join(stateDirectory, 'jobs');
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
  }

  private path(key: string): string {
    return join(this.directory, `${createHash('sha256').update(key).digest('hex')}.json`);
  }

  read(key: string): JournalEntry | undefined {
    const path = this.path(key);
    return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as JournalEntry) : undefined;
  }

  write(entry: JournalEntry): void {
    const path = this.path(entry.key);
    const temporary = `${path}.tmp`;
    writeDurably(temporary, JSON.stringify(entry), 'w');
    renameSync(temporary, path);
    fsyncDirectory(this.directory);
  }

  appendStepLog(line: StepLogLine): void {
    writeDurably(join(this.stateDirectory, 'step-log.jsonl'), `${JSON.stringify(line)}\n`, 'a');
  }

  prune(now: Date): void {
    for (const file of readdirSync(this.directory)) {
      const path = join(this.directory, file);
      if (!file.endsWith('.json')) {
        rmSync(path, { force: true });
        continue;
      }
      const entry = JSON.parse(readFileSync(path, 'utf8')) as JournalEntry;
      if (Date.parse(entry.deadline) < now.getTime() - JOURNAL_RETENTION_MS) rmSync(path);
    }
  }
}

function writeDurably(path: string, text: string, flags: 'w' | 'a'): void {
  const descriptor = openSync(path, flags, 0o600);
  try {
    writeSync(descriptor, text);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

function fsyncDirectory(path: string): void {
  const descriptor = openSync(path, 'r');
  try {
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}
