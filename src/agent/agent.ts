/**
 * The fleetpatch agent: collects this host's facts and reports them to the server (pull model: the
 * agent calls the server, the server never reaches the host). First contact enrolls and sends a
 * full inventory; later check-ins send only what changed, or a heartbeat when nothing did. A
 * failed check-in is spooled to disk and retried with exponential backoff and jitter. Between
 * check-ins the agent long-polls for its rollout job, runs it (job-runner.ts) and reports the result.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../domain/errors.js';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import { AGENT_PROTOCOL_VERSION, packageDelta, packageListDigest, type CheckIn } from '../protocol/agent-protocol.js';
import { hostJobSchema, type HostJob, type JobResult } from '../protocol/job-protocol.js';
import { collectHostFacts, readBootId } from './host-facts.js';
import { runJob } from './job-runner.js';

export const AGENT_VERSION = `0.1.0+p${AGENT_PROTOCOL_VERSION}`;

/** Where the CLI takes an enrollment token from, for hints. */
const ENROLL_TOKEN_SOURCES = '--enroll-token-file FILE, the FLEETPATCH_ENROLL_TOKEN environment variable, or --enroll-token';

/** The longest wait the server's job endpoint accepts. */
const MAX_JOB_WAIT_SECONDS = 60;

export interface AgentOptions {
  serverUrl: string;
  stateDirectory: string;
  root: string;
  hostname?: string;
  labels: Record<string, string>;
  /** The enrollment token, needed on first contact only; or `enrollTokenFile`. */
  enrollToken?: string;
  /**
   * A file holding the enrollment token (a mounted Secret, say), read only when the agent enrolls,
   * so the token is never in argv and a token replaced in the file is the one used.
   */
  enrollTokenFile?: string;
  log: (message: string) => void;
  /**
   * Long-poll for rollout jobs between check-ins (runForever only). `hostExec`: the argv prefix
   * every command of a job runs through, on the host's own root (job-runner.ts).
   */
  jobs?: { rebootCommand: string; waitSeconds: number; hostExec?: string[] };
}

interface Credential {
  server: string;
  hostname: string;
  credential: string;
}

interface LastReport {
  digest: string;
  factsFingerprint: string;
  packages: InstalledPackage[];
}

/** The server could not be reached or answered 5xx: worth retrying later. */
export class ServerUnavailableError extends Error {
  override readonly name = 'ServerUnavailableError';
}

export type CycleOutcome = 'full' | 'delta' | 'heartbeat';

export class Agent {
  constructor(private readonly options: AgentOptions) {
    mkdirSync(options.stateDirectory, { recursive: true, mode: 0o700 });
  }

  private path(file: string): string {
    return join(this.options.stateDirectory, file);
  }

  private read<T>(file: string): T | undefined {
    return existsSync(this.path(file)) ? (JSON.parse(readFileSync(this.path(file), 'utf8')) as T) : undefined;
  }

  private write(file: string, value: unknown): void {
    writeFileSync(this.path(file), JSON.stringify(value), { mode: 0o600 });
  }

  /** One check-in: send any spooled check-in, then collect and report now. */
  async runOnce(): Promise<CycleOutcome> {
    const credential = await this.credential();
    const spooled = this.read<{ body: CheckIn }>('spool.json');
    if (spooled) {
      try {
        await this.send(credential, 'PUT', 'inventory', spooled.body);
        this.options.log('sent the check-in spooled during the outage');
      } catch (error) {
        // A delta whose base the server no longer holds: most likely the server stored it and
        // died before answering. The check-in below reports the host as it is now, in full if need be.
        if (!(error instanceof DeltaRejected)) throw error;
        this.options.log('the check-in spooled during the outage is a delta the server has no base for; reporting the host as it is now');
      }
      rmSync(this.path('spool.json'));
    }
    const inventory = await collectHostFacts({ root: this.options.root, hostname: credential.hostname, labels: this.options.labels, availableUpdates: { log: this.options.log } });
    const bootId = await readBootId(this.options.root);
    const digest = packageListDigest(inventory.packages);
    const facts = factsOf(inventory, bootId);
    const factsFingerprint = JSON.stringify(facts);
    const last = this.read<LastReport>('last-report.json');
    if (last && last.digest === digest && last.factsFingerprint === factsFingerprint) {
      await this.send(credential, 'POST', 'heartbeat', { packageDigest: digest });
      return 'heartbeat';
    }
    let body: CheckIn = last
      ? { kind: 'delta', ...facts, packageDigest: digest, baseDigest: last.digest, ...packageDelta(last.packages, inventory.packages) }
      : { kind: 'full', ...facts, packageDigest: digest, packages: inventory.packages };
    try {
      await this.send(credential, 'PUT', 'inventory', body);
    } catch (error) {
      if (!(error instanceof DeltaRejected)) {
        this.write('spool.json', { body });
        throw error;
      }
      this.options.log('the server has no base for a delta; sending the full inventory');
      body = { kind: 'full', ...facts, packageDigest: digest, packages: inventory.packages };
      await this.send(credential, 'PUT', 'inventory', body);
    }
    this.write('last-report.json', { digest, factsFingerprint, packages: inventory.packages } satisfies LastReport);
    return body.kind;
  }

  /**
   * Runs forever: a check-in every `intervalSeconds`, serving jobs in between; after a failure,
   * retries with exponential backoff (capped at the interval) and ±50% jitter so a recovering
   * server is not hit by every agent at once.
   */
  async runForever(intervalSeconds: number, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const cycleEnd = Date.now() + intervalSeconds * 1000;
      let delaySeconds = intervalSeconds;
      try {
        const outcome = await this.runOnce();
        this.options.log(`check-in: ${outcome}`);
        failures = 0;
        await this.serveJobs(cycleEnd, signal);
        delaySeconds = Math.max(0, (cycleEnd - Date.now()) / 1000);
      } catch (error) {
        if (signal.aborted) break;
        if (!(error instanceof ServerUnavailableError)) throw error;
        failures++;
        delaySeconds = Math.min(intervalSeconds, 5 * 2 ** Math.min(failures - 1, 10)) * (0.5 + Math.random());
        this.options.log(`${error.message}; retrying in ${delaySeconds.toFixed(0)} s`);
      }
      await sleep(delaySeconds, signal);
    }
  }

  /**
   * Long-polls for the host's job until `until`, running each one and reporting its result. An
   * agent that stopped before its report is asked for the same job again and the journal answers
   * the stored result, so nothing runs twice.
   */
  private async serveJobs(until: number, signal: AbortSignal): Promise<void> {
    const jobs = this.options.jobs;
    if (!jobs) return;
    const credential = await this.credential();
    const host = encodeURIComponent(credential.hostname);
    while (!signal.aborted && Date.now() < until) {
      const waitSeconds = Math.max(1, Math.min(jobs.waitSeconds, MAX_JOB_WAIT_SECONDS, Math.ceil((until - Date.now()) / 1000)));
      const asked = Date.now();
      const response = await this.request('GET', `/api/v1/hosts/${host}/job?waitSeconds=${waitSeconds}`, credential.credential, undefined, { accept: [204, 404], timeoutMs: (waitSeconds + 30) * 1000, signal });
      if (response.status === 404 || response.status === 204) await response.body?.cancel();
      // A server without rollouts: check-ins go on as before.
      if (response.status === 404) return;
      if (response.status === 204) {
        // A server that answers at once must not be polled in a tight loop.
        if (Date.now() - asked < 1000) await sleep(1, signal);
        continue;
      }
      const parsed = hostJobSchema.safeParse(await response.json().catch(() => undefined));
      if (!parsed.success) {
        this.options.log(`the server sent a job this agent cannot read (${parsed.error.issues[0]?.message ?? 'invalid'}); waiting for the next check-in`);
        return;
      }
      await this.runAndReport(credential, parsed.data, jobs, signal);
    }
  }

  private async runAndReport(credential: Credential, job: HostJob, jobs: NonNullable<AgentOptions['jobs']>, signal: AbortSignal): Promise<void> {
    this.options.log(`job ${job.key}: ${job.step}`);
    const run = await runJob(job, {
      root: this.options.root,
      stateDirectory: this.options.stateDirectory,
      rebootCommand: jobs.rebootCommand,
      log: this.options.log,
      ...(jobs.hostExec ? { hostExec: jobs.hostExec } : {}),
    });
    this.options.log(`job ${job.key}: ${run.result.outcome}${run.result.error ? ` (${run.result.error})` : ''}`);
    if (!(await this.reportResult(credential, job, run.result, signal))) return;
    await run.afterReport?.();
    // The server judges an upgrade or rollback by the versions it sees: show them at once.
    if (job.step === 'upgrade' || job.step === 'rollback') this.options.log(`check-in: ${await this.runOnce()}`);
  }

  /**
   * Posts a result until the server answers: a server that died after recording it never asks
   * for that job again (a reboot would never run), and a second report of a key changes nothing.
   * Gives up at the job's deadline or on stop; the journal answers the result if the job is asked
   * for again. False when the server refused the result for good (the rollout moved on).
   */
  private async reportResult(credential: Credential, job: HostJob, result: JobResult, signal: AbortSignal): Promise<boolean> {
    const path = `/api/v1/hosts/${encodeURIComponent(credential.hostname)}/jobs/${encodeURIComponent(job.key)}/result`;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.request('POST', path, credential.credential, result, { signal });
        return true;
      } catch (error) {
        if (error instanceof InputError) {
          this.options.log(`the result of ${job.key} was refused: ${error.message}`);
          return false;
        }
        if (!(error instanceof ServerUnavailableError) || signal.aborted || Date.now() > Date.parse(job.deadline)) throw error;
        const delaySeconds = Math.min(5, 0.5 * 2 ** Math.min(attempt, 10)) * (0.5 + Math.random());
        this.options.log(`${error.message}; reporting ${job.key} again in ${delaySeconds.toFixed(1)} s`);
        await sleep(delaySeconds, signal);
      }
    }
  }

  private async credential(): Promise<Credential> {
    const stored = this.read<Credential>('credential.json');
    if (stored && stored.server === this.options.serverUrl) return stored;
    const token = this.enrollToken();
    if (!token) throw new InputError('this agent is not enrolled', { file: this.path('credential.json') }, `give an enrollment token (created on the server's first start, or with POST /api/v1/enrollment-tokens): ${ENROLL_TOKEN_SOURCES}`);
    const hostname = this.options.hostname ?? (await collectHostFacts({ root: this.options.root })).hostname;
    const response = await this.request('POST', '/api/v1/enroll', undefined, { token, hostname, labels: this.options.labels });
    const enrolled = (await response.json()) as { credential: string; hostname: string };
    const credential = { server: this.options.serverUrl, hostname: enrolled.hostname, credential: enrolled.credential };
    this.write('credential.json', credential);
    this.options.log(`enrolled as ${hostname}`);
    return credential;
  }

  /** The token given, or the one in the token file now; an unreadable or empty file is an error naming it. */
  private enrollToken(): string | undefined {
    const file = this.options.enrollTokenFile;
    if (file === undefined) return this.options.enrollToken;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'a directory, not a file' : message;
      throw new InputError(`cannot read the enrollment token file (${reason})`, { file }, 'give --enroll-token-file the file that holds the token, e.g. a mounted Secret\'s key');
    }
    const token = text.trim();
    if (token === '') throw new InputError('the enrollment token file is empty', { file }, 'write the token (fpe_…) into it');
    if (/\s/.test(token)) throw new InputError('the enrollment token file holds more than one word; it should hold the token alone', { file });
    return token;
  }

  private async send(credential: Credential, method: 'PUT' | 'POST', what: 'inventory' | 'heartbeat', body: unknown): Promise<void> {
    await this.request(method, `/api/v1/hosts/${encodeURIComponent(credential.hostname)}/${what}`, credential.credential, body);
  }

  /** `accept`: statuses besides 2xx that the caller handles (answered, not thrown). */
  private async request(method: string, path: string, secret: string | undefined, body: unknown, options: { accept?: number[]; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Response> {
    let response: Response;
    const timeout = AbortSignal.timeout(options.timeoutMs ?? 60_000);
    try {
      response = await fetch(`${this.options.serverUrl}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: options.signal ? AbortSignal.any([timeout, options.signal]) : timeout,
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ServerUnavailableError(`the server ${this.options.serverUrl} is unreachable (${cause})`);
    }
    if (response.status >= 500) throw new ServerUnavailableError(`the server answered ${response.status}`);
    if (options.accept?.includes(response.status)) return response;
    if (!response.ok) {
      const error = ((await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string; hint?: string } }).error ?? {};
      if (error.code === 'delta-base-mismatch') throw new DeltaRejected();
      // A credential that stops working was revoked, or its host retired: re-enrolling needs an operator.
      const hint = response.status === 401 && secret?.startsWith('fph_')
        ? `the server no longer accepts this host's credential (revoked, or the host was retired); an operator can run "fleetpatch hosts approve-enrollment <name>", then run the agent with an enrollment token (${ENROLL_TOKEN_SOURCES}) after removing ${this.path('credential.json')}`
        : error.hint;
      throw new InputError(`the server refused ${method} ${path}: ${response.status} ${error.message ?? ''}`.trim(), {}, hint);
    }
    return response;
  }
}

class DeltaRejected extends Error {}

function sleep(seconds: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, seconds * 1000);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function factsOf(inventory: HostInventory, bootId: string | undefined) {
  return {
    rebootRequired: inventory.rebootRequired,
    labels: inventory.labels,
    agentVersion: AGENT_VERSION,
    ...(inventory.os ? { os: inventory.os } : {}),
    ...(inventory.osEcosystem ? { osEcosystem: inventory.osEcosystem } : {}),
    ...(inventory.arch ? { arch: inventory.arch } : {}),
    ...(inventory.kernel.running ? { runningKernel: inventory.kernel.running } : {}),
    ...(inventory.bootTime ? { bootTime: inventory.bootTime.toISOString() } : {}),
    ...(bootId ? { bootId } : {}),
    ...(inventory.availableUpdates ? { availableUpdates: inventory.availableUpdates } : {}),
  };
}
