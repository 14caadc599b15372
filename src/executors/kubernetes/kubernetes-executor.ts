/**
 * The Kubernetes executor: a rolling reboot's node steps, run against the cluster's API from where
 * the server runs. `cordon` marks the node unschedulable, `drain` evicts its pods through the
 * policy/v1 Eviction API (so PodDisruptionBudgets hold), `await-ready` waits for the kubelet's Ready
 * condition, `uncordon` undoes our cordon.
 *
 * Every step is resumable: it reads the node and does only what is left, so a server killed
 * mid-drain runs the drain again and it carries on. A cordon writes an annotation naming the
 * rollout and host in the same patch that sets `spec.unschedulable`, the way kured keeps
 * "was schedulable before" in its lock and brupop in its shadow resource: a re-run knows the
 * cordon was ours, and an uncordon never undoes somebody else's.
 */
import type { KubeConfig, V1Node, V1Pod } from '@kubernetes/client-node';
import { setTimeout as delay } from 'node:timers/promises';
import type { HostJob, JobResult } from '../../protocol/job-protocol.js';
import type { ExecutedStep, Executor, ExecutorTarget, StepContext } from '../executor.js';
import { budgetsCovering } from './disruption-blockers.js';
import { abortable, isAbort, kubernetesClients, KubernetesRequestFailed, mergePatch, request, type KubernetesClients } from './kubernetes-api.js';
import { podDisposition, podName } from './pod-disposition.js';
import { boundedText, StepLog } from './step-log.js';

/** On a node we cordoned: `<rollout>:<host>`, the prefix of the jobs' keys. */
export const CORDONED_BY_ANNOTATION = 'fleetpatch.io/cordoned-by';

export interface KubernetesExecutorOptions {
  kubeConfig: KubeConfig;
  /** Waits between polls and eviction retries; rejects when `signal` aborts. Tests advance a clock instead. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** How often a drain looks whether its pods are gone and await-ready reads the node; a refused eviction's first retry waits as long (default 2 s). */
  pollMs?: number;
  /** Retries of a refused eviction wait twice as long each time, up to this (default 30 s; brupop retries every 5 s). */
  maxRetryMs?: number;
}

type Details = NonNullable<JobResult['details']>;

/** A step's end: failed when `error` is set. */
interface StepOutcome {
  error?: string;
  details?: Details;
}

interface Step {
  clients: KubernetesClients;
  job: HostJob;
  node: string;
  /** The cordon annotation's value for this rollout and host. */
  owner: string;
  context: StepContext;
  log: StepLog;
  sleep: (ms: number) => Promise<void>;
  pollMs: number;
  maxRetryMs: number;
}

const KUBERNETES_STEPS: ReadonlySet<HostJob['step']> = new Set(['cordon', 'drain', 'await-ready', 'uncordon']);

/** Re-reads after a 409 (the node changed between our read and our patch) before giving up. */
const MAX_CONFLICTS = 5;

/**
 * @example const executor = createKubernetesExecutor({ kubeConfig }); await executor.run(job, { name: 'node-3', … }, context)
 */
export function createKubernetesExecutor(options: KubernetesExecutorOptions): Executor {
  const clients = kubernetesClients(options.kubeConfig);
  const sleep = options.sleep ?? ((ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }));
  return {
    kind: 'kubernetes',
    resumable: KUBERNETES_STEPS,
    async run(job: HostJob, target: ExecutorTarget, context: StepContext): Promise<ExecutedStep> {
      const startedAt = context.now().toISOString();
      const log = new StepLog((message) => context.log(message));
      const step: Step = {
        clients, job, node: target.name, owner: `${job.rolloutId}:${target.name}`, context, log,
        sleep: (ms) => sleep(ms, context.signal), pollMs: options.pollMs ?? 2_000, maxRetryMs: options.maxRetryMs ?? 30_000,
      };
      let outcome: StepOutcome;
      try {
        outcome = await runStep(step);
      } catch (error) {
        outcome = { error: context.signal.aborted || isAbort(error) ? 'interrupted' : error instanceof Error ? error.message : String(error) };
      }
      if (outcome.error !== undefined) log.line(outcome.error);
      const result: JobResult = {
        outcome: outcome.error === undefined ? 'succeeded' : 'failed',
        output: log.text(),
        replaced: [],
        ...(outcome.error !== undefined ? { error: boundedText(outcome.error, 4096) } : {}),
        ...(outcome.details ? { details: outcome.details } : {}),
        startedAt,
        finishedAt: context.now().toISOString(),
      };
      return { result };
    },
  };
}

function runStep(step: Step): Promise<StepOutcome> {
  switch (step.job.step) {
    case 'cordon': return cordon(step);
    case 'drain': return drain(step);
    case 'await-ready': return awaitReady(step);
    case 'uncordon': return uncordon(step);
    default: return Promise.resolve({ error: `the kubernetes executor runs cordon, drain, await-ready and uncordon, not ${step.job.step}` });
  }
}

async function cordon(step: Step): Promise<StepOutcome> {
  const { node, owner, log } = step;
  for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
    const current = await readNode(step);
    const mark = current.metadata?.annotations?.[CORDONED_BY_ANNOTATION];
    if (current.spec?.unschedulable === true) {
      if (mark === owner) {
        log.line(`${node} is cordoned by this rollout already`);
        return { details: { cordonedByUs: true } };
      }
      log.line(`${node} was cordoned already${mark === undefined ? '' : ` (marked by ${mark})`}: this rollout leaves its cordon alone`);
      return { details: { cordonedByUs: false } };
    }
    if (await patchNode(step, current, `cordoning ${node}`, { metadata: { annotations: { [CORDONED_BY_ANNOTATION]: owner } }, spec: { unschedulable: true } })) {
      log.line(`cordoned ${node}`);
      return { details: { cordonedByUs: true } };
    }
  }
  return { error: `${node} changed under each of ${MAX_CONFLICTS} attempts to cordon it` };
}

async function uncordon(step: Step): Promise<StepOutcome> {
  const { node, owner, log } = step;
  for (let attempt = 1; attempt <= MAX_CONFLICTS; attempt++) {
    const current = await readNode(step);
    const mark = current.metadata?.annotations?.[CORDONED_BY_ANNOTATION];
    if (mark !== owner) {
      log.line(`${node} carries no cordon of this rollout${mark === undefined ? '' : ` (it is marked by ${mark})`}: left as it is`);
      return { details: { uncordoned: false } };
    }
    if (await patchNode(step, current, `uncordoning ${node}`, { metadata: { annotations: { [CORDONED_BY_ANNOTATION]: null } }, spec: { unschedulable: false } })) {
      log.line(`uncordoned ${node}`);
      return { details: { uncordoned: true } };
    }
  }
  return { error: `${node} changed under each of ${MAX_CONFLICTS} attempts to uncordon it` };
}

async function awaitReady(step: Step): Promise<StepOutcome> {
  const { node, job, context, log } = step;
  const deadline = Date.parse(job.deadline);
  let lastState: string | undefined;
  for (;;) {
    const current = await readNode(step);
    const ready = current.status?.conditions?.find((condition) => condition.type === 'Ready');
    const bootId = current.status?.nodeInfo?.bootID;
    if (ready?.status === 'True') {
      log.line(`${node} is Ready`);
      return { details: { ready: true, ...(bootId ? { bootId: boundedText(bootId, 1024) } : {}) } };
    }
    const state = ready === undefined ? 'it has no Ready condition' : `Ready is ${ready.status}${ready.reason ? ` (${ready.reason}${ready.message ? `: ${ready.message}` : ''})` : ''}`;
    const now = context.now().getTime();
    if (now >= deadline) {
      return { error: `${node} was not Ready by the step's deadline ${job.deadline}: ${state}`, details: { ready: false, ...(ready?.reason ? { reason: boundedText(ready.reason, 1024) } : {}) } };
    }
    if (state !== lastState) log.line(`${node} is not Ready yet: ${state}`);
    lastState = state;
    await step.sleep(Math.min(step.pollMs, deadline - now));
  }
}

type Eviction =
  | { kind: 'evicted' }
  /** 404, or 409 on the UID precondition: the pod we listed is gone (a StatefulSet's successor may carry its name). */
  | { kind: 'gone' }
  /** 429: a PodDisruptionBudget (or the API's rate limit) says not now. */
  | { kind: 'refused'; reason: string }
  | { kind: 'failed'; status: number; reason: string };

async function drain(step: Step): Promise<StepOutcome> {
  const { node, job, context, log } = step;
  const settings = job.drain;
  if (settings === undefined) return { error: 'a drain job carries its drain settings (stuckAfterMs, deleteEmptyDirData); this one has none' };
  // kubectl drain cordons first for the same reason: pods evicted from a schedulable node can be
  // scheduled straight back onto it, and the drain would chase them until its deadline.
  if ((await readNode(step)).spec?.unschedulable !== true) return { error: `${node} is schedulable: a drain runs after its cordon` };
  const stuckAt = context.firstStartedAt.getTime() + settings.stuckAfterMs;
  const deadline = Date.parse(job.deadline);
  const evicted = new Set<string>();
  const skipped = new Set<string>();
  let refusals = 0;
  let refusedRounds = 0;
  let remainingBefore = Infinity;
  for (;;) {
    const pods = (await request(`listing the pods on ${node}`, () => step.clients.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` }, abortable(context.signal)))).items;
    const toEvict: V1Pod[] = [];
    const terminating: V1Pod[] = [];
    const refused: string[] = [];
    for (const pod of pods) {
      const disposition = podDisposition(pod, settings.deleteEmptyDirData);
      if (disposition.action === 'evict') toEvict.push(pod);
      else if (disposition.action === 'wait') terminating.push(pod);
      else if (disposition.action === 'refuse') refused.push(`${podName(pod)} ${disposition.why}`);
      else if (!skipped.has(podName(pod))) {
        skipped.add(podName(pod));
        log.line(`left ${podName(pod)} (${disposition.why})`);
      }
    }
    if (refused.length > 0) return { error: `cannot drain ${node}: ${refused.join('; ')}`, details: { evicted: evicted.size } };
    const remaining = toEvict.length + terminating.length;
    if (remaining === 0) {
      log.line(`${node} is drained: ${evicted.size} pod(s) evicted by this run, ${skipped.size} left in place`);
      return { details: { evicted: evicted.size, skipped: skipped.size, refusals } };
    }

    let blocked: { pod: V1Pod; reason: string } | undefined;
    let evictedNow = 0;
    for (const pod of toEvict) {
      const eviction = await evict(step, pod, settings.gracePeriodSeconds);
      if (eviction.kind === 'evicted') {
        evicted.add(podName(pod));
        evictedNow++;
        log.line(`evicted ${podName(pod)}`);
      } else if (eviction.kind === 'gone') {
        log.line(`${podName(pod)} was gone already`);
      } else if (eviction.kind === 'refused') {
        refusals++;
        blocked ??= { pod, reason: eviction.reason };
      } else {
        return {
          error: `eviction of ${podName(pod)} failed: ${eviction.status} ${eviction.reason}`,
          details: { pod: boundedText(podName(pod), 1024), status: eviction.status, evicted: evicted.size },
        };
      }
    }

    // Past its stuck time a drain still finishes what moves (a resumed drain gets its round); it
    // ends at the first round that moves nothing. The deadline ends it whatever moves.
    const progressed = evictedNow > 0 || remaining < remainingBefore;
    remainingBefore = remaining;
    const now = context.now().getTime();
    if (now >= deadline || (now >= stuckAt && !progressed)) {
      const waitingFor = blocked ?? { pod: terminating[0] ?? toEvict[0]!, reason: '' };
      return unfinished(step, now >= deadline ? 'deadline' : 'stuck', waitingFor, blocked !== undefined, evicted.size);
    }
    refusedRounds = blocked ? refusedRounds + 1 : 0;
    const wait = blocked ? Math.min(step.pollMs * 2 ** (refusedRounds - 1), step.maxRetryMs) : step.pollMs;
    if (blocked) log.line(`eviction of ${podName(blocked.pod)} refused (${blocked.reason}); retrying in ${wait / 1000} s`);
    // Woken at the moment the drain counts as stuck or late, so it ends then and not a retry later.
    const limits = [stuckAt, deadline].filter((limit) => limit > now).map((limit) => limit - now);
    await step.sleep(Math.min(wait, ...limits));
  }
}

/** Evicts `pod`, only if it is still the pod that was listed (its UID). */
async function evict(step: Step, pod: V1Pod, gracePeriodSeconds: number | undefined): Promise<Eviction> {
  const name = pod.metadata!.name!;
  const namespace = pod.metadata!.namespace!;
  const deleteOptions = { preconditions: { uid: pod.metadata!.uid! }, ...(gracePeriodSeconds !== undefined ? { gracePeriodSeconds } : {}) };
  try {
    await request(`evicting ${namespace}/${name}`, () =>
      step.clients.core.createNamespacedPodEviction({ name, namespace, body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace }, deleteOptions } }, abortable(step.context.signal)));
    return { kind: 'evicted' };
  } catch (error) {
    if (!(error instanceof KubernetesRequestFailed) || error.status === undefined) throw error;
    if (error.status === 404 || error.status === 409) return { kind: 'gone' };
    if (error.status === 429) return { kind: 'refused', reason: error.reason };
    return { kind: 'failed', status: error.status, reason: error.reason };
  }
}

/** A drain that ran out of time, naming what it waits for: the budget that refuses an eviction, or a pod that does not go. */
async function unfinished(step: Step, why: 'stuck' | 'deadline', waitingFor: { pod: V1Pod; reason: string }, refused: boolean, evicted: number): Promise<StepOutcome> {
  const { node, job, context } = step;
  const pod = podName(waitingFor.pod);
  const when = why === 'stuck'
    ? `is stuck ${Math.round((context.now().getTime() - context.firstStartedAt.getTime()) / 1000)} s after it started`
    : `did not finish by the step's deadline ${job.deadline}`;
  const details: Details = { stuck: why === 'stuck', pod: boundedText(pod, 1024), evicted };
  if (!refused) return { error: `the drain of ${node} ${when}: ${pod} has not gone yet`, details };
  const budgets = await budgetsCovering(step.clients, waitingFor.pod, context.signal);
  if (budgets.length === 0) return { error: `the drain of ${node} ${when}: the eviction of ${pod} is refused (${waitingFor.reason}) and no PodDisruptionBudget covers it`, details };
  const blockedBy = budgets.join(', ');
  return {
    error: `the drain of ${node} ${when}: PodDisruptionBudget ${blockedBy} allows no eviction of ${pod} (${waitingFor.reason})`,
    details: { ...details, blockedBy: boundedText(blockedBy, 1024) },
  };
}

async function readNode(step: Step): Promise<V1Node> {
  return request(`reading node ${step.node}`, () => step.clients.core.readNode({ name: step.node }, abortable(step.context.signal)));
}

/**
 * Applies `patch` only if the node is still as `current` was read: true when written, false when
 * the API answered 409 (changed since), so the caller reads again.
 */
async function patchNode(step: Step, current: V1Node, action: string, patch: { metadata: { annotations: Record<string, string | null> }; spec: { unschedulable: boolean } }): Promise<boolean> {
  const body = { ...patch, metadata: { ...patch.metadata, resourceVersion: current.metadata?.resourceVersion } };
  try {
    await request(action, () => step.clients.core.patchNode({ name: step.node, body }, mergePatch(step.context.signal)));
    return true;
  } catch (error) {
    if (error instanceof KubernetesRequestFailed && error.status === 409) return false;
    throw error;
  }
}
