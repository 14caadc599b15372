/**
 * Judges policy texts for the server without blocking it: parsing and checking a 500-bucket
 * policy takes hundreds of milliseconds of CPU, and a check-in must never wait more than 20 ms,
 * so the work runs on a worker thread and only the parsed result crosses back (structured clone).
 * The CLI, which has nothing else to serve, judges in line.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BugError } from '../domain/errors.js';
import { judgePolicy, type PolicyJudgement } from '../domain/policy/policy-report.js';

export interface PolicyReader {
  judge(text: string, now: Date): Promise<PolicyJudgement>;
  close(): Promise<void>;
}

/** Judges on the calling thread (the CLI, tests). */
export const inlinePolicyReader: PolicyReader = {
  judge: async (text, now) => judgePolicy(text, { now }),
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
  const pending = new Map<number, { resolve: (judgement: PolicyJudgement) => void; reject: (error: Error) => void }>();

  const start = (): Worker => {
    // Built, the worker is a plain .js file. From source (tsx, vitest) it is a .ts file, and a
    // worker's entry is loaded before `--import` hooks apply: the worker registers tsx itself first.
    const fromSource = extname(fileURLToPath(import.meta.url)) === '.ts';
    const entry = new URL(`./policy-reader-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);
    const started = fromSource
      ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { eval: true })
      : new Worker(entry);
    started.unref();
    started.on('message', (message: { id: number; judgement?: PolicyJudgement; failure?: string }) => {
      const request = pending.get(message.id);
      if (!request) return;
      pending.delete(message.id);
      if (message.judgement) request.resolve(message.judgement);
      else request.reject(new BugError(`judging a policy failed in the worker: ${message.failure}`));
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

  return {
    judge(text, now) {
      worker ??= start();
      const id = nextId++;
      const target = worker;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        target.postMessage({ id, text, now: now.getTime() });
      });
    },
    async close() {
      const stopping = worker;
      worker = undefined;
      if (stopping) await stopping.terminate();
    },
  };
}
