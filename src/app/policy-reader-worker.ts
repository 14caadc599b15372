/**
 * The worker thread behind `workerPolicyReader`: parses and checks policy texts, and diffs them,
 * away from the server's event loop (a 500-bucket file takes longer than a check-in may wait).
 */
import { parentPort } from 'node:worker_threads';
import { judgePolicy } from '../domain/policy/policy-report.js';
import { unifiedPolicyDiff } from './policy-diff.js';

type Request = { id: number; kind: 'judge'; text: string; now: number } | { id: number; kind: 'diff'; before: string; after: string; beforeLabel: string; afterLabel: string };

parentPort!.on('message', (request: Request) => {
  try {
    parentPort!.postMessage(request.kind === 'judge'
      ? { id: request.id, result: judgePolicy(request.text, { now: new Date(request.now) }) }
      : { id: request.id, result: unifiedPolicyDiff(request.beforeLabel, request.afterLabel, request.before, request.after) });
  } catch (error) {
    parentPort!.postMessage({ id: request.id, failure: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
