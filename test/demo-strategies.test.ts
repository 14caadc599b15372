// The `--demo` fleet's four buckets run the seed's four strategies, scheduled by the demo's own
// policy (examples/fleetpatch.yaml with the simulated infrastructure's runbooks, cloud hooks and
// Prometheus), on an injected clock moved from window to window: the Kubernetes nodes rolling-
// reboot through the simulated Kubernetes API, the databases are patched in place by the
// patch-host runbook (a real script the command hook runs), the stateless hosts are replaced from
// the baseline image, and the physical host waits for its checklist, confirmed here as a person
// would. Everything is wired as `fleetpatch start --demo` wires it.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { collectHostFacts } from '../src/agent/host-facts.js';
import { loadDemo, startDemoHosts, startDemoInfrastructureIn } from '../src/cli/demo.js';
import { createKubernetesExecutor } from '../src/executors/kubernetes/kubernetes-executor.js';
import { MemoryFeed } from '../src/feeds/memory-feed.js';
import { runServer, type RunningServer } from '../src/server/run-server.js';
import type { DemoInfrastructure } from '../src/simulator/demo-infrastructure.js';
import { debianRoot } from './control-plane-fixtures.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

const FLEETPATCH = fileURLToPath(new URL('../bin/fleetpatch.js', import.meta.url));
/** A Saturday morning: the stateless rotation and the node window are that night, the databases' evening on Tuesday, the physical window the Saturday after. */
const HISTORY_END = new Date('2026-12-05T10:00:00Z');

interface HostView { host: string; state: string; lastError?: string; replacement?: string }
interface RolloutView { id: number; bucket: string; state: string; hosts: HostView[]; settings: { strategy: { kind: string }; executor: { kind: string } }; events: Array<{ kind: string; detail?: string }> }

describe('the demo fleet runs every bucket\'s strategy', () => {
  let database: TestDatabase;
  let server: RunningServer;
  let infrastructure: DemoInfrastructure;
  let clock = HISTORY_END;
  const simulation = new AbortController();
  let driven: Promise<void> | undefined;
  let token = '';
  const log: string[] = [];
  let cordonedAtOnce = 0;

  const api = async <T>(method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: response.status, body: (await response.json()) as T };
  };
  const rolloutOf = async (bucket: string) => (await api<Array<{ id: number; bucket: string }>>('GET', '/api/v1/rollouts')).body.find((rollout) => rollout.bucket === bucket);
  const view = async (id: number) => (await api<RolloutView>('GET', `/api/v1/rollouts/${id}`)).body;
  /** The clock only moves forward: a test starting a later window never rewinds an earlier one. */
  const advanceTo = (instant: string) => {
    clock = new Date(Math.max(clock.getTime(), Date.parse(instant)));
  };
  /**
   * Polls (bounded) until `probe` answers. Real work (a runbook's process, a drain, an agent's
   * job) takes real time, so the policy clock moves 1 s per look while anything runs, a minute per
   * look while the rollout only waits on policy time (a soak, a replacement's warm-up), and ten
   * while it waits for its next window.
   */
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, pace: () => number = () => 0): Promise<T> => {
    for (let look = 0; look < 2_400; look++) {
      const found = await probe();
      if (found !== undefined) return found;
      clock = new Date(clock.getTime() + pace());
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`timed out waiting for ${what}; log: ${log.slice(-30).join(' | ')}`);
  };
  const HOOK_STATES = new Set(['provisioning', 'retiring']);
  const WAITING_ON_TIME = new Set(['monitoring', 'awaiting-replacement', 'succeeded', 'failed', 'skipped', 'pending', 'timed-out']);
  const ENDED = new Set(['succeeded', 'completed-with-errors', 'halted', 'canceled']);
  /** How far the policy clock may move in one look at a rollout that has not ended. */
  const paceOf = (current: RolloutView, busyPaceMs: number) =>
    // A hook's real process (a replacement's provision, an instance's retirement) gets real time: its deadline is policy time.
    current.hosts.some((host) => HOOK_STATES.has(host.state)) ? 100
      // Paused until the next window (the nodes' hour fits a few of them a night): ten minutes a look.
      : current.state === 'paused' || current.state === 'waiting-for-window' ? 600_000
      : current.state === 'baking' || current.hosts.every((host) => WAITING_ON_TIME.has(host.state)) ? 60_000 : busyPaceMs;
  /**
   * Waits for every rollout to end, looking at all of them each time: rollouts that run at once
   * share the one clock, so it moves only as fast as the busiest of them allows.
   * `busyPaceMs`: the clock's move per look while hosts are at work.
   */
  const allFinished = async (ids: number[], each?: (current: RolloutView) => Promise<void>, busyPaceMs = 1_000) => {
    let pace = 0;
    return until(`rollouts ${ids.join(', ')} to end`, async () => {
      const views = await Promise.all(ids.map((id) => view(id)));
      for (const current of views) await each?.(current);
      const running = views.filter((current) => !ENDED.has(current.state));
      pace = Math.min(...running.map((current) => paceOf(current, busyPaceMs)));
      return running.length === 0 ? views : undefined;
    }, () => pace);
  };
  const finished = async (id: number, each?: (current: RolloutView) => Promise<void>) => (await allFinished([id], each))[0]!;

  beforeAll(async () => {
    database = await createTestDatabase();
    const home = mkdtempSync(join(tmpdir(), 'fleetpatch-demo-strategies-'));
    infrastructure = await startDemoInfrastructureIn(home, { fleetpatchCommand: [process.execPath, FLEETPATCH], bootMs: 100, clusterNow: () => clock.getTime(), log: (message) => log.push(message) });
    infrastructure.cluster.onNodeChange((nodes) => {
      cordonedAtOnce = Math.max(cordonedAtOnce, nodes.filter((node) => node.spec.unschedulable).length);
    });
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(infrastructure.kubeconfigFile);
    server = await runServer({
      port: 0, host: '127.0.0.1', home: join(home, 'server'), databaseUrl: database.connectionString, staleAfterSeconds: 60 * 86_400,
      openAdvisoryFeed: () => new MemoryFeed('none', []), syncIntervalSeconds: 0, log: (message) => log.push(message), now: () => clock,
      executors: { kubernetes: createKubernetesExecutor({ kubeConfig, pollMs: 50, maxRetryMs: 200 }) },
      rolloutEngine: { passIntervalMs: 50, leaseMs: 600_000, scheduleIntervalMs: 50 },
    });
    token = server.firstStart!.adminToken;
    const base = await collectHostFacts({ root: debianRoot() });
    await loadDemo(server, { hosts: 20, base, now: HISTORY_END, substitutions: infrastructure.substitutions, log: (message) => log.push(message) });
    driven = (await startDemoHosts(server, { token, infrastructure, signal: simulation.signal, base, now: () => clock, pollMs: 50, checkInMs: 10_000, log: (message) => log.push(message) })).done;
  }, 240_000);

  afterAll(async () => {
    simulation.abort();
    await driven;
    await server?.stop();
    await infrastructure?.close();
    await database?.drop();
  });

  it('the demo policy names the simulated runbooks, cloud and Prometheus, and nothing under /opt', () => {
    const text = server.policy.current.text!;
    expect(text).not.toContain('/opt/runbooks');
    expect(text).not.toContain('prometheus.internal');
    expect(text).toContain('/demo/runbooks/patch-host.sh');
    expect(server.policy.current.revision?.author).toBe('system:demo');
  });

  it('replaces the stateless hosts from the baseline image on Sunday at 02:00', async () => {
    advanceTo('2026-12-06T02:00:30Z');
    const made = await until('the stateless rotation', () => rolloutOf('stateless'));
    const final = await finished(made.id);
    expect(final.settings.strategy.kind).toBe('replace');
    expect(final.state, JSON.stringify(final.hosts)).toBe('succeeded');
    const retired = await database.pool.query<{ name: string; reason: string }>("SELECT name, reason FROM retired_hosts WHERE name LIKE 'sim-web-%' ORDER BY name");
    expect(retired.rows.map((row) => row.name)).toEqual(final.hosts.map((host) => host.host).sort());
    const images = await database.pool.query<{ name: string; image: string }>("SELECT name, labels->>'image-id' AS image FROM hosts WHERE bucket = 'stateless' ORDER BY name");
    expect(images.rows.length).toBe(final.hosts.length);
    for (const row of images.rows) {
      expect(row.name).toMatch(/^sim-web-\d{3}-g2$/);
      expect(row.image).toBe('ami-0f3c9a1e7d2b4c5a6');
    }
  }, 180_000);

  it('rolling-reboots the Kubernetes nodes through the simulated cluster at night, at most 10% cordoned at once', async () => {
    advanceTo('2026-12-06T03:00:30Z');
    const made = await until('the nightly node rollout', () => rolloutOf('kubernetes-nodes'));
    const final = await finished(made.id);
    expect(final.settings.strategy.kind).toBe('rolling-reboot');
    expect(final.state, JSON.stringify(final.hosts)).toBe('succeeded');
    expect(cordonedAtOnce).toBeGreaterThanOrEqual(1);
    // 10 nodes: 10% is one node at a time.
    expect(cordonedAtOnce).toBe(1);
    for (const host of final.hosts) expect(infrastructure.cluster.node(host.host).spec.unschedulable).toBeFalsy();
    expect(infrastructure.cluster.evictions.length).toBeGreaterThan(0);
  }, 180_000);

  it('patches the databases in place through the patch-host runbook on Tuesday evening, one at a time, each wave approved', async () => {
    advanceTo('2026-12-08T21:00:30Z');
    const made = await until('the database rollout', () => rolloutOf('databases'));
    // Promotion is by approval: the data-platform team approves each next wave.
    const final = await finished(made.id, async (current) => {
      if (current.state === 'baking' || current.state === 'paused') await api('POST', `/api/v1/rollouts/${made.id}/approve`, { reason: 'wave looked healthy' });
    });
    expect(final.settings.executor.kind).toBe('command-hook');
    expect(final.state, JSON.stringify(final.hosts)).toBe('succeeded');
    const outputs = await database.pool.query<{ output: string }>("SELECT result->>'output' AS output FROM rollout_jobs WHERE rollout_id = $1 AND step = 'upgrade'", [made.id]);
    expect(outputs.rows.length).toBe(final.hosts.length);
    for (const row of outputs.rows) expect(row.output).toMatch(/simulated: sim-(pg|mysql)-\d{3}: installed /);
  }, 180_000);

  it('announces the physical window, waits for the checklist, and verifies the host once a person confirmed it', async () => {
    const made = await until('the announced physical window', () => rolloutOf('physical'));
    advanceTo('2026-12-12T13:00:30Z');
    const awaiting = await until('the operator\'s turn', async () => {
      const current = await view(made.id);
      if (current.state !== 'waiting-for-window' && current.state !== 'running') throw new Error(`the manual window is ${current.state}: ${JSON.stringify(current.hosts)}`);
      return current.hosts.length > 0 && current.hosts.every((host) => host.state === 'awaiting-operator') ? current : undefined;
    });
    // As a person works: past the checklist's upgrade step the simulated operator patches the host, and only then are the remaining steps confirmed.
    const checklist = (awaiting.settings.strategy as unknown as { checklist: string[] }).checklist;
    const upgradeStep = checklist.findIndex((item) => /upgrade|patch|install/i.test(item)) + 1;
    for (const host of awaiting.hosts) {
      for (let step = 1; step <= 5; step++) {
        const confirmed = await api<{ confirmed: number }>('POST', `/api/v1/rollouts/${made.id}/hosts/${host.host}/checklist/${step}`, { reason: `step ${step} done` });
        expect(confirmed.status, JSON.stringify(confirmed.body)).toBe(200);
        if (step === upgradeStep) await until(`${host.host} patched by hand`, async () => (log.some((line) => line.includes(`${host.host} patched by hand`)) ? true : undefined));
      }
    }
    const final = await finished(made.id);
    expect(final.settings.strategy.kind).toBe('manual');
    expect(final.state, JSON.stringify(final.hosts)).toBe('succeeded');
    expect(log.some((line) => /sim-colo-01 patched by hand \(simulated\)/.test(line))).toBe(true);
  }, 180_000);

  it('walks the demo\'s simulated critical CVE from its import to a closed incident: one emergency rollout per bucket, windows relaxed by a person', async () => {
    const body = JSON.parse(readFileSync(join(infrastructure.directory, 'critical-cve.json'), 'utf8')) as { advisories: Array<{ id: string }> };
    const imported = await api<{ incidentsOpened: number[] }>('POST', '/api/v1/advisories', body);
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body.incidentsOpened).toHaveLength(1);
    const id = imported.body.incidentsOpened[0]!;
    interface IncidentView { incident: { state: string; planNotes: Record<string, string> }; scope: { total: Record<string, number>; byBucket: Array<{ bucket: string }>; closable: boolean; closeBlockers: Array<{ text: string }> }; rollouts: Array<{ id: number; bucket: string; state: string }> }
    const incident = async () => (await api<IncidentView>('GET', `/api/v1/incidents/${id}`)).body;
    const buckets = ['databases', 'kubernetes-nodes', 'physical', 'stateless'];
    expect((await incident()).scope.byBucket.map((entry) => entry.bucket)).toEqual(buckets);
    const planned = await until('an emergency rollout per bucket', async () => {
      const current = await incident();
      return current.rollouts.length === 4 ? current : undefined;
    }, () => 1_000);
    expect(planned.rollouts.map((rollout) => rollout.bucket).sort()).toEqual(buckets);
    for (const bucket of buckets) {
      const approved = await api('POST', `/api/v1/incidents/${id}/relaxations`, { bucket, relaxes: ['windows'], reason: 'the demo\'s critical CVE: no waiting for windows' });
      expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    }
    // Each bucket's own strategy runs now: waves approved, the physical checklist confirmed, as the owners would.
    const confirmed = new Set<string>();
    const ids = planned.rollouts.map((rollout) => rollout.id);
    const finals = await allFinished(ids, async (current) => {
      if (current.state === 'paused' && (current as RolloutView & { pauseReason?: string }).pauseReason === 'approval') await api('POST', `/api/v1/rollouts/${current.id}/approve`, { reason: 'wave looked healthy' });
      for (const host of current.hosts.filter((candidate) => candidate.state === 'awaiting-operator' && !confirmed.has(`${current.id}:${candidate.host}`))) {
        confirmed.add(`${current.id}:${host.host}`);
        for (let step = 1; step <= 5; step++) await api('POST', `/api/v1/rollouts/${current.id}/hosts/${host.host}/checklist/${step}`, { reason: `step ${step} done` });
      }
    }, 100).catch(async (error: unknown) => {
      const stuck = await Promise.all(ids.map((id) => view(id)));
      throw new Error(`${stuck.map((current) => `${current.bucket}: ${current.state} ${JSON.stringify(current.hosts).slice(0, 400)} ${JSON.stringify(current.events.slice(-3))}`).join('; ')}; ${String(error).slice(0, 200)}`);
    });
    for (const final of finals) expect(final.state, `${final.bucket}: ${JSON.stringify(final.hosts)}`).toBe('succeeded');
    let blockers: string[] = [];
    const live = await until('every host in scope live', async () => {
      const current = await incident();
      blockers = current.scope.closeBlockers.map((blocker) => blocker.text);
      if (blockers.length > 0 && log.length > 0) log.push(`blockers: ${blockers.join('; ')}`);
      return current.scope.closable ? current : undefined;
    }, () => 60_000).catch((error: unknown) => {
      throw new Error(`${String(error).slice(0, 300)}; close blockers: ${blockers.join('; ')}`);
    });
    expect([live.scope.total.vulnerable, live.scope.total.pendingReboot]).toEqual([0, 0]);
    const closed = await api<{ state: string }>('POST', `/api/v1/incidents/${id}/close`, { reason: 'every host patched and live' });
    expect([closed.status, closed.body.state]).toEqual([200, 'closed']);
  }, 300_000);
});
