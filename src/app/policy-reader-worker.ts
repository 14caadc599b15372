/**
 * The worker thread behind `workerPolicyReader`: parses and checks policy texts, diffs them, and
 * re-assigns the stored hosts after a change, away from the server's event loop (a 500-bucket
 * file, or 100,000 hosts matched against it, takes longer than a check-in may wait).
 */
import { parentPort } from 'node:worker_threads';
import { judgePolicy, type PolicyJudgement } from '../domain/policy/policy-report.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { lowerThreadPriority } from './background-priority.js';
import { reassignStoredHosts } from './host-reassignment.js';
import { unifiedPolicyDiff } from './policy-diff.js';
import { policyOf, type WorkerMessage } from './policy-reader.js';

// Parsing, checking and matching take hundreds of milliseconds: the event loop that serves check-ins comes first.
lowerThreadPriority();

type Request =
  | { id: number; kind: 'judge'; text: string; now: number }
  | { id: number; kind: 'diff'; before: string; after: string; beforeLabel: string; afterLabel: string }
  | { id: number; kind: 'reassign'; connectionString: string; text: string };

/** About 20 KB a message: each is read on the server's event loop in well under a millisecond. */
const BUCKETS_PER_MESSAGE = 25;

/** The last text judged readable and its policy: a re-assignment follows the judgement of the same text. */
let lastRead: { text: string; policy: Policy } | undefined;

async function answer(request: Request): Promise<unknown> {
  switch (request.kind) {
    case 'judge': {
      const judgement = judgePolicy(request.text, { now: new Date(request.now) });
      if (judgement.policy) lastRead = { text: request.text, policy: judgement.policy };
      return judgement;
    }
    case 'diff':
      return unifiedPolicyDiff(request.beforeLabel, request.afterLabel, request.before, request.after);
    case 'reassign':
      return reassignStoredHosts(request.connectionString, lastRead?.text === request.text ? lastRead.policy : policyOf(request.text));
  }
}

const post = (message: WorkerMessage) => parentPort!.postMessage(message);

/** A judgement's buckets go ahead of it in slices, so no single message takes long to read. */
function postAnswer(id: number, result: unknown): void {
  const policy = (result as PolicyJudgement | undefined)?.policy;
  if (!policy || policy.buckets.length <= BUCKETS_PER_MESSAGE) return post({ id, result });
  for (let start = 0; start < policy.buckets.length; start += BUCKETS_PER_MESSAGE) post({ id, buckets: policy.buckets.slice(start, start + BUCKETS_PER_MESSAGE) });
  post({ id, result: { ...(result as PolicyJudgement), policy: { ...policy, buckets: [] } }, chunked: true });
}

parentPort!.on('message', (request: Request) => {
  answer(request).then(
    (result) => postAnswer(request.id, result),
    (error: unknown) => post({ id: request.id, failure: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});
