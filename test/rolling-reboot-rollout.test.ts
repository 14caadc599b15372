// The rolling reboot end to end, on a simulated 20-node cluster: the in-test Kubernetes API server
// (test/support/kube-api-server.ts; there is no kube-apiserver here, the official client talks to
// it) with a Deployment-like ReplicaSet spread over the nodes, a DaemonSet and PodDisruptionBudgets,
// one of them at zero allowed disruptions for the singleton on node-05. Each node is a fleetpatch
// host: a simulated agent (src/simulator) over the real agent protocol against the real server,
// which takes the node's update and reboot jobs; a reboot makes the node NotReady in the API server
// and Ready again with the boot id the agent reported (test/support/simulated-nodes.ts). The server
// runs the cordon, drain, await-ready and uncordon steps through the Kubernetes executor.
//
// 1. In process (runServer) on a real test database: waves [1, "10%", "100%"], maxInFlight "10%".
//    Never more than two nodes cordoned by fleetpatch or rebooting at once; node-12, cordoned by
//    hand before, is drained and rebooted but stays cordoned; node-05's drain is stuck behind its
//    budget → the node is uncordoned, the rollout pauses (drain-stuck) and PagerDuty is paged; once
//    the budget is relaxed, the operator retries node-05 and resumes, and the rollout succeeds.
// 2. A real `fleetpatch server` process (--kubeconfig) killed with SIGKILL while node-05 drains, and
//    started again: the drain carries on in the new process and finishes, every job key is
//    reported once, each pod is evicted once, and no node is left cordoned.
import { mkdtempSync, chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { advisoryFromOsv } from '../src/domain/advisories/osv-record.js';
import { createKubernetesExecutor, CORDONED_BY_ANNOTATION } from '../src/executors/kubernetes/kubernetes-executor.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import type { JobResult } from '../src/protocol/job-protocol.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import type { SimulatedHost } from '../src/simulator/simulated-agent.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';
import { apiOf, DEMO_ADVISORY, freePort, openWindowStart, startKillableServer, type KillableServer } from './rollout-servers.js';
import type { NodeObject } from '../src/simulator/simulated-kubernetes-api.js';
import { driveNodes, LEDGER, startSimulatedCluster, simulatedNodeHosts, WEB, type NodeDriver, type SimulatedCluster } from './support/simulated-nodes.js';
import { waitFor } from './test-hosts.js';

const NODES = 20;
const BLOCKED = 'node-05';
const HAND_CORDONED = 'node-12';
const LABELS = { role: 'kubernetes-node' };
const PAGERDUTY_KEY_ENV = 'FP_TEST_ROLLING_REBOOT_PAGERDUTY_KEY';
const ROUTING_KEY = 'R0UT1NGKEYR0LL1NGREB00T000000000';
const LEDGER_POD = `${LEDGER.namespace}/${LEDGER.name}-0`;

/** The states in which a node is in the rollout's hands (from its admission to its end). */
const IN_FLIGHT = ['notified', 'cordoning', 'draining', 'pre-check', 'applying', 'rebooting', 'awaiting-return', 'awaiting-ready', 'uncordoning', 'post-check', 'monitoring', 'rolling-back'];
/** A node's walk when fleetpatch cordoned it, and when somebody else had (no uncordon: it is not ours to undo). */
const NODE_PATH = ['pending', 'notified', 'cordoning', 'draining', 'applying', 'rebooting', 'awaiting-return', 'awaiting-ready', 'uncordoning', 'monitoring', 'succeeded'];
const HAND_CORDONED_PATH = NODE_PATH.filter((state) => state !== 'uncordoning');
const STEPS = ['cordon', 'drain', 'upgrade', 'reboot', 'await-ready', 'uncordon'];
const pathOf = (states: readonly string[]) => states.slice(1).map((to, index) => `${states[index]}>${to}`);

function policy(options: { window: string; stuckAfter: string; notifications?: string }): string {
  return `version: 1
windows:
  maintenance: { timeZone: UTC, every: day, start: "${options.window}", duration: 4h, admissionCutoff: 30m }
buckets:
  - name: kubernetes-nodes
    owner: platform
    match: { labels: { role: kubernetes-node } }
    strategy:
      kind: rolling-reboot
      drain: { timeout: 30m, stuckAfter: ${options.stuckAfter} }
      update: agent
    windows: [maintenance]
    scheduled: false
    waves: [1, "10%", "100%"]
    maxInFlight: "10%"
    errorBudget: 0
    reboot: { policy: always, timeout: 10m, onTimeout: page }
    expectedHostDuration: 10m
fallback: { bucket: leftovers, owner: sre }
${options.notifications ?? ''}`;
}

interface RolloutView {
  id: number;
  state: string;
  pauseReason?: string;
  reason?: string;
  hosts: Array<{ host: string; wave: number; state: string; attempt: number; lastError?: string }>;
}

interface JobRow { key: string; host: string; step: string; attempt: number; reported: boolean; claimed_by: string | null; result: JobResult | null }

const jobsOf = async (pool: pg.Pool, rolloutId: number) => (await pool.query<JobRow>('SELECT key, host, step, attempt, reported_at IS NOT NULL AS reported, claimed_by, result FROM rollout_jobs WHERE rollout_id = $1 ORDER BY key', [rolloutId])).rows;
const hostPaths = async (pool: pg.Pool, rolloutId: number) => {
  const events = await pool.query<{ host: string; from_state: string; to_state: string }>("SELECT host, from_state, to_state FROM rollout_events WHERE rollout_id = $1 AND kind = 'host' ORDER BY id", [rolloutId]);
  const paths = new Map<string, string[]>();
  for (const row of events.rows) paths.set(row.host, [...(paths.get(row.host) ?? []), `${row.from_state}>${row.to_state}`]);
  return paths;
};

/** Nodes fleetpatch has cordoned (its annotation on an unschedulable node), and nodes that are not Ready. */
const cordonedByFleetpatch = (node: NodeObject) => node.spec.unschedulable === true && node.metadata.annotations[CORDONED_BY_ANNOTATION] !== undefined;
const notReady = (node: NodeObject) => !node.status.conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');

/** Every change of every node, as the API server makes it: the most nodes disrupted at once, and who was ever cordoned by fleetpatch. */
function watchDisruption(cluster: SimulatedCluster) {
  const seen = { mostCordoned: 0, mostDisrupted: 0, everCordoned: new Set<string>(), disruptedAtMost: [] as string[] };
  const stop = cluster.server.onNodeChange((nodes) => {
    const cordoned = nodes.filter(cordonedByFleetpatch).map((node) => node.metadata.name);
    const disrupted = nodes.filter((node) => cordonedByFleetpatch(node) || notReady(node)).map((node) => node.metadata.name);
    for (const name of cordoned) seen.everCordoned.add(name);
    seen.mostCordoned = Math.max(seen.mostCordoned, cordoned.length);
    if (disrupted.length > seen.mostDisrupted) {
      seen.mostDisrupted = disrupted.length;
      seen.disruptedAtMost = disrupted;
    }
  });
  return { seen, stop };
}

/** The rollout's host states, sampled until stopped: the most hosts in flight and holding a slot at once. */
function sampleHostStates(pool: pg.Pool, rolloutId: number) {
  const most = { inFlight: 0, slots: 0, samples: 0 };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const row = (await pool.query<{ in_flight: number; slots: number }>('SELECT count(*) FILTER (WHERE state = ANY($2::text[]))::int AS in_flight, count(*) FILTER (WHERE slot_held)::int AS slots FROM rollout_hosts WHERE rollout_id = $1', [rolloutId, IN_FLIGHT])).rows[0]!;
      most.inFlight = Math.max(most.inFlight, row.in_flight);
      most.slots = Math.max(most.slots, row.slots);
      most.samples++;
      await sleep(20);
    }
  })();
  return { most, stop: async () => {
    stopped = true;
    await loop;
  } };
}

/** Every step's job once: each job key reported, the node's steps once per attempt, each agent job run once by its host. */
function expectEveryStepOnce(jobs: readonly JobRow[], hosts: readonly SimulatedHost[], expected: (host: string) => string[]): void {
  expect(jobs.filter((job) => !job.reported).map((job) => job.key)).toEqual([]);
  for (const host of hosts) {
    const steps = jobs.filter((job) => job.host === host.name).map((job) => `${job.step}:${job.attempt}`).sort();
    expect(steps, host.name).toEqual([...expected(host.name)].sort());
    expect(new Set(host.executed).size, host.name).toBe(host.executed.length);
    expect(host.executed.map((key) => key.split(':').slice(2).join(':')).sort(), host.name).toEqual(steps.filter((step) => step.startsWith('upgrade:') || step.startsWith('reboot:')).sort());
    expect(host.installed['fp-demo-lib'], host.name).toBe('1.1-1');
  }
}

/** No pod was evicted twice: a resumed or repeated drain only evicts what is left. */
function expectEachPodEvictedOnce(cluster: SimulatedCluster): void {
  const evicted = cluster.server.evictions.filter((eviction) => eviction.status === 201).map((eviction) => eviction.pod);
  expect(evicted.length).toBeGreaterThan(0);
  expect(evicted.filter((pod, index) => evicted.indexOf(pod) !== index)).toEqual([]);
}

/** The Deployment-like ReplicaSet kept all its replicas, Ready, on nodes that are not cordoned; the DaemonSet never moved. */
function expectWorkloadsWhole(cluster: SimulatedCluster, cordonedByHand: readonly string[] = []): void {
  const pods = cluster.server.pods().filter((pod) => !pod.terminating);
  const web = pods.filter((pod) => pod.name.startsWith(`${WEB.namespace}/${WEB.name}-`));
  expect(web).toHaveLength(WEB.replicas);
  expect(web.every((pod) => pod.ready && pod.node !== undefined)).toBe(true);
  expect(pods.filter((pod) => pod.name.startsWith(`${LEDGER.namespace}/${LEDGER.name}-`))).toHaveLength(1);
  expect(pods.filter((pod) => pod.name.startsWith('kube-system/node-exporter-')).map((pod) => pod.node).sort()).toEqual(cluster.nodes);
  // Drained nodes took no replacements while cordoned: the ones a cordon by hand keeps have none now.
  for (const node of cordonedByHand) expect(web.filter((pod) => pod.node === node), node).toEqual([]);
}

describe('a rolling reboot of a simulated 20-node cluster', () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  it('reboots every node with at most 10% disrupted, leaves a hand cordon alone, pauses and pages on a stuck drain and completes after a retry', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const cluster = await startSimulatedCluster({ nodes: NODES, blockedNode: BLOCKED });
    cleanups.push(() => cluster.server.close());
    // Cordoned by hand before the rollout, the way `kubectl cordon` does it: no fleetpatch annotation.
    await cluster.server.kubeConfig().makeApiClient(CoreV1Api).patchNode({ name: HAND_CORDONED, body: { spec: { unschedulable: true } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const watch = watchDisruption(cluster);
    cleanups.push(watch.stop);

    // A loopback PagerDuty Events v2 endpoint.
    const pages: Array<{ routing_key: string; event_action: string; dedup_key: string; payload: { summary: string; severity: string } }> = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        pages.push(JSON.parse(body));
        response.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"success","message":"Event processed"}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => receiver.close(resolve)));
    process.env[PAGERDUTY_KEY_ENV] = ROUTING_KEY;

    // The injected clock of the whole server: windows, deadlines, the job worker's claims and the
    // drain's stuck time (the executor reads it through the worker). It stands still unless this
    // test moves it, so no drain is stuck by a slow machine, and the one that must be stuck is
    // (stuckAfter 30 s of this clock) without waiting. The executor's sleeps are real but short
    // (50 ms polls, retries backing off to 400 ms): they pace the loops, the clock says when to stop.
    let clock = new Date('2026-12-01T22:05:00Z');
    const home = mkdtempSync(join(tmpdir(), 'fleetpatch-rolling-reboot-'));
    chmodSync(home, 0o755);
    const policyFile = join(home, 'fleetpatch.yaml');
    writeFileSync(policyFile, policy({
      window: '22:00', stuckAfter: '30s', notifications: `notifications:
  receivers:
    on-call: { kind: pagerduty, routingKeyEnv: ${PAGERDUTY_KEY_ENV}, url: "http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v2/enqueue" }
  routes:
    - { match: { kinds: [drain-stuck] }, receiver: on-call, as: page }
`,
    }));
    const logs: string[] = [];
    const server: RunningServer = await runServer({
      port: 0, host: '127.0.0.1', home, databaseUrl: database.connectionString, staleAfterSeconds: 3600, openAdvisoryFeed: () => new MemoryFeed('test', [advisoryFromOsv(DEMO_ADVISORY, { file: 'test' })]),
      syncIntervalSeconds: 0, policyFile, policyPollMs: 0, log: (line) => logs.push(line), now: () => clock,
      // Leases far longer than the one move of the clock, so no claim expires under its holder.
      rolloutEngine: { passIntervalMs: 50, leaseMs: 600_000 }, jobLeaseMs: 600_000,
      executors: { kubernetes: createKubernetesExecutor({ kubeConfig: cluster.server.kubeConfig(), pollMs: 50, maxRetryMs: 400 }) },
    });
    cleanups.push(() => server.stop());
    const token = server.firstStart!.adminToken;
    const api = apiOf(() => server.url, () => token);

    const hosts = simulatedNodeHosts(cluster.nodes, { serverUrl: server.url, token, labels: LABELS, now: () => clock });
    for (const host of hosts) await host.checkIn();
    await server.syncAdvisories();
    const bootIdsBefore = new Map(cluster.nodes.map((name) => [name, cluster.server.node(name).status.nodeInfo.bootID]));

    const created = await api<{ id: number; draft: { waves: Array<{ hosts: string[] }>; snapshot: unknown[]; settings: { maxInFlight: number } } }>('POST', '/api/v1/rollouts', { bucket: 'kubernetes-nodes', reason: DEMO_ADVISORY.id });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.draft.snapshot).toEqual([{ name: 'fp-demo-lib', version: '1.1-1' }]);
    expect(created.body.draft.waves.map((wave) => wave.hosts.length)).toEqual([1, 2, 17]);
    expect(created.body.draft.settings.maxInFlight).toBe(2);
    const id = created.body.id;
    const show = async () => (await api<RolloutView>('GET', `/api/v1/rollouts/${id}`)).body;
    const states = (view: RolloutView) => Object.fromEntries(view.hosts.map((host) => [host.host, host.state]));

    const driver: NodeDriver = driveNodes({ cluster: cluster.server, pool: database.pool, hosts });
    cleanups.push(() => driver.stop());
    const sampler = sampleHostStates(database.pool, id);
    cleanups.push(sampler.stop);

    // node-05's drain is blocked: its ledger pod's eviction is refused by the budget. Once no other
    // node's drain is running, the clock moves past stuckAfter.
    await waitFor('node-05 to drain behind its budget, with no other drain running', async () => {
      if (!cluster.server.evictions.some((eviction) => eviction.pod === LEDGER_POD && eviction.status === 429)) return false;
      const drains = await database.pool.query<{ host: string }>("SELECT host FROM rollout_jobs WHERE rollout_id = $1 AND step = 'drain' AND reported_at IS NULL", [id]);
      return drains.rows.length === 1 && drains.rows[0]!.host === BLOCKED;
    }, 60_000, 20);
    expect(cluster.server.node(BLOCKED)).toMatchObject({ spec: { unschedulable: true }, metadata: { annotations: { [CORDONED_BY_ANNOTATION]: `${id}:${BLOCKED}` } } });
    clock = new Date(clock.getTime() + 31_000);

    const paused = await waitFor('the rollout to pause on the stuck drain', async () => {
      const view = await show();
      return view.state === 'paused' && view.hosts.find((host) => host.host === BLOCKED)?.state === 'failed' ? view : undefined;
    }, 30_000, 50);
    expect(paused.pauseReason).toBe('drain-stuck');
    const blocked = paused.hosts.find((host) => host.host === BLOCKED)!;
    expect(blocked.lastError).toMatch(/drain failed: the drain of node-05 is stuck 31 s after it started: PodDisruptionBudget shop\/ledger allows no eviction of shop\/ledger-5c9b-0/);
    expect(paused.reason).toContain('node-05: drain failed');
    // Uncordoned on its way out: the blocked node serves again while a person looks.
    const uncordoned = cluster.server.node(BLOCKED);
    expect(uncordoned.spec.unschedulable).not.toBe(true);
    expect(uncordoned.metadata.annotations).not.toHaveProperty(CORDONED_BY_ANNOTATION);
    const blockedJobs = (await jobsOf(database.pool, id)).filter((job) => job.host === BLOCKED);
    expect(blockedJobs.map((job) => `${job.step}:${job.result?.outcome}`).sort()).toEqual(['cordon:succeeded', 'drain:failed', 'uncordon:succeeded']);
    expect(blockedJobs.find((job) => job.step === 'drain')!.result).toMatchObject({ details: { stuck: true, blockedBy: 'shop/ledger', pod: LEDGER_POD } });

    // The page: PagerDuty Events v2, critical, naming the node and the budget.
    await waitFor('the page', () => pages.length > 0, 15_000, 20);
    expect(pages[0]).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: `fleetpatch:rollout:${id}`, payload: { severity: 'critical' } });
    expect(pages[0]!.payload.summary).toMatch(/paused: node-05: drain failed: .*PodDisruptionBudget shop\/ledger/);

    // Paused: the node in flight with node-05 finishes, nobody new is admitted.
    const waited = await waitFor('node-04 to finish while the rollout is paused', async () => {
      const view = await show();
      return view.hosts.find((host) => host.host === 'node-04')?.state === 'succeeded' ? view : undefined;
    }, 30_000, 50);
    expect(waited.state).toBe('paused');
    expect(waited.hosts.filter((host) => host.state !== 'pending').map((host) => host.host)).toEqual(['node-01', 'node-02', 'node-03', 'node-04', BLOCKED]);

    // The budget's owner relaxes it; the operator retries node-05 and resumes.
    cluster.relaxLedgerBudget();
    const retried = await api<{ state: string }>('POST', `/api/v1/rollouts/${id}/hosts/${BLOCKED}/retry`, { reason: 'ledger budget relaxed to maxUnavailable 1' });
    expect(retried.status, JSON.stringify(retried.body)).toBe(200);
    expect(retried.body.state).toBe('pending');
    const resumed = await api<{ state: string }>('POST', `/api/v1/rollouts/${id}/resume`, { reason: 'ledger budget relaxed' });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body.state).toBe('running');

    const final = await waitFor('the rollout to end', async () => {
      const view = await show();
      // Resumed, it runs: a pause from here on is a new one and ends the wait as well.
      return ['succeeded', 'completed-with-errors', 'halted', 'canceled', 'paused'].includes(view.state) ? view : undefined;
    }, 90_000, 100);
    await sampler.stop();
    await driver.stop();
    expect(final.state, JSON.stringify({ hosts: states(final), errors: driver.errors.slice(-5) })).toBe('succeeded');
    expect(Object.values(states(final))).toEqual(Array(NODES).fill('succeeded'));
    expect(final.hosts.find((host) => host.host === BLOCKED)!.attempt).toBe(2);

    // Never more than 10% of the nodes (2 of 20) cordoned by fleetpatch or rebooting at once, in
    // the API server at every change of a node and in the rollout's host states throughout; two
    // at once happened (the slots were used). The hand cordon is the only other one.
    expect(watch.seen.mostDisrupted, watch.seen.disruptedAtMost.join(' ')).toBeLessThanOrEqual(2);
    expect(watch.seen.mostCordoned).toBe(2);
    expect(cluster.server.maxCordoned).toBeLessThanOrEqual(3);
    expect(sampler.most.samples).toBeGreaterThan(10);
    expect(sampler.most.inFlight).toBeLessThanOrEqual(2);
    expect(sampler.most.slots).toBeLessThanOrEqual(2);

    // Every node fleetpatch cordoned is uncordoned; the one cordoned by hand never was fleetpatch's and stays cordoned.
    expect([...watch.seen.everCordoned].sort()).toEqual(cluster.nodes.filter((name) => name !== HAND_CORDONED));
    for (const name of cluster.nodes) {
      const node = cluster.server.node(name);
      expect(node.metadata.annotations, name).not.toHaveProperty(CORDONED_BY_ANNOTATION);
      expect(node.spec.unschedulable === true, name).toBe(name === HAND_CORDONED);
    }
    const handJobs = (await jobsOf(database.pool, id)).filter((job) => job.host === HAND_CORDONED);
    expect(handJobs.find((job) => job.step === 'cordon')!.result).toMatchObject({ outcome: 'succeeded', details: { cordonedByUs: false } });
    expect(handJobs.find((job) => job.step === 'cordon')!.result!.output).toMatch(/node-12 was cordoned already: this rollout leaves its cordon alone/);

    // Each node rebooted once (node-05 too: its first attempt ended before its update), went NotReady, and came back Ready
    // with the boot id its agent reported; the await-ready step saw it NotReady first and waited.
    expect([...driver.rebooted].sort()).toEqual(cluster.nodes);
    const reported = new Map((await database.pool.query<{ name: string; boot_id: string }>('SELECT name, boot_id FROM hosts')).rows.map((row) => [row.name, row.boot_id]));
    const jobs = await jobsOf(database.pool, id);
    for (const name of cluster.nodes) {
      const node = cluster.server.node(name);
      expect(notReady(node), name).toBe(false);
      expect(node.status.nodeInfo.bootID, name).toBe(reported.get(name));
      expect(node.status.nodeInfo.bootID, name).not.toBe(bootIdsBefore.get(name));
      const ready = jobs.find((job) => job.host === name && job.step === 'await-ready')!;
      expect(ready.result, name).toMatchObject({ outcome: 'succeeded', details: { ready: true, bootId: reported.get(name) } });
      expect(ready.result!.output, name).toMatch(new RegExp(`${name} is not Ready yet: Ready is False \\(KubeletNotReady: the node is rebooting \\(simulated\\)\\)\\n${name} is Ready`));
    }

    // Every step's job once per attempt, each reported; each node walked the path once.
    expectEveryStepOnce(jobs, hosts, (name) => {
      if (name === HAND_CORDONED) return STEPS.filter((step) => step !== 'uncordon').map((step) => `${step}:1`);
      if (name === BLOCKED) return ['cordon:1', 'drain:1', 'uncordon:1', ...STEPS.map((step) => `${step}:2`)];
      return STEPS.map((step) => `${step}:1`);
    });
    const paths = await hostPaths(database.pool, id);
    for (const name of cluster.nodes) {
      const expected = name === HAND_CORDONED ? pathOf(HAND_CORDONED_PATH)
        : name === BLOCKED ? [...pathOf(['pending', 'notified', 'cordoning', 'draining', 'uncordoning', 'failed']), ...pathOf(NODE_PATH)]
          : pathOf(NODE_PATH);
      expect(paths.get(name), name).toEqual(expected);
    }
    expectEachPodEvictedOnce(cluster);
    expectWorkloadsWhole(cluster, [HAND_CORDONED]);
    // One page: the stuck drain (nothing else is routed to PagerDuty).
    expect(pages.filter((page) => page.event_action === 'trigger')).toHaveLength(1);
    expect(driver.errors).toEqual([]);
  }, 150_000);

  it('carries on a drain whose server was killed with SIGKILL in the middle of it, and runs every step once', async () => {
    const database: TestDatabase = await createTestDatabase();
    cleanups.push(() => database.drop());
    const cluster = await startSimulatedCluster({ nodes: NODES, blockedNode: BLOCKED, terminationMs: 200, replacementReadyMs: 300 });
    cleanups.push(() => cluster.server.close());
    const watch = watchDisruption(cluster);
    cleanups.push(watch.stop);

    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-rolling-reboot-kill-'));
    chmodSync(directory, 0o755);
    const policyFile = join(directory, 'fleetpatch.yaml');
    // A real server process runs on the real clock: stuckAfter is long enough that the blocked
    // drain outlives the kill, the restart and the dead server's job claim (30 s) without being stuck.
    writeFileSync(policyFile, policy({ window: openWindowStart(), stuckAfter: '10m' }));
    const advisories = join(directory, 'advisories');
    mkdirSync(advisories);
    writeFileSync(join(advisories, `${DEMO_ADVISORY.id}.json`), JSON.stringify(DEMO_ADVISORY));
    const kubeconfig = cluster.writeKubeconfig(join(directory, 'kubeconfig.yaml'));
    const port = await freePort();
    let server: KillableServer | undefined;
    const start = async () => {
      server = await startKillableServer({
        port, home: join(directory, 'server'), logFile: join(directory, 'server.log'),
        env: { DATABASE_URL: database.connectionString, FLEETPATCH_ROLLOUT_LEASE_SECONDS: '1', FLEETPATCH_ROLLOUT_PASS_MS: '100' },
        args: ['--policy', policyFile, '--advisories', advisories, '--kubeconfig', kubeconfig],
      });
      return server;
    };
    cleanups.push(() => server?.stop());
    const token = (await start()).firstStart!.adminToken;
    const api = apiOf(() => server!.url, () => token);

    const hosts = simulatedNodeHosts(cluster.nodes, { serverUrl: server!.url, token, labels: LABELS, now: () => new Date() });
    for (const host of hosts) await host.checkIn();
    expect((await api('POST', '/api/v1/advisories/sync')).status).toBe(200);
    const driver = driveNodes({ cluster: cluster.server, pool: database.pool, hosts });
    cleanups.push(() => driver.stop());
    const blockedPods = cluster.server.pods().filter((pod) => pod.node === BLOCKED && pod.name.startsWith('shop/')).map((pod) => pod.name);
    expect(blockedPods).toContain(LEDGER_POD);

    const created = await api<{ id: number; draft: { waves: Array<{ hosts: string[] }> } }>('POST', '/api/v1/rollouts', { bucket: 'kubernetes-nodes', hosts: [BLOCKED, 'node-06'], reason: `${DEMO_ADVISORY.id}, kill -9 mid-drain` });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.draft.waves.map((wave) => wave.hosts)).toEqual([[BLOCKED], ['node-06']]);
    const id = created.body.id;
    const drainKey = `${id}:${BLOCKED}:drain:1`;
    const drainJob = async () => (await database.pool.query<{ claimed_by: string | null; started: boolean; reported: boolean }>('SELECT claimed_by, started_at IS NOT NULL AS started, reported_at IS NOT NULL AS reported FROM rollout_jobs WHERE key = $1', [drainKey])).rows[0];

    // Killed while node-05 drains: its budget has refused the ledger pod, the drain backs off and tries again.
    await waitFor('node-05 to drain behind its budget', () => cluster.server.evictions.some((eviction) => eviction.pod === LEDGER_POD && eviction.status === 429), 60_000, 20);
    const first = server!;
    await first.kill();
    expect(await drainJob()).toEqual({ claimed_by: first.holder, started: true, reported: false });
    expect(cluster.server.node(BLOCKED).metadata.annotations[CORDONED_BY_ANNOTATION]).toBe(`${id}:${BLOCKED}`);

    // Started again: the new process takes the drain over once the dead one's claim has expired, and runs it again (a drain is resumable).
    const second = await start();
    await waitFor('the new server to take the drain over', async () => (await drainJob())?.claimed_by === second.holder, 90_000, 200);
    cluster.relaxLedgerBudget();

    const final = await waitFor('the rollout to end', async () => {
      const state = (await database.pool.query<{ state: string }>('SELECT state FROM rollouts WHERE id = $1', [id])).rows[0]!.state;
      return ['succeeded', 'completed-with-errors', 'halted', 'paused', 'canceled'].includes(state) ? state : undefined;
    }, 60_000, 100);
    await driver.stop();
    const view = (await api<RolloutView>('GET', `/api/v1/rollouts/${id}`)).body;
    expect(final, JSON.stringify({ hosts: view.hosts, errors: driver.errors.slice(-5) })).toBe('succeeded');

    // The drain finished in the second process: it evicted what the first had left (the ledger pod among it).
    const jobs = await jobsOf(database.pool, id);
    const drain = jobs.find((job) => job.key === drainKey)!;
    expect(drain).toMatchObject({ reported: true, claimed_by: second.holder, result: { outcome: 'succeeded' } });
    expect(drain.result!.output).toContain(`evicted ${LEDGER_POD}`);
    expectEachPodEvictedOnce(cluster);
    // Every pod node-05 ran before its drain is gone (once uncordoned it takes node-06's evicted pods' replacements, rightly).
    expect(cluster.server.pods().filter((pod) => blockedPods.includes(pod.name))).toEqual([]);

    // Every step's job key once, reported; each node walked its path once (no transition written twice).
    const rolledOut = hosts.filter((host) => host.name === BLOCKED || host.name === 'node-06');
    expectEveryStepOnce(jobs, rolledOut, () => STEPS.map((step) => `${step}:1`));
    expect(jobs.map((job) => job.host).filter((host) => host !== BLOCKED && host !== 'node-06')).toEqual([]);
    const paths = await hostPaths(database.pool, id);
    for (const host of rolledOut) expect(paths.get(host.name), host.name).toEqual(pathOf(NODE_PATH));
    expect([...driver.rebooted].sort()).toEqual([BLOCKED, 'node-06']);

    // No node is left cordoned; at most one (maxInFlight of two hosts) was at a time.
    expect([...watch.seen.everCordoned].sort()).toEqual([BLOCKED, 'node-06']);
    expect(cluster.nodes.filter((name) => cluster.server.node(name).spec.unschedulable === true)).toEqual([]);
    expect(cluster.nodes.filter((name) => cluster.server.node(name).metadata.annotations[CORDONED_BY_ANNOTATION] !== undefined)).toEqual([]);
    expect(watch.seen.mostDisrupted).toBe(1);
    expectWorkloadsWhole(cluster);
  }, 150_000);
});
