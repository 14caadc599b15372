/**
 * The worker thread behind `workerPolicyReader`: parses and checks policy texts away from the
 * server's event loop (a 500-bucket file takes longer than a check-in may wait).
 */
import { parentPort } from 'node:worker_threads';
import { judgePolicy } from '../domain/policy/policy-report.js';

parentPort!.on('message', (request: { id: number; text: string; now: number }) => {
  try {
    parentPort!.postMessage({ id: request.id, judgement: judgePolicy(request.text, { now: new Date(request.now) }) });
  } catch (error) {
    parentPort!.postMessage({ id: request.id, failure: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
