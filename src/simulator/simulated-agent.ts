/**
 * A simulated host that speaks the real agent protocol to a real server: it checks in its package
 * list, fetches its rollout jobs and "runs" them on that list (an upgrade sets the versions, a
 * reboot gives it a new boot id and the newest kernel), reporting every result as
 * `simulated: …` so nobody mistakes it for a patched machine. The demo fleet's rollouts, the
 * engine's tests and bench:rollout run on it; the end-to-end tests run real agents on dpkg roots.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HostStep } from '../domain/rollout/rollout-model.js';
import type { InstalledPackage, OsRelease } from '../domain/types.js';
import { packageListDigest, type CheckIn } from '../protocol/agent-protocol.js';
import type { HostJob, JobResult } from '../protocol/job-protocol.js';

export interface SimulatedHostOptions {
  serverUrl: string;
  /** An operator token (it may write any host) or the host's own credential. */
  token: string;
  name: string;
  labels: Record<string, string>;
  os: OsRelease;
  osEcosystem: string;
  packages: InstalledPackage[];
  runningKernel?: string;
  /** The host waits for a reboot already (a kernel installed but not running). */
  rebootRequired?: boolean;
  now: () => Date;
  /** A step that fails on this host (its commands exit 1), and whether it never comes back from a reboot. */
  failStep?: HostStep;
  neverReturns?: boolean;
  /** Told of every reboot with the new boot id (a simulated node's kubelet goes NotReady with it). */
  onReboot?: (host: SimulatedHost, bootId: string) => void;
}

const KERNEL_IMAGE = /^linux-image-(\d.*)$/;

export class SimulatedHost {
  readonly name: string;
  /** Every job this host executed, by key, in order: a key appears once or the engine repeated a step. */
  readonly executed: string[] = [];
  private packages: InstalledPackage[];
  private currentBootId = randomUUID();
  private rebootRequired = false;
  private runningKernel: string | undefined;
  private down = false;

  constructor(private readonly options: SimulatedHostOptions) {
    this.name = options.name;
    this.packages = [...options.packages];
    this.runningKernel = options.runningKernel;
    this.rebootRequired = options.rebootRequired ?? false;
  }

  get installed(): Record<string, string> {
    return Object.fromEntries(this.packages.map((pkg) => [pkg.name, pkg.version]));
  }

  get isDown(): boolean {
    return this.down;
  }

  get bootId(): string {
    return this.currentBootId;
  }

  get labels(): Record<string, string> {
    return this.options.labels;
  }

  get packageList(): readonly InstalledPackage[] {
    return this.packages;
  }

  /** The machine is gone for good (a replaced host's instance terminated): it never checks in again. */
  retire(): void {
    this.down = true;
  }

  async checkIn(): Promise<void> {
    if (this.down) return;
    const body: CheckIn = {
      kind: 'full',
      rebootRequired: this.rebootRequired,
      labels: this.options.labels,
      packageDigest: packageListDigest(this.packages),
      packages: this.packages,
      os: this.options.os,
      osEcosystem: this.options.osEcosystem,
      ...(this.runningKernel ? { runningKernel: this.runningKernel } : {}),
      bootId: this.currentBootId,
      agentVersion: 'simulated',
    };
    await this.request('PUT', `/api/v1/hosts/${encodeURIComponent(this.name)}/inventory`, body);
  }

  /** Fetches the current job and runs it; false when there was none (or the host is down). */
  async work(): Promise<boolean> {
    if (this.down) return false;
    const response = await this.request('GET', `/api/v1/hosts/${encodeURIComponent(this.name)}/job?waitSeconds=0`);
    if (response.status === 204) return false;
    const job = (await response.json()) as HostJob;
    const startedAt = this.options.now().toISOString();
    // A job key already executed is reported again, never run again (the real agent journals keys the same way).
    const repeat = this.executed.includes(job.key);
    if (!repeat) this.executed.push(job.key);
    const result = repeat ? this.lastResults.get(job.key)! : this.run(job, startedAt);
    this.lastResults.set(job.key, result);
    await this.request('POST', `/api/v1/hosts/${encodeURIComponent(this.name)}/jobs/${encodeURIComponent(job.key)}/result`, result);
    if (job.step === 'reboot' && !repeat) this.reboot();
    await this.checkIn();
    return true;
  }

  private readonly lastResults = new Map<string, JobResult>();

  private run(job: HostJob, startedAt: string): JobResult {
    const finish = (outcome: JobResult['outcome'], output: string, replaced: JobResult['replaced'] = [], exitCode?: number): JobResult => ({
      outcome, output: `simulated: ${output}\n`, replaced, startedAt, finishedAt: this.options.now().toISOString(), ...(exitCode !== undefined ? { exitCode } : {}),
    });
    if (this.options.failStep === job.step) return finish('failed', `${job.step} failed on purpose`, [], 1);
    switch (job.step) {
      case 'pre-check':
      case 'post-check':
        return finish('succeeded', `${job.commands.map((command) => command.name).join(', ') || 'no checks'} passed`, [], 0);
      case 'upgrade':
      case 'rollback': {
        const targets = job.step === 'upgrade' ? job.packages : job.previous;
        const replaced = this.install(targets);
        return finish('succeeded', `installed ${targets.map((target) => `${target.name}=${target.version}`).join(' ')}`, replaced, 0);
      }
      case 'reboot':
        return finish('started', 'rebooting');
      default:
        return finish('failed', `the agent does not run ${job.step} steps`);
    }
  }

  /** A person at the console (a manual window's checklist): installs these versions and reboots, then the agent checks in. */
  async patchByHand(targets: HostJob['packages']): Promise<void> {
    this.install(targets);
    this.reboot();
    await this.checkIn();
  }

  /** Installs these versions of the packages the host has (what a runbook or an agent's upgrade does); what it replaced. */
  install(targets: HostJob['packages']): JobResult['replaced'] {
    const replaced: JobResult['replaced'] = [];
    this.packages = this.packages.map((pkg) => {
      const target = targets.find((candidate) => candidate.name === pkg.name);
      if (!target || target.version === pkg.version) return pkg;
      replaced.push({ name: pkg.name, from: pkg.version, to: target.version });
      if (KERNEL_IMAGE.test(pkg.name) || pkg.name.startsWith('libc')) this.rebootRequired = true;
      return { ...pkg, version: target.version, ...(pkg.sourceVersion ? { sourceVersion: target.version } : {}) };
    });
    return replaced;
  }

  /** A new boot: a new boot id and the newest installed kernel running; or, never returning, silence. */
  reboot(): void {
    if (this.options.neverReturns) {
      this.down = true;
      return;
    }
    this.currentBootId = randomUUID();
    this.rebootRequired = false;
    const kernels = this.packages.flatMap((pkg) => KERNEL_IMAGE.exec(pkg.name)?.[1] ?? []).sort();
    if (kernels.length > 0) this.runningKernel = kernels.at(-1);
    this.options.onReboot?.(this, this.currentBootId);
  }

  private async request(method: string, path: string, body?: unknown): Promise<Response> {
    const response = await fetch(`${this.options.serverUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.options.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (response.status >= 400) throw new Error(`simulated host ${this.name}: ${method} ${path} answered ${response.status} ${await response.text()}`);
    return response;
  }
}

/**
 * Keeps simulated hosts working until `signal` aborts: each looks for a job every `pollMs` and
 * checks in every `checkInMs` (so none goes stale), one host at a time.
 *
 * @example void driveSimulatedHosts(hosts, { pollMs: 2_000, checkInMs: 300_000, signal, log: console.error })
 */
export async function driveSimulatedHosts(hosts: readonly SimulatedHost[], options: { pollMs: number; checkInMs: number; signal: AbortSignal; log: (message: string) => void }): Promise<void> {
  let lastCheckIn = 0;
  const failing = new Set<string>();
  while (!options.signal.aborted) {
    const checkIn = Date.now() - lastCheckIn >= options.checkInMs;
    if (checkIn) lastCheckIn = Date.now();
    for (const host of hosts) {
      if (options.signal.aborted) return;
      try {
        if (checkIn) await host.checkIn();
        await host.work();
        failing.delete(host.name);
      } catch (error) {
        // Said once per outage, not once per poll.
        if (!failing.has(host.name)) options.log(`simulated host ${host.name}: ${error instanceof Error ? error.message : String(error)}`);
        failing.add(host.name);
      }
    }
    // Ends early on abort (the rejection says so; nothing more to do).
    await sleep(options.pollMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
