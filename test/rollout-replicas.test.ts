// Two real `fleetpatch server` replicas on one PostgreSQL drive one rollout of ten dpkg-root hosts
// with real agents, which reach them through a TCP load balancer (each connection to the next
// replica, skipping one that refuses). The replicas share the rollout through its lease (3 s
// here); mid-rollout the replica holding the lease is killed with SIGKILL, and the other takes the
// lease once it expires and finishes the rollout. Every host step runs exactly once: each host's
// own step log, its dpkg database, one job per step, the timeline walked once.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { apiOf, createTestFleet, expectEveryStepOnce, freePort, startAgents, STEPPED_BUCKET, startKillableServer, startLoadBalancer, type KillableServer, type LoadBalancer, type TestFleet } from './rollout-servers.js';
import { waitFor, type TestAgent } from './test-hosts.js';

const HOSTS = 10;
const LEASE_SECONDS = 3;
/** The takeover's bound: the lease, then a tick and a pass of the survivor, with room for a loaded machine. */
const TAKEOVER_BOUND_MS = LEASE_SECONDS * 1000 + 10_000;

describe('two replicas driving one rollout', () => {
  let database: TestDatabase;
  let fleet: TestFleet;
  let balancer: LoadBalancer;
  const replicas: KillableServer[] = [];
  const ports: number[] = [];
  let token = '';
  let agents: TestAgent[] = [];
  const api = apiOf(() => balancer.url, () => token);

  const start = (index: number) => startKillableServer({
    port: ports[index]!, home: join(fleet.directory, `replica-${index}`), logFile: join(fleet.directory, `replica-${index}.log`),
    env: { DATABASE_URL: database.connectionString, FLEETPATCH_ROLLOUT_LEASE_SECONDS: String(LEASE_SECONDS), FLEETPATCH_ROLLOUT_PASS_MS: '200' },
    args: ['--policy', fleet.policyFile, '--advisories', fleet.advisoriesDirectory],
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    fleet = createTestFleet('fleetpatch-replicas-', {
      hosts: HOSTS,
      bucket: STEPPED_BUCKET,
    });
    ports.push(await freePort(), await freePort());
    // The first replica migrates the database and prints the first start's secrets.
    replicas.push(await start(0));
    replicas.push(await start(1));
    token = replicas[0]!.firstStart!.adminToken;
    balancer = await startLoadBalancer(ports);
    const enrollment = await api<{ token: string }>('POST', '/api/v1/enrollment-tokens', { name: 'replicas', labels: { role: 'database' }, maxUses: HOSTS });
    agents = startAgents(fleet.hosts, () => balancer.url, enrollment.body.token);
    await waitFor('every host to check in', async () => (await database.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM hosts WHERE bucket = 'databases'")).rows[0]!.n === HOSTS, 90_000, 200);
    expect((await api('POST', '/api/v1/advisories/sync')).status).toBe(200);
  }, 180_000);

  afterAll(async () => {
    await Promise.all(agents.map((agent) => agent.stop()));
    await Promise.all(replicas.map((replica) => replica.stop()));
    await balancer?.close();
    await database?.drop();
  });

  it('carries on within the lease after the replica driving it is killed, each step once', async () => {
    const created = await api<{ id: number }>('POST', '/api/v1/rollouts', { bucket: 'databases', reason: 'DSA-9300-1, replicas' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    const row = async () => (await database.pool.query<{ state: string; lease_holder: string | null }>('SELECT state, lease_holder FROM rollouts WHERE id = $1', [id])).rows[0]!;
    const hostStates = async () => (await database.pool.query<{ state: string }>('SELECT state FROM rollout_hosts WHERE rollout_id = $1 ORDER BY position', [id])).rows.map((host) => host.state);

    // The lease holders over time, sampled every 100 ms.
    const holders: Array<{ at: number; holder: string | null }> = [];
    const began = Date.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { lease_holder: holder } = await row();
        if (holders.at(-1)?.holder !== holder) holders.push({ at: Date.now() - began, holder });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    // Mid-rollout: the first wave done, hosts of the second mid-step.
    const inFlight = new Set(['pre-check', 'applying', 'rebooting', 'awaiting-return', 'post-check', 'monitoring']);
    await waitFor('the second wave in flight', async () => {
      const states = await hostStates();
      return states.filter((state) => state === 'succeeded').length >= 1 && states.filter((state) => inFlight.has(state)).length >= 2;
    }, 90_000, 100);
    const driving = (await row()).lease_holder;
    const victim = replicas.find((replica) => replica.holder === driving);
    expect(victim, `lease holder ${driving}, replicas ${replicas.map((replica) => replica.holder).join(', ')}`).toBeDefined();
    const survivor = replicas.find((replica) => replica !== victim)!;
    const statesAtKill = await hostStates();
    const killedAt = Date.now();
    await victim!.kill();
    const takenOver = await waitFor('the survivor to take the lease', async () => (await row()).lease_holder === survivor.holder && Date.now(), TAKEOVER_BOUND_MS, 20);
    const takeoverMs = takenOver - killedAt;

    const final = await waitFor('the rollout to end', async () => {
      const current = await row();
      return ['succeeded', 'completed-with-errors', 'halted', 'canceled'].includes(current.state) ? current : undefined;
    }, 150_000, 200);
    sampling = false;
    await sampler;
    console.log(`replicas: killed ${victim!.holder} (lease holder) at ${((killedAt - began) / 1000).toFixed(1)} s with hosts ${statesAtKill.join(' ')}; ${survivor.holder} took the lease ${takeoverMs} ms later (lease ${LEASE_SECONDS} s); rollout ${final.state} after ${((Date.now() - began) / 1000).toFixed(1)} s; lease holders: ${holders.map((entry) => `${(entry.at / 1000).toFixed(1)} s ${entry.holder}`).join(', ')}; load balancer connections per replica: ${ports.map((port) => balancer.served.get(port) ?? 0).join(', ')}`);

    expect(final.state).toBe('succeeded');
    // Both replicas drove it: the victim before the kill, the survivor after.
    const seen = new Set(holders.map((entry) => entry.holder));
    expect(seen).toContain(victim!.holder);
    expect(seen).toContain(survivor.holder);
    expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);
    // Both served the agents before the kill.
    for (const port of ports) expect(balancer.served.get(port) ?? 0).toBeGreaterThan(0);

    await expectEveryStepOnce(database.pool, id, fleet.hosts, agents);
  }, 240_000);
});
