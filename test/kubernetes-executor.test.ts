// The Kubernetes executor against the in-test API server (test/support/kube-api-server.ts): a
// five-node cluster with a Deployment's ReplicaSets, a DaemonSet, a mirror pod, a finished Job pod
// and PodDisruptionBudgets. Time is a shared fake clock that moves only in the executor's sleep.
import { afterEach, describe, expect, it } from 'vitest';
import { createKubernetesExecutor, CORDONED_BY_ANNOTATION } from '../src/executors/kubernetes/kubernetes-executor.js';
import { disruptionBlockers } from '../src/executors/kubernetes/disruption-blockers.js';
import { hostJobSchema, jobResultSchema, type HostJob, type JobResult } from '../src/protocol/job-protocol.js';
import { startKubeApiServer, type KubeApiServer, type KubeApiServerOptions } from '../src/simulator/simulated-kubernetes-api.js';

const START = Date.parse('2026-12-02T03:00:00Z');
const MINUTE = 60_000;
const NODES = ['node-1', 'node-2', 'node-3', 'node-4', 'node-5'];

let cluster: KubeApiServer | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/**
 * shop/web: 3 replicas (two on node-1), budget minAvailable 2; shop/api: 2 replicas, budget
 * maxUnavailable 1; a DaemonSet on every node; node-1 also runs a mirror pod and a finished Job pod.
 */
async function startCluster(options: Omit<KubeApiServerOptions, 'now'> = {}) {
  let clock = START;
  let onSleep: (() => void) | undefined;
  const server = await startKubeApiServer({ now: () => clock, ...options });
  cluster = server;
  for (const name of NODES) server.addNode({ name });
  server.addReplicaSet({ namespace: 'shop', name: 'web-5d8f', labels: { app: 'web' }, nodes: ['node-1', 'node-1', 'node-2'] });
  server.addReplicaSet({ namespace: 'shop', name: 'api-7c4b', labels: { app: 'api' }, nodes: ['node-1', 'node-3'] });
  server.addDaemonSet({ namespace: 'kube-system', name: 'node-exporter', labels: { app: 'node-exporter' } });
  server.addPod({ namespace: 'kube-system', name: 'kube-proxy-node-1', node: 'node-1', owner: { kind: 'Node', name: 'node-1' }, annotations: { 'kubernetes.io/config.mirror': '4b2ac4e1f0d1' } });
  server.addPod({ namespace: 'batch', name: 'report-28391', node: 'node-1', phase: 'Succeeded', owner: { kind: 'Job', name: 'report' } });
  server.addBudget({ namespace: 'shop', name: 'web', selector: { matchLabels: { app: 'web' } }, minAvailable: 2 });
  server.addBudget({ namespace: 'shop', name: 'api', selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['api'] }] }, maxUnavailable: 1 });

  const executor = createKubernetesExecutor({
    kubeConfig: server.kubeConfig(),
    pollMs: 1_000,
    maxRetryMs: 8_000,
    async sleep(ms, signal) {
      signal.throwIfAborted();
      clock += ms;
      onSleep?.();
    },
  });

  async function run(step: HostJob['step'], node: string, options: { drain?: Partial<NonNullable<HostJob['drain']>>; firstStartedAt?: number; signal?: AbortSignal; deadlineMs?: number; rolloutId?: number } = {}): Promise<JobResult> {
    const rolloutId = options.rolloutId ?? 7;
    const job = hostJobSchema.parse({
      key: `${rolloutId}:${node}:${step}:1`, rolloutId, step, deadline: new Date(clock + (options.deadlineMs ?? 60 * MINUTE)).toISOString(),
      ...(step === 'drain' ? { drain: { stuckAfterMs: 10 * MINUTE, deleteEmptyDirData: false, ...options.drain } } : {}),
    });
    const { result } = await executor.run(job, { name: node, labels: {}, rolloutId, bucket: 'k8s-workers' }, {
      signal: options.signal ?? new AbortController().signal,
      log: () => undefined,
      firstStartedAt: new Date(options.firstStartedAt ?? clock),
      now: () => new Date(clock),
    });
    // Every result is one the server's job protocol accepts.
    return jobResultSchema.parse(result);
  }

  const podsOn = (node: string) => server.pods().filter((pod) => pod.node === node).map((pod) => pod.name).sort();
  const evicted = () => server.evictions.filter((eviction) => eviction.status === 201).map((eviction) => eviction.pod).sort();
  return { server, run, podsOn, evicted, clock: () => clock, whenSleeping: (callback: () => void) => (onSleep = callback) };
}

describe('the Kubernetes executor', () => {
  it('remembers its cordon on the node, so a re-run still owns it and the uncordon undoes only that', async () => {
    const { server, run } = await startCluster();
    expect(await run('cordon', 'node-1')).toMatchObject({ outcome: 'succeeded', details: { cordonedByUs: true } });
    expect(server.node('node-1')).toMatchObject({ spec: { unschedulable: true }, metadata: { annotations: { [CORDONED_BY_ANNOTATION]: '7:node-1' } } });
    // The server died after the cordon, before its result was recorded: the re-run is still ours.
    expect(await run('cordon', 'node-1')).toMatchObject({ outcome: 'succeeded', details: { cordonedByUs: true } });

    expect(await run('uncordon', 'node-1')).toMatchObject({ outcome: 'succeeded', details: { uncordoned: true } });
    const node = server.node('node-1');
    expect(node.spec.unschedulable).not.toBe(true);
    expect(node.metadata.annotations).not.toHaveProperty(CORDONED_BY_ANNOTATION);
    expect(await run('uncordon', 'node-1')).toMatchObject({ outcome: 'succeeded', details: { uncordoned: false } });
  });

  it('leaves a cordon that is not its own: an operator\'s, or another rollout\'s', async () => {
    const { server, run } = await startCluster();
    server.addNode({ name: 'node-6', unschedulable: true });
    server.addNode({ name: 'node-7', unschedulable: true, annotations: { [CORDONED_BY_ANNOTATION]: '3:node-7' } });
    for (const node of ['node-6', 'node-7']) {
      const cordon = await run('cordon', node);
      expect(cordon).toMatchObject({ outcome: 'succeeded', details: { cordonedByUs: false } });
      expect(cordon.output).toMatch(/cordoned already/);
      // Were the engine to ask anyway, the uncordon finds no mark of rollout 7 and changes nothing.
      expect(await run('uncordon', node)).toMatchObject({ outcome: 'succeeded', details: { uncordoned: false } });
      expect(server.node(node).spec.unschedulable).toBe(true);
    }
    expect(server.node('node-6').metadata.annotations).not.toHaveProperty(CORDONED_BY_ANNOTATION);
    expect(server.node('node-7').metadata.annotations[CORDONED_BY_ANNOTATION]).toBe('3:node-7');
    // Rollout 3 still owns its cordon.
    expect(await run('uncordon', 'node-7', { rolloutId: 3 })).toMatchObject({ details: { uncordoned: true } });
    expect(server.node('node-7').spec.unschedulable).not.toBe(true);
  });

  it('never claims a cordon made between its read and its patch: the patch is refused (409) and the node read again', async () => {
    const { server, run } = await startCluster();
    server.changeAfterNextRead('node-2', (node) => (node.spec.unschedulable = true));
    const cordon = await run('cordon', 'node-2');
    expect(cordon).toMatchObject({ outcome: 'succeeded', details: { cordonedByUs: false } });
    expect(server.node('node-2').metadata.annotations).not.toHaveProperty(CORDONED_BY_ANNOTATION);
  });

  it('drains by eviction: moves the ReplicaSet pods, leaves DaemonSet, mirror and finished pods, retries a 429 until the budget allows', async () => {
    const { server, run, podsOn, evicted } = await startCluster({ replacementReadyMs: 5_000 });
    await run('cordon', 'node-1');
    const drain = await run('drain', 'node-1', { drain: { gracePeriodSeconds: 20 } });
    expect(drain).toMatchObject({ outcome: 'succeeded', details: { evicted: 3, skipped: 3 } });
    expect(evicted()).toEqual(['shop/api-7c4b-0', 'shop/web-5d8f-0', 'shop/web-5d8f-1']);
    expect(podsOn('node-1')).toEqual(['batch/report-28391', 'kube-system/kube-proxy-node-1', 'kube-system/node-exporter-node-1']);
    // web allows one disruption: the second web pod waited for the first one's replacement to be Ready.
    const webRefusals = server.evictions.filter((eviction) => eviction.pod === 'shop/web-5d8f-1' && eviction.status === 429).length;
    expect(webRefusals).toBeGreaterThan(0);
    expect(drain.details!.refusals).toBe(webRefusals);
    expect(drain.output).toMatch(/eviction of shop\/web-5d8f-1 refused \(Cannot evict pod as it would violate the pod's disruption budget\.\); retrying/);
    expect(server.evictions.filter((eviction) => eviction.status === 201).every((eviction) => eviction.gracePeriodSeconds === 20)).toBe(true);
    // The replacements run elsewhere, and the budget's two Ready pods were kept.
    const web = server.pods().filter((pod) => pod.name.startsWith('shop/web-') && !pod.terminating);
    expect(web).toHaveLength(3);
    expect(web.every((pod) => pod.node !== 'node-1')).toBe(true);
    expect(web.filter((pod) => pod.ready).length).toBeGreaterThanOrEqual(2);
  });

  it('ends a drain a budget blocks as stuck once stuckAfter has passed, naming the budget', async () => {
    const { server, run, evicted, clock } = await startCluster();
    server.changeBudget('shop', 'web', { minAvailable: 3 });
    await run('cordon', 'node-1');
    const startedAt = clock();
    const drain = await run('drain', 'node-1', { drain: { stuckAfterMs: 10 * MINUTE } });
    expect(drain).toMatchObject({ outcome: 'failed', details: { stuck: true, blockedBy: 'shop/web', pod: 'shop/web-5d8f-0', evicted: 1 } });
    expect(drain.error).toMatch(/drain of node-1 is stuck 600 s after it started: PodDisruptionBudget shop\/web allows no eviction of shop\/web-5d8f-0/);
    expect(clock() - startedAt).toBe(10 * MINUTE);
    // What the budgets allowed moved; the blocked pods stay.
    expect(evicted()).toEqual(['shop/api-7c4b-0']);
  });

  it('stops at the first eviction answered 500, naming the pod and the status', async () => {
    const { server, run, clock } = await startCluster();
    server.failNextEviction('shop', 'web-5d8f-0', 500);
    await run('cordon', 'node-1');
    const before = clock();
    const drain = await run('drain', 'node-1');
    expect(drain).toMatchObject({ outcome: 'failed', details: { pod: 'shop/web-5d8f-0', status: 500, evicted: 0 } });
    expect(drain.error).toMatch(/eviction of shop\/web-5d8f-0 failed: 500 Internal error occurred/);
    expect(server.evictions.map((eviction) => eviction.status)).toEqual([500]);
    expect(clock()).toBe(before);
  });

  it('refuses to drain a node with emptyDir data unless the job allows deleting it', async () => {
    const { server, run, evicted } = await startCluster();
    server.addPod({ namespace: 'shop', name: 'cache-0', node: 'node-4', emptyDir: true });
    expect(await run('drain', 'node-4', { drain: { deleteEmptyDirData: true } })).toMatchObject({ outcome: 'failed', error: 'node-4 is schedulable: a drain runs after its cordon' });
    await run('cordon', 'node-4');
    const refused = await run('drain', 'node-4');
    expect(refused).toMatchObject({ outcome: 'failed' });
    expect(refused.error).toMatch(/cannot drain node-4: shop\/cache-0 keeps emptyDir data/);
    expect(server.evictions).toEqual([]);
    expect(await run('drain', 'node-4', { drain: { deleteEmptyDirData: true } })).toMatchObject({ outcome: 'succeeded', details: { evicted: 1 } });
    expect(evicted()).toEqual(['shop/cache-0']);
  });

  it('returns "interrupted" when aborted mid-drain, and a re-run resumes where it stopped', async () => {
    const { server, run, evicted, whenSleeping } = await startCluster({ replacementReadyMs: 30_000 });
    const firstStartedAt = START;
    const abort = new AbortController();
    whenSleeping(() => abort.abort());
    await run('cordon', 'node-1');
    const interrupted = await run('drain', 'node-1', { signal: abort.signal, firstStartedAt });
    expect(interrupted).toMatchObject({ outcome: 'failed', error: 'interrupted' });
    expect(interrupted.output).toMatch(/evicted shop\/web-5d8f-0/);
    expect(evicted()).toEqual(['shop/api-7c4b-0', 'shop/web-5d8f-0']);

    whenSleeping(() => undefined);
    const resumed = await run('drain', 'node-1', { firstStartedAt });
    expect(resumed).toMatchObject({ outcome: 'succeeded', details: { evicted: 1 } });
    // Each pod was evicted once across both runs.
    expect(evicted()).toEqual(['shop/api-7c4b-0', 'shop/web-5d8f-0', 'shop/web-5d8f-1']);
    expect(server.pods().filter((pod) => pod.node === 'node-1' && pod.name.startsWith('shop/'))).toEqual([]);
  });

  it('waits for the node to be Ready again, and fails with the kubelet\'s reason at the deadline', async () => {
    const { server, run, clock, whenSleeping } = await startCluster();
    server.setNodeReady('node-3', false);
    const back = clock() + 20_000;
    whenSleeping(() => {
      if (clock() >= back) server.setNodeReady('node-3', true);
    });
    const ready = await run('await-ready', 'node-3');
    expect(ready).toMatchObject({ outcome: 'succeeded', details: { ready: true, bootId: server.node('node-3').status.nodeInfo.bootID } });
    expect(ready.output).toMatch(/node-3 is not Ready yet: Ready is False \(KubeletNotReady: container runtime network not ready/);

    whenSleeping(() => undefined);
    server.setNodeReady('node-4', false, { reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    const late = await run('await-ready', 'node-4', { deadlineMs: MINUTE });
    expect(late).toMatchObject({ outcome: 'failed', details: { ready: false, reason: 'NodeStatusUnknown' } });
    expect(late.error).toMatch(/node-4 was not Ready by the step's deadline .*: Ready is False \(NodeStatusUnknown: Kubelet stopped posting node status\.\)/);
  });

  it('rolls through every node one at a time: cordon, drain, ready, uncordon', async () => {
    const { server, run } = await startCluster({ replacementReadyMs: 4_000 });
    for (const node of NODES) {
      for (const step of ['cordon', 'drain', 'await-ready', 'uncordon'] as const) {
        const result = await run(step, node);
        expect(result, `${step} ${node}: ${result.error ?? ''}`).toMatchObject({ outcome: 'succeeded' });
      }
    }
    expect(server.maxCordoned).toBe(1);
    expect(NODES.filter((node) => server.node(node).spec.unschedulable === true)).toEqual([]);
    // Every replica was moved, none lost: the ReplicaSets still have all their pods, on nodes.
    const replicas = server.pods().filter((pod) => pod.name.startsWith('shop/') && !pod.terminating);
    expect(replicas.map((pod) => pod.name.split('-')[0]).sort()).toEqual(['shop/api', 'shop/api', 'shop/web', 'shop/web', 'shop/web']);
    expect(replicas.every((pod) => pod.node !== undefined)).toBe(true);
  });

  it('names the budgets that allow no disruption now, with the nodes their pods run on', async () => {
    const { server } = await startCluster();
    expect(await disruptionBlockers(server.kubeConfig())).toEqual([]);
    server.changeBudget('shop', 'web', { minAvailable: 3 });
    expect(await disruptionBlockers(server.kubeConfig())).toEqual([
      { budget: 'shop/web', currentHealthy: 3, desiredHealthy: 3, expectedPods: 3, nodes: ['node-1', 'node-2'] },
    ]);
  });
});
