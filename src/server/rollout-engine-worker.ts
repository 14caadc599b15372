/**
 * The worker thread behind `startEngineThread`: the rollout engine on an event loop of its own,
 * with its own connections (two for passes, one for LISTEN) and its own view of the policy in
 * force, read from the database and followed by notification as every replica's is. Only counts,
 * timings and log lines cross back to the main thread.
 */
import pg from 'pg';
import { parentPort, workerData } from 'node:worker_threads';
import { inlinePolicyReader } from '../app/policy-reader.js';
import { PolicyInForce } from '../app/policy-service.js';
import { listenForChanges } from '../store/change-notifications.js';
import { startEngineHere, type EngineReports, type EngineWorkerData, type EngineWorkerMessage } from './rollout-engine-thread.js';

const { connectionString, settings } = workerData as EngineWorkerData;
const send = (message: EngineWorkerMessage) => parentPort!.postMessage(message);
const reports: EngineReports = {
  committed: (pass) => send({ kind: 'committed', pass }),
  timed: (ms, transitions, phases) => send({ kind: 'timed', ms, transitions, phases }),
  log: (message) => send({ kind: 'log', message }),
};

const pool = new pg.Pool({ connectionString, max: 3, application_name: 'fleetpatch-rollouts', keepAlive: true });
// A connection that breaks (a database restart) is dropped; the next pass reports the problem and the one after retries.
pool.on('error', () => undefined);
const changes = await listenForChanges(pool, { log: reports.log });
// The main thread's own PolicyInForce logs each revision it adopts; this one would say it again.
const policy = new PolicyInForce(pool, inlinePolicyReader, () => undefined);
policy.follow(changes);
await policy.refresh();
const engine = startEngineHere(settings, reports, { pool, changes, policy: () => policy.current.policy, now: () => new Date() });

parentPort!.on('message', (message: { kind: 'stop' }) => {
  if (message.kind !== 'stop') return;
  void (async () => {
    await engine.stop();
    await changes.close();
    await pool.end();
    send({ kind: 'stopped' });
  })();
});
