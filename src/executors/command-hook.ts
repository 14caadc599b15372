/**
 * The command-hook executor: the operator's own runbook, run where the server runs, unchanged —
 * the seed's `patch-host.sh --upgrade | --reboot | --rollback`. The policy's pre- and post-checks
 * are commands already (`patch-host.sh --pre-check`), run the same way. Each run has the host,
 * rollout, step and targets in its environment (never pasted into a command line):
 *
 *   FLEETPATCH_HOST, FLEETPATCH_BUCKET, FLEETPATCH_ROLLOUT, FLEETPATCH_STEP, FLEETPATCH_JOB_KEY,
 *   FLEETPATCH_DEADLINE (ISO 8601), FLEETPATCH_PACKAGES / FLEETPATCH_PREVIOUS ("name=version …"),
 *   FLEETPATCH_LABEL_<KEY> for each of the host's labels (upper-cased, other characters as _);
 *   a replacement's --provision and --retire also FLEETPATCH_IMAGE_ID and FLEETPATCH_REPLACEMENT.
 *
 * Exit status 0 is success (for --reboot: the reboot was started), anything else a failure. An
 * optional JSON object on the last line of stdout carries more: `{"replaced": [{"name", "from",
 * "to"}], "error": "…", "details": {…}}`. What the host runs afterwards is still judged from its
 * facts (its agent's check-ins), never from the hook's word.
 *
 * A hook's step is not resumable: a run cut short by the server's death answers `interrupted`
 * (what it changed is unknown), like an agent's.
 */
import { spawn } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { jobResultSchema, type HostJob, type JobCommand, type JobResult } from '../protocol/job-protocol.js';
import { JobOutputTail } from '../protocol/output-tail.js';
import type { ExecutedStep, Executor, ExecutorTarget } from './executor.js';

/**
 * What a hook may say on its last line, held to the job result's own rules (bounded, well-formed
 * text), so a report the result would refuse is plain output instead; anything else there is too.
 */
const hookReport = z.object({
  replaced: jobResultSchema.shape.replaced.optional(),
  error: jobResultSchema.shape.error,
  details: jobResultSchema.shape.details,
});
type HookReport = z.infer<typeof hookReport>;

interface HookRun {
  exitCode?: number | undefined;
  signal?: string | undefined;
  timedOut: boolean;
  output: JobOutputTail;
  report?: HookReport | undefined;
  spawnError?: string;
}

/** `<command> --upgrade` for each step the hook itself runs. */
const HOOK_FLAGS: Partial<Record<HostJob['step'], string>> = { upgrade: '--upgrade', reboot: '--reboot', rollback: '--rollback', provision: '--provision', retire: '--retire' };

/**
 * @example createCommandHookExecutor({ command: '/opt/runbooks/patch-host.sh' }).run(job, { name: 'db-1', labels: {}, rolloutId: 7, bucket: 'databases' }, context)
 */
export function createCommandHookExecutor(options: { command: string }): Executor {
  return {
    kind: 'command-hook',
    resumable: new Set(),
    async run(job, target, context) {
      const startedAt = context.now().toISOString();
      const finish = (outcome: JobResult['outcome'], run: Partial<HookRun>, error?: string): ExecutedStep => ({
        result: {
          outcome,
          output: run.output?.text() ?? '',
          replaced: run.report?.replaced ?? [],
          startedAt,
          finishedAt: context.now().toISOString(),
          ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
          ...(error ? { error: error.slice(0, 4096) } : {}),
          ...(run.report?.details ? { details: run.report.details } : {}),
        },
      });
      const commands = commandsOf(job, options.command);
      if (commands === undefined) return finish('failed', {}, `the command hook does not run ${job.step} steps`);
      const output = new JobOutputTail();
      let last: HookRun | undefined;
      for (const command of commands) {
        const remaining = Date.parse(job.deadline) - context.now().getTime();
        if (remaining <= 0) return finish('failed', { output }, 'deadline passed');
        output.append(Buffer.from(`$ ${command.name}: ${command.command}\n`));
        last = await runHook(command, Math.min(command.timeoutMs, remaining), { ...environment(job, target), ...(command.hook ? { FLEETPATCH_HOOK: command.hook } : {}) }, output, context.signal);
        if (last.spawnError) return finish('failed', last, `${command.name} could not start: ${last.spawnError}`);
        if (context.signal.aborted) return finish('failed', last, 'interrupted: the job worker stopped');
        if (last.timedOut) return finish('failed', last, `${command.name} timed out after ${command.timeoutMs} ms (its process group was killed)`);
        if (last.exitCode === undefined || !command.allowedExitCodes.includes(last.exitCode)) {
          return finish('failed', last, last.report?.error ?? `${command.name} failed (${last.signal ? `killed by ${last.signal}` : `exit ${last.exitCode}`}; allowed: ${command.allowedExitCodes.join(', ')})`);
        }
      }
      return finish(job.step === 'reboot' ? 'started' : 'succeeded', last ?? { output });
    },
  };
}

/** Longest a hook's own step runs (the job's deadline usually ends it first). */
const HOOK_STEP_MAX_MS = 86_400_000;

/** The commands a step runs: the policy's own for checks (and a rollback command), the hook with the step's flag otherwise. */
function commandsOf(job: HostJob, hook: string): Array<JobCommand & { hook?: string }> | undefined {
  if (job.step === 'pre-check' || job.step === 'post-check') return job.commands;
  if (job.step === 'rollback' && job.commands.length > 0) return job.commands;
  const flag = HOOK_FLAGS[job.step];
  if (!flag) return undefined;
  // The path travels in the environment, so no quoting of it can go wrong.
  return [{ name: `${hook} ${flag}`, command: `exec "$FLEETPATCH_HOOK" ${flag}`, hook, timeoutMs: HOOK_STEP_MAX_MS, allowedExitCodes: [0] }];
}

function environment(job: HostJob, target: ExecutorTarget): NodeJS.ProcessEnv {
  const labels = Object.fromEntries(Object.entries(target.labels).map(([key, value]) => [`FLEETPATCH_LABEL_${key.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`, value]));
  return {
    ...process.env,
    ...labels,
    FLEETPATCH_HOST: target.name,
    FLEETPATCH_BUCKET: target.bucket,
    FLEETPATCH_ROLLOUT: String(target.rolloutId),
    FLEETPATCH_STEP: job.step,
    FLEETPATCH_JOB_KEY: job.key,
    FLEETPATCH_DEADLINE: job.deadline,
    FLEETPATCH_PACKAGES: job.packages.map((target) => `${target.name}=${target.version}`).join(' '),
    FLEETPATCH_PREVIOUS: job.previous.map((target) => `${target.name}=${target.version}`).join(' '),
    ...(job.image ? { FLEETPATCH_IMAGE_ID: job.image } : {}),
    ...(job.replacement ? { FLEETPATCH_REPLACEMENT: job.replacement } : {}),
  };
}

/** One `sh -c` run in its own process group (a timeout or an abort kills everything it started). */
function runHook(command: JobCommand, timeoutMs: number, env: NodeJS.ProcessEnv, output: JobOutputTail, signal: AbortSignal): Promise<HookRun> {
  // Stopped before it began: nothing is started.
  if (signal.aborted) return Promise.resolve({ timedOut: false, output });
  return new Promise((resolve) => {
    const lastLine = new LastLineTracker();
    // A character cut between two chunks is decoded whole.
    const decoder = new StringDecoder('utf8');
    let timedOut = false;
    const child = spawn('/bin/sh', ['-c', command.command], { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // ESRCH: the group is already gone.
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    const onAbort = () => killGroup();
    signal.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      output.append(chunk);
      lastLine.append(decoder.write(chunk));
    });
    child.stderr.on('data', (chunk: Buffer) => output.append(chunk));
    child.on('exit', killGroup);
    child.on('error', (error) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve({ timedOut: false, output, spawnError: error.message });
    });
    child.on('close', (code, killedBy) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      lastLine.append(decoder.end());
      resolve({ exitCode: code ?? undefined, signal: killedBy ?? undefined, timedOut, output, report: parseReport(lastLine.last()) });
    });
  });
}

/**
 * The last non-blank line of a stream that arrives in chunks cut anywhere: where the optional JSON
 * report is. The unterminated tail is kept apart, so a line that ended in one chunk is never glued
 * to the next chunk's first line.
 */
export class LastLineTracker {
  private complete = '';
  private tail = '';

  append(text: string): void {
    const parts = (this.tail + text).split('\n');
    this.tail = parts.pop() ?? '';
    const lastComplete = parts.filter((line) => line.trim() !== '').at(-1);
    if (lastComplete !== undefined) this.complete = lastComplete;
  }

  last(): string {
    return this.tail.trim() !== '' ? this.tail : this.complete;
  }
}

function parseReport(line: string): HookReport | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    const parsed = hookReport.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
