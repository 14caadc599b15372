// kill -9 soak of the rollout engine with real parts: a real `fleetpatch server` process on a real
// PostgreSQL, ten dpkg-root test hosts with real agent processes (pre-check, upgrade, reboot,
// post-check each). While the rollout runs the server is killed with SIGKILL at seeded random
// moments and started again on the same port (the agents keep their URL), at least 20 times.
// The rollout resumes and succeeds; each host's own step log shows every step exactly once, its
// dpkg database the target version, one reboot; no agent died; the server's timeline shows each
// host walk the in-place path once, no transition written twice.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TERMINAL_ROLLOUT_STATES } from '../src/domain/rollout/rollout-model.js';
import { seededRandom } from '../src/simulator/seeded-random.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { apiOf, createTestFleet, expectEveryStepOnce, freePort, IN_PLACE_PATH, startAgents, STEPPED_BUCKET, startKillableServer, type KillableServer, type TestFleet } from './rollout-servers.js';
import { waitFor, type TestAgent } from './test-hosts.js';

const HOSTS = 10;
const MIN_KILLS = 20;
const SEED = Number(process.env.FLEETPATCH_SOAK_SEED ?? 20_261_201);
/** Where the loop stops: a rollout's end, or a halt (which would wait for a person). */
const TERMINAL = new Set<string>([...TERMINAL_ROLLOUT_STATES, 'halted']);

describe('a rollout whose server is killed with SIGKILL again and again', () => {
  let database: TestDatabase;
  let fleet: TestFleet;
  let server: KillableServer | undefined;
  let port = 0;
  let token = '';
  let agents: TestAgent[] = [];
  const api = apiOf(() => server!.url, () => token);

  const start = async () => {
    server = await startKillableServer({
      port, home: join(fleet.directory, 'server'), logFile: join(fleet.directory, 'server.log'),
      // A short lease: a server started again holds another name, so it waits for its predecessor's lease.
      env: { DATABASE_URL: database.connectionString, FLEETPATCH_ROLLOUT_LEASE_SECONDS: '1', FLEETPATCH_ROLLOUT_PASS_MS: '200' },
      args: ['--policy', fleet.policyFile, '--advisories', fleet.advisoriesDirectory],
    });
    return server;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    fleet = createTestFleet('fleetpatch-kill-soak-', {
      hosts: HOSTS,
      bucket: STEPPED_BUCKET,
    });
    port = await freePort();
    token = (await start()).firstStart!.adminToken;
    const enrollment = await api<{ token: string }>('POST', '/api/v1/enrollment-tokens', { name: 'soak', labels: { role: 'database' }, maxUses: HOSTS });
    agents = startAgents(fleet.hosts, () => server!.url, enrollment.body.token);
    await waitFor('every host to check in', async () => (await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM hosts WHERE bucket = 'databases'")).rows[0]!.n === HOSTS, 90_000, 200);
    expect((await api('POST', '/api/v1/advisories/sync')).status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await server?.stop();
    await database?.drop();
  });

  it('resumes after every kill and runs each host step exactly once', async () => {
    const created = await api<{ id: number; draft: { snapshot: Array<{ name: string; version: string }> } }>('POST', '/api/v1/rollouts', { bucket: 'databases', reason: 'DSA-9300-1, kill soak' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.draft.snapshot).toEqual([{ name: 'fp-demo-lib', version: '1.1-1' }]);
    const id = created.body.id;
    const rolloutState = async () => (await database.pool.query<{ state: string }>('SELECT state FROM rollouts WHERE id = $1', [id])).rows[0]!.state;
    const hostStates = async () => (await database.pool.query<{ state: string }>('SELECT state FROM rollout_hosts WHERE rollout_id = $1 ORDER BY position', [id])).rows.map((row) => row.state);

    const random = seededRandom(SEED);
    const began = Date.now();
    const killedAt: string[] = [];
    const restarts: number[] = [];
    for (;;) {
      if (TERMINAL.has(await rolloutState())) break;
      const dead = fleet.hosts.filter((_, index) => agents[index]!.unexpectedExits().length > 0);
      if (dead.length > 0) throw new Error(`the agent of ${dead[0]!.name} died: ${agents[fleet.hosts.indexOf(dead[0]!)]!.log().slice(-1_500)}`);
      if (Date.now() - began > 300_000) throw new Error(`the rollout did not finish after ${killedAt.length} kills: ${(await hostStates()).join(' ')}`);
      // Up for a random while, so a kill may land anywhere (mid-pass, mid-long-poll, mid-report,
      // mid-reboot); short while the kills lag behind the hosts' progress (a kill per three host
      // transitions, so at least 20 however fast the machine: up to 2 s, the kills fell behind
      // a faster engine and the rollout ended after 19), longer while they are ahead.
      const progress = (await hostStates()).reduce((sum, state) => sum + Math.max(0, IN_PLACE_PATH.indexOf(state)), 0);
      const up = killedAt.length < progress / 3 + 3 ? 200 + random() * 800 : 1_500 + random() * 2_500;
      await sleep(up);
      killedAt.push(`after ${(up / 1000).toFixed(1)} s: ${(await hostStates()).map((state) => state.slice(0, 4)).join(' ')}`);
      await server!.kill();
      const restarting = Date.now();
      await start();
      restarts.push(Date.now() - restarting);
      console.log(`kill ${killedAt.length} ${killedAt.at(-1)}; up again in ${restarts.at(-1)} ms`);
    }
    const seconds = ((Date.now() - began) / 1000).toFixed(1);
    console.log(`kill soak (seed ${SEED}): ${killedAt.length} kills in ${seconds} s, restarts ${Math.min(...restarts)}–${Math.max(...restarts)} ms; host states at each kill:\n  ${killedAt.join('\n  ')}`);

    expect(await rolloutState()).toBe('succeeded');
    expect(killedAt.length).toBeGreaterThanOrEqual(MIN_KILLS);
    await expectEveryStepOnce(database.pool, id, fleet.hosts, agents);

    // How long the server took to act on each reported result, kills included (for the log).
    const reactions = await database.pool.query<{ key: string; seconds: number }>(
      `SELECT j.key, extract(epoch FROM (SELECT min(e.at) FROM rollout_events e WHERE e.rollout_id = j.rollout_id AND e.host = j.host AND e.kind = 'host' AND e.at >= j.reported_at) - j.reported_at)::float AS seconds
         FROM rollout_jobs j WHERE j.rollout_id = $1 ORDER BY seconds DESC NULLS FIRST LIMIT 3`,
      [id],
    );
    console.log(`slowest reactions to a reported result: ${reactions.rows.map((row) => `${row.key} ${row.seconds?.toFixed(1)} s`).join(', ')}`);
  }, 360_000);
});
