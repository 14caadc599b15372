// The agents' job long poll on a real PostgreSQL: a waiting poll is woken by the notification of
// its host's new job, by the listening connection breaking (notifications may have been missed),
// and by the agent going away; it never waits out its time while a job is there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutSettings } from '../src/domain/rollout/rollout-model.js';
import { jobLongPoll } from '../src/server/job-long-poll.js';
import { listenForChanges, notifyChange, type ChangeListener } from '../src/store/change-notifications.js';
import { insertRollout } from '../src/store/rollout-store.js';
import { withTransaction } from '../src/store/transaction.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { waitFor } from './test-hosts.js';

const NOW = new Date('2026-12-02T03:00:00Z');
const SETTINGS: RolloutSettings = {
  maxInFlight: 1, errorBudget: 0, soakMs: 0, promotion: 'automatic', preChecks: [], postChecks: [],
  reboot: { policy: 'never', timeoutMs: 300_000, onTimeout: 'page' }, rollback: { automatic: false, commands: [], timeoutMs: 600_000 },
  expectedHostMs: 60_000, staleAfterMs: 3_600_000,
};
/** Longer than the tests here may take (and than the poll's 30 s safety look): a poll that returns was woken. */
const WAIT_MS = 120_000;
const WOKEN = { timeout: 15_000 };

describe('the job long poll', () => {
  let database: TestDatabase;
  let listener: ChangeListener;
  let rolloutId: number;
  beforeAll(async () => {
    database = await createTestDatabase();
    listener = await listenForChanges(database.pool, { retryMs: 50 });
    rolloutId = (await withTransaction(database.pool, (client) => insertRollout(client, {
      bucket: 'db', team: 'dba', waveCount: 1, snapshot: [], settings: SETTINGS, gates: [], windows: [], origin: 'operator', createdBy: 'test', hosts: [{ host: 'db-1', wave: 1 }, { host: 'db-2', wave: 1 }],
    }, NOW)))!;
  });
  afterAll(async () => {
    await listener?.close();
    await database?.drop();
  });

  const dispatch = (host: string, step: string) => database.pool.query(
    "INSERT INTO rollout_jobs (key, rollout_id, host, step, attempt, job, dispatched_at, deadline) VALUES ($1, $2, $3, $4, 1, jsonb_build_object('key', $1::text), $5, $5)",
    [`${rolloutId}:${host}:${step}:1`, rolloutId, host, step, NOW],
  );

  it('wakes on the notification of the host\'s job', WOKEN, async () => {
    const polls = jobLongPoll(database.pool, listener, () => NOW);
    await waitFor('the listener', async () => listener.listening, 5_000, 20);
    const waiting = polls.next('db-1', WAIT_MS);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await dispatch('db-1', 'pre-check');
    await notifyChange(database.pool, 'fleetpatch_jobs', 'db-2\ndb-1');
    expect(await waiting).toEqual({ key: `${rolloutId}:db-1:pre-check:1` });
  });

  it('looks again when the listening connection breaks, so a notification missed meanwhile costs no job', WOKEN, async () => {
    const polls = jobLongPoll(database.pool, listener, () => NOW);
    const waiting = polls.next('db-2', WAIT_MS);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Written without a notification, as if it had been sent while nobody listened.
    await dispatch('db-2', 'upgrade');
    await database.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()");
    expect(await waiting).toEqual({ key: `${rolloutId}:db-2:upgrade:1` });
    await waitFor('the listener to come back', async () => listener.listening, 10_000, 20);
  });

  it('answers nothing once the agent has gone away', async () => {
    const polls = jobLongPoll(database.pool, listener, () => NOW);
    const gone = new AbortController();
    const waiting = polls.next('db-3', WAIT_MS, gone.signal);
    setTimeout(() => gone.abort(), 100);
    expect(await waiting).toBeUndefined();
  });
});
