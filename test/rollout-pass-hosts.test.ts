// What one pass of the rollout engine reads, on a real PostgreSQL: the hosts with news (a job
// result, a check-in of a host in flight) until a pass has seen that news, the states that move on
// their own, the pending hosts admission can take, each kind cut at the pass's bite size; news
// that arrives while a pass runs is read by the next pass, never lost.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RolloutSettings } from '../src/domain/rollout/rollout-model.js';
import type { JobResult } from '../src/protocol/job-protocol.js';
import { fetchHostJobs, insertRollout, loadPassHosts, lockForPass, recordJobResult, recordJobResults, requestHostPasses, writePass, type StoredRollout } from '../src/store/rollout-store.js';
import { withTransaction } from '../src/store/transaction.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const NOW = new Date('2026-12-02T03:00:00Z');
const HOSTS = 600;

const SETTINGS: RolloutSettings = {
  maxInFlight: HOSTS, errorBudget: 10, soakMs: 0, promotion: 'automatic', preChecks: [], postChecks: [],
  reboot: { policy: 'never', timeoutMs: 300_000, onTimeout: 'page' }, rollback: { automatic: true, commands: [], timeoutMs: 600_000 },
  expectedHostMs: 60_000, staleAfterMs: 3_600_000,
};

const RESULT: JobResult = { outcome: 'succeeded', exitCode: 0, output: 'done\n', replaced: [], startedAt: NOW.toISOString(), finishedAt: NOW.toISOString() };

describe('the hosts a pass reads', () => {
  let database: TestDatabase;
  let rollout: StoredRollout;
  const name = (index: number) => `web-${String(index).padStart(3, '0')}`;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database.drop());

  beforeEach(async () => {
    await database.pool.query('TRUNCATE rollout_events, rollout_jobs, rollout_hosts, rollouts CASCADE');
    const id = await withTransaction(database.pool, (client) => insertRollout(client, {
      bucket: 'web', team: 'sre', waveCount: 1, snapshot: [{ name: 'libfp1', version: '1.1-1' }], settings: SETTINGS, gates: [], windows: [], origin: 'operator', createdBy: 'test',
      hosts: Array.from({ length: HOSTS }, (_, index) => ({ host: name(index), wave: 1 })),
    }, NOW));
    await database.pool.query("UPDATE rollouts SET state = 'running', current_wave = 1, lease_holder = 'test', lease_expires_at = $2 WHERE id = $1", [id, new Date(NOW.getTime() + 60_000)]);
    rollout = (await withTransaction(database.pool, (client) => lockForPass(client, id!, 'test', NOW)))!;
  });

  /** Puts hosts in a step with an unreported job each. */
  async function inStep(indexes: number[], state: string): Promise<void> {
    for (const index of indexes) {
      const key = `${rollout.id}:${name(index)}:upgrade:1`;
      await database.pool.query("INSERT INTO rollout_jobs (key, rollout_id, host, step, attempt, job, dispatched_at, deadline) VALUES ($1, $2, $3, 'upgrade', 1, '{}', $4, $5)", [key, rollout.id, name(index), NOW, new Date(NOW.getTime() + 3_600_000)]);
      await database.pool.query('UPDATE rollout_hosts SET state = $3, slot_held = true, job_key = $4, deadline = $5 WHERE rollout_id = $1 AND host = $2', [rollout.id, name(index), state, key, new Date(NOW.getTime() + 3_600_000)]);
    }
  }
  const read = (maxHosts = 250) => loadPassHosts(database.pool, rollout, NOW, { maxHosts });
  /** A pass that changes nothing: it only marks what it read as seen. */
  const nothingDecided = (passHosts: Awaited<ReturnType<typeof read>>) => withTransaction(database.pool, (client) => writePass(client, rollout, { hosts: [], events: [] }, passHosts, NOW, NOW));
  const names = (passHosts: Awaited<ReturnType<typeof read>>) => passHosts.hosts.map((host) => host.name);

  it('reads a job result until a pass has seen it, and a check-in of that host again', async () => {
    await inStep([5, 6, 7], 'applying');
    // Waiting for their agents, the three are counted, not read; the pending ones admission can take are read.
    const before = await read();
    expect(names(before).filter((host) => ['web-005', 'web-006', 'web-007'].includes(host))).toEqual([]);
    expect(before.others.slotsHeld).toBe(3);

    expect(await recordJobResult(database.pool, name(6), `${rollout.id}:${name(6)}:upgrade:1`, RESULT, NOW)).toEqual({ recorded: true, rolloutId: rollout.id });
    const withResult = await read();
    expect(names(withResult)).toContain('web-006');
    expect(withResult.hosts.find((host) => host.name === 'web-006')!.job!.result).toMatchObject({ outcome: 'succeeded' });
    await nothingDecided(withResult);
    // Seen: a pass that cannot act on it (the check-in with the new versions has not come) does not read it again…
    expect(names(await read())).not.toContain('web-006');
    // …until the host checks in.
    await requestHostPasses(database.pool, [name(6)]);
    expect(names(await read())).toContain('web-006');
    // A second report of the same result is no news.
    expect(await recordJobResult(database.pool, name(6), `${rollout.id}:${name(6)}:upgrade:1`, RESULT, NOW)).toEqual({ recorded: false, rolloutId: rollout.id });
  });

  it('records a batch of results as one report each would: the first of two reports of a key, none of a key the host lacks', async () => {
    await inStep([2, 3], 'applying');
    const key = (index: number) => `${rollout.id}:${name(index)}:upgrade:1`;
    const failed: JobResult = { ...RESULT, outcome: 'failed', exitCode: 1 };
    // Fetched in one look: each host its own job, none for a host without one.
    const looked = await fetchHostJobs(database.pool, [name(2), name(3), name(4)], NOW);
    expect([...looked.keys()].sort()).toEqual([name(2), name(3)]);
    const answers = await recordJobResults(database.pool, [
      { host: name(2), key: key(2), result: RESULT, at: NOW },
      { host: name(2), key: key(2), result: failed, at: NOW },
      { host: name(3), key: key(2), result: RESULT, at: NOW },
      { host: name(3), key: key(3), result: failed, at: NOW },
    ]);
    expect(answers).toEqual([{ recorded: true, rolloutId: rollout.id }, { recorded: false, rolloutId: rollout.id }, undefined, { recorded: true, rolloutId: rollout.id }]);
    const withResults = await read();
    expect(withResults.hosts.find((host) => host.name === name(2))!.job!.result).toMatchObject({ outcome: 'succeeded' });
    expect(withResults.hosts.find((host) => host.name === name(3))!.job!.result).toMatchObject({ outcome: 'failed' });
    // Reported jobs are no longer handed out.
    expect((await fetchHostJobs(database.pool, [name(2), name(3)], NOW)).size).toBe(0);
  });

  it('records a check-in\'s news at once, even of a host whose row a pass holds, for the pass that reads it', async () => {
    await inStep([3, 4], 'applying');
    const pass = await database.pool.connect();
    try {
      await pass.query('BEGIN');
      await pass.query('SELECT 1 FROM rollout_hosts WHERE rollout_id = $1 AND host = $2 FOR UPDATE', [rollout.id, name(3)]);
      // Waits for nothing: both hosts in flight get their news, the pending one none; one rollout is told.
      expect(await requestHostPasses(database.pool, [name(3), name(4), name(5)])).toBe(1);
      const next = await read();
      expect(names(next).filter((host) => [name(3), name(4)].includes(host))).toEqual([name(3), name(4)]);
      expect([...next.news.keys()].sort()).toEqual([name(3), name(4)]);
      await pass.query('COMMIT');
    } finally {
      pass.release();
    }
  });

  it('keeps news that arrives while a pass runs for the next pass', async () => {
    await inStep([1], 'applying');
    await requestHostPasses(database.pool, [name(1)]);
    const during = await read();
    expect(names(during)).toContain('web-001');
    // The result lands after this pass read the host and before it wrote.
    await recordJobResult(database.pool, name(1), `${rollout.id}:${name(1)}:upgrade:1`, RESULT, NOW);
    await nothingDecided(during);
    const next = await read();
    expect(names(next)).toContain('web-001');
    expect(next.hosts.find((host) => host.name === 'web-001')!.job!.result).toBeDefined();
    await nothingDecided(next);
    expect(names(await read())).not.toContain('web-001');
  });

  it('takes a large wave in bites: hosts in a step first, then those moving on their own, admissions last, and says more are left', async () => {
    await database.pool.query("UPDATE rollout_hosts SET state = 'notified', slot_held = true WHERE rollout_id = $1 AND position BETWEEN 2 AND 300", [rollout.id]);
    await inStep([450], 'applying');
    await requestHostPasses(database.pool, [name(450)]);
    const bite = await read(100);
    expect(bite.more).toBe(true);
    expect(bite.hosts).toHaveLength(100);
    // The host with news, then the first 99 notified ones in admission order; no admission this bite.
    expect(names(bite)).toEqual([...Array.from({ length: 99 }, (_, index) => name(index + 1)), 'web-450']);
    expect(bite.hosts.filter((host) => host.state === 'pending')).toEqual([]);
    // The rest are counted: every host is somewhere.
    expect(bite.others.slotsHeld).toBe(300 - 100);
    expect(bite.others.unfinishedByWave.get(1)).toBe(HOSTS - 100);
    // A bite that holds every candidate says no more are left.
    await database.pool.query("UPDATE rollout_hosts SET state = 'succeeded', slot_held = false WHERE rollout_id = $1 AND position > 21", [rollout.id]);
    const last = await read(100);
    expect(last.more).toBe(false);
    // web-450 finished meanwhile; its news, never seen, is read once.
    expect(names(last)).toEqual(['web-000', ...Array.from({ length: 20 }, (_, index) => name(index + 1)), 'web-450']);
  });

  it('reads the next wave\'s pending hosts only while the rollout bakes, the pass that can promote and admit them', async () => {
    await database.pool.query('UPDATE rollout_hosts SET wave = 2 WHERE rollout_id = $1 AND position > 300', [rollout.id]);
    await database.pool.query("UPDATE rollout_hosts SET state = 'succeeded' WHERE rollout_id = $1 AND position BETWEEN 11 AND 300", [rollout.id]);
    const waves = (passHosts: Awaited<ReturnType<typeof read>>) => [...new Set(passHosts.hosts.filter((host) => host.state === 'pending').map((host) => host.wave))];
    // Running wave 1: its ten pending hosts, none of wave 2, which no pass of this wave can admit.
    const running = await read();
    expect(waves(running)).toEqual([1]);
    expect(running.hosts.filter((host) => host.state === 'pending')).toHaveLength(10);
    expect(running.more).toBe(false);
    expect(running.others.unfinishedByWave.get(2)).toBe(HOSTS - 300);
    // Baking after wave 1: the bite's room goes to wave 2.
    await database.pool.query("UPDATE rollout_hosts SET state = 'succeeded' WHERE rollout_id = $1 AND position <= 10", [rollout.id]);
    const baking = await loadPassHosts(database.pool, { ...rollout, state: 'baking' }, NOW, { maxHosts: 250 });
    expect(waves(baking)).toEqual([2]);
    expect(baking.hosts).toHaveLength(250);
  });

  it('reads a host whose deadline has passed, without news', async () => {
    await inStep([9], 'applying');
    await database.pool.query('UPDATE rollout_hosts SET deadline = $3 WHERE rollout_id = $1 AND host = $2', [rollout.id, name(9), new Date(NOW.getTime() - 1)]);
    const late = await read();
    expect(names(late)).toContain('web-009');
    expect(late.news.has('web-009')).toBe(false);
  });
  it('counts every host where it is, through every statement that changes hosts', async () => {
    const truth = async () => (await database.pool.query('SELECT rollout_id, wave, state, slot_held, count(*)::int AS n FROM rollout_hosts GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4')).rows;
    const kept = async () => (await database.pool.query('SELECT rollout_id, wave, state, slot_held, n FROM rollout_host_counts WHERE n > 0 ORDER BY 1, 2, 3, 4')).rows;
    expect(await kept()).toEqual([{ rollout_id: rollout.id, wave: 1, state: 'pending', slot_held: false, n: HOSTS }]);
    await inStep([1, 2, 3, 4], 'applying');
    // News alone (a result, a check-in) moves no count.
    await recordJobResult(database.pool, name(1), `${rollout.id}:${name(1)}:upgrade:1`, RESULT, NOW);
    await requestHostPasses(database.pool, [name(2), name(3)]);
    const passHosts = await read();
    await withTransaction(database.pool, (client) => writePass(client, rollout, {
      hosts: [
        { name: name(1), from: 'applying', to: 'post-check', patch: {} },
        { name: name(2), from: 'applying', to: 'failed', patch: { lastError: 'exit 1' } },
        { name: name(3), from: 'applying', to: 'succeeded', patch: { slotHeld: false } },
      ],
      events: [],
    }, passHosts, NOW, NOW));
    await database.pool.query("UPDATE rollout_hosts SET wave = 2 WHERE rollout_id = $1 AND position > 500", [rollout.id]);
    await database.pool.query('DELETE FROM rollout_hosts WHERE rollout_id = $1 AND position > 590', [rollout.id]);
    await withTransaction(database.pool, (client) => insertRollout(client, {
      bucket: 'db', team: 'dba', waveCount: 1, snapshot: [], settings: SETTINGS, gates: [], windows: [], origin: 'operator', createdBy: 'test', hosts: [{ host: name(1), wave: 1 }],
    }, NOW));
    expect(await kept()).toEqual(await truth());
    expect((await truth()).find((row) => row.state === 'failed')).toMatchObject({ n: 1, slot_held: true });
  });
});
