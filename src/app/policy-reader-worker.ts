/**
 * The worker thread behind `workerPolicyReader`: parses and checks policy texts, diffs them, and
 * re-assigns the stored hosts after a change, away from the server's event loop (a 500-bucket
 * file, or 100,000 hosts matched against it, takes longer than a check-in may wait).
 */
import { parentPort } from 'node:worker_threads';
import { judgePolicy } from '../domain/policy/policy-report.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { lowerThreadPriority } from './background-priority.js';
import { reassignStoredHosts } from './host-reassignment.js';
import { unifiedPolicyDiff } from './policy-diff.js';

// Parsing, checking and matching take hundreds of milliseconds: the event loop that serves check-ins comes first.
lowerThreadPriority();

type Request =
  | { id: number; kind: 'judge'; text: string; now: number }
  | { id: number; kind: 'diff'; before: string; after: string; beforeLabel: string; afterLabel: string }
  | { id: number; kind: 'reassign'; connectionString: string; policy: Policy };

async function answer(request: Request): Promise<unknown> {
  switch (request.kind) {
    case 'judge':
      return judgePolicy(request.text, { now: new Date(request.now) });
    case 'diff':
      return unifiedPolicyDiff(request.beforeLabel, request.afterLabel, request.before, request.after);
    case 'reassign':
      return reassignStoredHosts(request.connectionString, request.policy);
  }
}

parentPort!.on('message', (request: Request) => {
  answer(request).then(
    (result) => parentPort!.postMessage({ id: request.id, result }),
    (error: unknown) => parentPort!.postMessage({ id: request.id, failure: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
