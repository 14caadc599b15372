/**
 * Executors that run a rollout's jobs from where the server runs, for hosts the agent's pull does
 * not reach: over SSH, through the operator's own command hook (the seed's `patch-host.sh`), or
 * against the Kubernetes API (cordon, drain, uncordon). The server's job worker
 * (`src/app/job-worker.ts`) leases a job row, marks it started, calls `run` and records the result
 * through the same path as an agent's report; the state machine never knows which executor ran it.
 *
 * Exactly once: a job key is run at most once per host. An executor that acts on a host keeps a
 * journal there (SSH: a file per key under the host's state directory) or, where that is not
 * possible, says so with `resumable`: a resumable step (cordon, drain, uncordon, a check) is safe
 * to run again after a crash; any other key found started without a result answers `interrupted`.
 */
import type { HostJob, JobResult } from '../protocol/job-protocol.js';

/** The host a job is for, as fleetpatch knows it. */
export interface ExecutorTarget {
  /** The host's name in fleetpatch (a Kubernetes node's name, an SSH host's name). */
  name: string;
  labels: Readonly<Record<string, string>>;
  rolloutId: number;
  bucket: string;
}

/**
 * A host's facts read by an executor, as raw texts the server parses with the same parsers as an
 * agent's inventory: what an agentless host's "check-in" is made of.
 */
export interface RemoteFacts {
  hostname: string;
  /** The text of /etc/os-release. */
  osRelease: string;
  packageDatabase: { format: 'dpkg-status' | 'apk' | 'rpm'; text: string };
  bootId?: string;
  runningKernel?: string;
  rebootRequired: boolean;
}

export interface ExecutedStep {
  /** `result.details` carries what the state machine keeps (a cordon: whether it cordoned the node). */
  result: JobResult;
  /** The host after the step, for hosts without an agent: recorded as a check-in before the result. */
  facts?: RemoteFacts;
}

export interface StepContext {
  /** Aborted when the worker loses its lease or stops: the step ends as soon as it safely can. */
  signal: AbortSignal;
  log(message: string): void;
  /** When the job was first started (a resumed drain keeps counting its stuck time from here). */
  firstStartedAt: Date;
  now(): Date;
}

export interface Executor {
  /** The `executor` a job row names: `ssh`, `command-hook`, `kubernetes`. */
  readonly kind: string;
  /** Steps safe to run again when a job was started and its holder died before the result. */
  readonly resumable: ReadonlySet<HostJob['step']>;
  /** Runs `job` on `target` once and reports how it went; a failure is a result, never a throw. */
  run(job: HostJob, target: ExecutorTarget, context: StepContext): Promise<ExecutedStep>;
}
