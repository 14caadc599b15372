/**
 * Judges (and diffs) policy texts for the server without blocking it: parsing and checking a 500-bucket
 * policy takes hundreds of milliseconds of CPU, and a check-in must never wait more than 20 ms,
 * so the work runs on a worker thread and only the parsed result crosses back (structured clone),
 * its buckets a few dozen at a time: each message is read in a task of its own, so a 500-bucket
 * policy's half megabyte never holds the event loop for longer than a slice. Re-assigning the
 * stored hosts after a change (reading 100,000 rows, matching each against the buckets) runs there
 * too, on the worker's own connection, from the text (the worker keeps what it last parsed), so the
 * policy is not copied back. The CLI, which has nothing else to serve, does it all in line.
 */
import type { Worker } from 'node:worker_threads';
import { BugError } from '../domain/errors.js';
import { readPolicy } from '../domain/policy/policy-document.js';
import { judgePolicy, type PolicyJudgement } from '../domain/policy/policy-report.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { startModuleWorker } from './module-worker.js';
import { reassignStoredHosts } from './host-reassignment.js';
import { unifiedPolicyDiff } from './policy-diff.js';

export interface PolicyReader {
  judge(text: string, now: Date): Promise<PolicyJudgement>;
  /** The unified diff between two revisions' texts (two unrelated large texts take a while). */
  diff(beforeLabel: string, afterLabel: string, before: string, after: string): Promise<string>;
  /** Gives every stored host of the database at `connectionString` the bucket and team the policy `text` says (a text that reads). */
  reassign(connectionString: string, text: string): Promise<{ hosts: number; moved: number }>;
  close(): Promise<void>;
}

/** What the worker posts: a judgement's buckets in slices, then the answer (`chunked`: its buckets came before it). */
export type WorkerMessage =
  | { id: number; buckets: Policy['buckets'] }
  | { id: number; result: unknown; chunked?: boolean }
  | { id: number; failure: string };

/** The policy a text that was judged readable gives. */
export function policyOf(text: string): Policy {
  const reading = readPolicy(text);
  if (!reading.ok) throw new BugError(`a policy text that was judged readable does not read: ${reading.problems[0]?.message ?? 'no detail'}`);
  return reading.policy;
}

/** Works on the calling thread (the CLI, tests). */
export const inlinePolicyReader: PolicyReader = {
  judge: async (text, now) => judgePolicy(text, { now }),
  diff: async (beforeLabel, afterLabel, before, after) => unifiedPolicyDiff(beforeLabel, afterLabel, before, after),
  reassign: (connectionString, text) => reassignStoredHosts(connectionString, policyOf(text)),
  close: async () => undefined,
};

/**
 * One worker, started on first use and kept (judgements are rare; starting costs ~50 ms). Requests
 * are answered in order; a worker that dies fails its pending requests and is started afresh.
 *
 * @example const reader = workerPolicyReader(); const { policy, issues } = await reader.judge(text, new Date());
 */
export function workerPolicyReader(): PolicyReader {
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve: (result: never) => void; reject: (error: Error) => void; buckets: Policy['buckets'] }>();

  const start = (): Worker => {
    const started = startModuleWorker(new URL('./policy-reader-worker', import.meta.url), import.meta.url);
    started.unref();
    started.on('message', (message: WorkerMessage) => {
      const request = pending.get(message.id);
      if (!request) return;
      if ('buckets' in message) {
        request.buckets.push(...message.buckets);
        return;
      }
      pending.delete(message.id);
      if ('failure' in message) return request.reject(new BugError(`the policy worker failed: ${message.failure}`));
      const result = message.result as { policy?: Policy } | undefined;
      if (message.chunked && result?.policy) result.policy.buckets = request.buckets;
      request.resolve(result as never);
    });
    const fail = (error: Error) => {
      if (worker === started) worker = undefined;
      for (const request of pending.values()) request.reject(error);
      pending.clear();
    };
    started.on('error', fail);
    started.on('exit', (code) => fail(new BugError(`the policy worker exited with status ${code}`)));
    return started;
  };

  const ask = <T>(request: Record<string, unknown>): Promise<T> => {
    worker ??= start();
    const id = nextId++;
    const target = worker;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (result: never) => void, reject, buckets: [] });
      target.postMessage({ ...request, id });
    });
  };
  return {
    judge: (text, now) => ask<PolicyJudgement>({ kind: 'judge', text, now: now.getTime() }),
    diff: (beforeLabel, afterLabel, before, after) => ask<string>({ kind: 'diff', beforeLabel, afterLabel, before, after }),
    reassign: (connectionString, text) => ask<{ hosts: number; moved: number }>({ kind: 'reassign', connectionString, text }),
    async close() {
      const stopping = worker;
      worker = undefined;
      if (stopping) await stopping.terminate();
    },
  };
}
