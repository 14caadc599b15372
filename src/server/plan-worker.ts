/**
 * The worker thread behind `workerPlanRunner`: its own small pool, its own plan cache, and only the
 * bounded views crossing back to the server's event loop.
 */
import pg from 'pg';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../app/background-priority.js';
import { planOperations } from './plan-runner.js';

// Planning is seconds of CPU: the event loop that serves check-ins comes first.
lowerThreadPriority();

const { connectionString, staleAfterSeconds } = workerData as { connectionString: string; staleAfterSeconds: number };
const pool = new pg.Pool({ connectionString, max: 2, application_name: 'fleetpatch-planner' });
// A connection that breaks (a database restart) is dropped; the next plan reports the problem.
pool.on('error', () => undefined);
const operations = planOperations(pool, { staleAfterSeconds });

type Request = { id: number; operation: 'view' | 'explain' | 'drift' | 'whatIf' | 'close'; args: unknown[] };

parentPort!.on('message', (request: Request) => {
  if (request.operation === 'close') {
    void pool.end();
    return;
  }
  const operation = operations[request.operation] as (...args: unknown[]) => Promise<unknown>;
  operation(...request.args).then(
    (result) => parentPort!.postMessage({ id: request.id, result }),
    (error: unknown) => {
      const { message, stack, code } = error instanceof Error ? (error as Error & { code?: unknown }) : { message: String(error), stack: undefined, code: undefined };
      parentPort!.postMessage({ id: request.id, failure: { message, ...(stack ? { stack } : {}), ...(typeof code === 'string' ? { code } : {}) } });
    },
  );
});
