/**
 * A small simulated Kubernetes API server, on node:http at 127.0.0.1, for the tests and the
 * `--demo` fleet's rolling reboots. No kube-apiserver can be installed here (neither Debian nor npm
 * carries one), so this implements only the
 * endpoints fleetpatch calls, written from the Kubernetes API reference (v1.31: Node, Pod,
 * Eviction, PodDisruptionBudget, Status) and the eviction and disruption-controller rules in the
 * docs ("API-initiated eviction", "Specifying a Disruption Budget"):
 *
 * - `GET /api/v1/nodes`, `GET /api/v1/nodes/{name}`, `PATCH /api/v1/nodes/{name}` as a JSON merge
 *   patch (RFC 7386; other patch types get 415), refused with 409 when its
 *   `metadata.resourceVersion` is not the node's; status cannot be patched through the node.
 * - `GET /api/v1/pods` (all namespaces), with `fieldSelector=spec.nodeName=<node>`.
 * - `POST /api/v1/namespaces/{ns}/pods/{name}/eviction` (policy/v1 Eviction): 201 when allowed, 429
 *   with the API's Status when the pod's budget allows no disruption, 500 when two budgets cover
 *   the pod, 404 for no such pod, 409 when `deleteOptions.preconditions.uid` is not the pod's.
 *   Terminating, pending and completed pods are evicted without asking their budget; an unready
 *   pod may go while its budget is met (the default `IfHealthyBudget`).
 * - `GET /apis/policy/v1/poddisruptionbudgets` with status computed as the disruption controller
 *   does: healthy = Running, Ready and not terminating; an integer `minAvailable` expects the pods
 *   it selects, a percentage or `maxUnavailable` the replicas of their controllers.
 *
 * A tiny controller plays the kubelet and the ReplicaSet controller: an evicted pod terminates and
 * is gone `terminationMs` later; a ReplicaSet replaces each evicted pod at once with a new one (a
 * new name) on the schedulable Ready node with the fewest pods of that ReplicaSet, Ready
 * `replacementReadyMs` later; DaemonSet pods stay. Delayed work runs when a request (or a test's
 * look) arrives and its time has come on the server's clock, which tests share with the executor:
 * nothing here waits or loops on its own. Tests play the kubelet of a rebooting node
 * (`setNodeReady`, with the new boot ID), watch every change of a node (`onNodeChange`) and count
 * how often a node was read (`nodeReads`).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export interface KubeApiServerOptions {
  /** The loopback port to listen on (default 0: any free one). */
  port?: number;
  /** The clock of the cluster's delayed work, in milliseconds (default Date.now). */
  now?: () => number;
  /** How long an evicted pod stays terminating (default 0: gone by the next request). */
  terminationMs?: number;
  /** How long a ReplicaSet's replacement pod takes to become Ready (default 0). */
  replacementReadyMs?: number;
}

export interface NodeInfo {
  osImage: string;
  kernelVersion: string;
  kubeletVersion: string;
  containerRuntimeVersion: string;
  architecture: string;
  operatingSystem: string;
  bootID: string;
}

export interface NodeSpec {
  name: string;
  ready?: boolean;
  unschedulable?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeInfo?: Partial<NodeInfo>;
}

export interface PodSpec {
  namespace: string;
  name: string;
  node: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** The controller that owns the pod. */
  owner?: { kind: string; name: string };
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  ready?: boolean;
  emptyDir?: boolean;
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface BudgetSpec {
  namespace: string;
  name: string;
  selector: LabelSelector;
  minAvailable?: number | string;
  maxUnavailable?: number | string;
}

export interface PodView {
  /** `namespace/name` */
  name: string;
  node: string | undefined;
  ready: boolean;
  terminating: boolean;
}

export interface EvictionRecord {
  pod: string;
  status: number;
  gracePeriodSeconds?: number;
}

export interface KubeApiServer {
  readonly url: string;
  /** A KubeConfig for this server (token auth, the only credential it takes). */
  kubeConfig(): KubeConfig;
  /** Writes that config as a kubeconfig file (YAML, mode 0600), as `fleetpatch server --kubeconfig` reads it; answers the file. */
  writeKubeconfig(file: string): string;
  addNode(spec: NodeSpec): void;
  addPod(spec: PodSpec): void;
  /** A ReplicaSet with one Ready pod on each of `nodes` (a node may repeat); its replicas are their number. */
  addReplicaSet(spec: { namespace: string; name: string; labels: Record<string, string>; nodes: string[] }): void;
  /** A DaemonSet with one Ready pod on every node there is now. */
  addDaemonSet(spec: { namespace: string; name: string; labels: Record<string, string> }): void;
  addBudget(spec: BudgetSpec): void;
  changeBudget(namespace: string, name: string, change: Pick<BudgetSpec, 'minAvailable' | 'maxUnavailable'>): void;
  /** The kubelet's Ready condition; `nodeInfo` changes what it reports with it (a node back from a reboot reports a new `bootID`). */
  setNodeReady(name: string, ready: boolean, condition?: { reason: string; message: string }, nodeInfo?: Partial<NodeInfo>): void;
  /** Calls `listener` after every change of a node (an API patch, a Ready change, a racing change, a new node) with copies of all nodes; returns its removal. */
  onNodeChange(listener: (nodes: NodeObject[]) => void): () => void;
  /** How often the API served this node (`GET /api/v1/nodes/{name}`). */
  nodeReads(name: string): number;
  /** Right after the API next serves this node, someone else changes it (`kubectl cordon` racing ours). */
  changeAfterNextRead(name: string, change: (node: NodeObject) => void): void;
  /** The next eviction of this pod answers `status` with an InternalError Status, once. */
  failNextEviction(namespace: string, name: string, status: number): void;
  /** A copy of the node as the API serves it. */
  node(name: string): NodeObject;
  pods(): PodView[];
  readonly evictions: readonly EvictionRecord[];
  /** The most nodes that were unschedulable at one time. */
  readonly maxCordoned: number;
  close(): Promise<void>;
}

const TOKEN = 'simulated-token';

interface Metadata {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  ownerReferences?: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller: boolean; blockOwnerDeletion: boolean }>;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  generation?: number;
}

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime?: string;
  lastTransitionTime: string;
}

export interface NodeObject {
  metadata: Metadata;
  spec: { unschedulable?: boolean; podCIDR: string };
  status: { conditions: Condition[]; nodeInfo: NodeInfo & Record<string, string>; addresses: Array<{ type: string; address: string }> };
}

interface PodObject {
  metadata: Metadata;
  spec: { nodeName?: string; containers: Array<{ name: string; image: string }>; volumes?: Array<{ name: string; emptyDir: Record<string, never> }>; terminationGracePeriodSeconds: number };
  status: { phase: string; conditions: Condition[] };
}

interface BudgetObject {
  metadata: Metadata;
  spec: { selector: LabelSelector; minAvailable?: number | string; maxUnavailable?: number | string };
}

class ApiStatus extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

/**
 * @example const cluster = await startKubeApiServer({ now: () => clock }); cluster.addNode({ name: 'node-1' }); … await cluster.close();
 */
export async function startKubeApiServer(options: KubeApiServerOptions = {}): Promise<KubeApiServer> {
  const now = options.now ?? Date.now;
  const terminationMs = options.terminationMs ?? 0;
  const replacementReadyMs = options.replacementReadyMs ?? 0;
  const nodes = new Map<string, NodeObject>();
  const pods = new Map<string, PodObject>();
  const budgets = new Map<string, BudgetObject>();
  const replicaSets = new Map<string, { replicas: number; labels: Record<string, string>; uid: string; created: number }>();
  const failures = new Map<string, number>();
  const racingChanges = new Map<string, (node: NodeObject) => void>();
  const nodeListeners = new Set<(nodes: NodeObject[]) => void>();
  const reads = new Map<string, number>();
  const evictions: EvictionRecord[] = [];
  const due: Array<{ at: number; run: () => void }> = [];
  let version = 1;
  let maxCordoned = 0;

  const stamp = () => new Date(now()).toISOString();
  const nextVersion = () => String(++version);
  const metadata = (name: string, namespace?: string, labels: Record<string, string> = {}, annotations: Record<string, string> = {}): Metadata => ({
    name, ...(namespace === undefined ? {} : { namespace }), uid: randomUUID(), resourceVersion: nextVersion(), creationTimestamp: stamp(), labels: { ...labels }, annotations: { ...annotations },
  });
  const key = (namespace: string, name: string) => `${namespace}/${name}`;
  const later = (delayMs: number, run: () => void) => due.push({ at: now() + delayMs, run });

  /** Runs the delayed work whose time has come, in time order, and places pods no node holds. */
  function advance(): void {
    for (;;) {
      due.sort((a, b) => a.at - b.at);
      if (due.length === 0 || due[0]!.at > now()) break;
      due.shift()!.run();
    }
    for (const pod of pods.values()) {
      if (pod.spec.nodeName !== undefined || pod.metadata.deletionTimestamp) continue;
      const owner = pod.metadata.ownerReferences?.[0];
      const node = owner && placeReplica(key(pod.metadata.namespace!, owner.name));
      if (node) schedule(pod, node);
    }
  }

  function nodeReady(node: NodeObject): boolean {
    return node.status.conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
  }

  function podReady(pod: PodObject): boolean {
    return pod.status.phase === 'Running' && pod.status.conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True');
  }

  const healthy = (pod: PodObject) => !pod.metadata.deletionTimestamp && podReady(pod);

  /** After every change of a node: the most cordoned at once, and the listeners. */
  function countCordoned(): void {
    maxCordoned = Math.max(maxCordoned, [...nodes.values()].filter((node) => node.spec.unschedulable === true).length);
    if (nodeListeners.size === 0) return;
    const copies = [...nodes.values()].map((node) => structuredClone(node));
    for (const listener of nodeListeners) listener(copies);
  }

  function newPod(spec: PodSpec, ownerUid?: string): PodObject {
    const pod: PodObject = {
      metadata: metadata(spec.name, spec.namespace, spec.labels, spec.annotations),
      spec: {
        ...(spec.node === '' ? {} : { nodeName: spec.node }),
        containers: [{ name: 'main', image: 'registry.example/app:1.0' }],
        ...(spec.emptyDir ? { volumes: [{ name: 'scratch', emptyDir: {} }] } : {}),
        terminationGracePeriodSeconds: 30,
      },
      status: { phase: spec.phase ?? 'Running', conditions: [readyCondition(spec.ready ?? (spec.phase ?? 'Running') === 'Running')] },
    };
    if (spec.owner) {
      pod.metadata.ownerReferences = [{ apiVersion: spec.owner.kind === 'Node' ? 'v1' : 'apps/v1', kind: spec.owner.kind, name: spec.owner.name, uid: ownerUid ?? randomUUID(), controller: true, blockOwnerDeletion: true }];
    }
    pods.set(key(spec.namespace, spec.name), pod);
    return pod;
  }

  function readyCondition(ready: boolean, reason = ready ? 'PodReady' : 'ContainersNotReady'): Condition {
    return { type: 'Ready', status: ready ? 'True' : 'False', reason, message: '', lastTransitionTime: stamp() };
  }

  /** The schedulable Ready node with the fewest pods of the ReplicaSet (then by name). */
  function placeReplica(replicaSet: string): string | undefined {
    const [namespace, name] = replicaSet.split('/') as [string, string];
    const load = (node: string) => [...pods.values()].filter((pod) => pod.spec.nodeName === node && pod.metadata.namespace === namespace && pod.metadata.ownerReferences?.[0]?.name === name && !pod.metadata.deletionTimestamp).length;
    const candidates = [...nodes.values()].filter((node) => node.spec.unschedulable !== true && nodeReady(node)).map((node) => node.metadata.name);
    return candidates.sort((a, b) => load(a) - load(b) || a.localeCompare(b))[0];
  }

  function schedule(pod: PodObject, node: string): void {
    pod.spec.nodeName = node;
    pod.metadata.resourceVersion = nextVersion();
    later(replacementReadyMs, () => {
      if (pods.get(key(pod.metadata.namespace!, pod.metadata.name)) !== pod) return;
      pod.status = { phase: 'Running', conditions: [readyCondition(true)] };
      pod.metadata.resourceVersion = nextVersion();
    });
  }

  /** The ReplicaSet controller's answer to a pod of its own starting to terminate: a new pod now. */
  function replace(pod: PodObject): void {
    const owner = pod.metadata.ownerReferences?.[0];
    if (owner?.kind !== 'ReplicaSet') return;
    const replicaSet = replicaSets.get(key(pod.metadata.namespace!, owner.name));
    if (!replicaSet) return;
    replicaSet.created++;
    const replacement = newPod({ namespace: pod.metadata.namespace!, name: `${owner.name}-r${replicaSet.created}`, node: '', labels: replicaSet.labels, owner: { kind: 'ReplicaSet', name: owner.name }, phase: 'Pending', ready: false }, owner.uid);
    const node = placeReplica(key(pod.metadata.namespace!, owner.name));
    if (node) schedule(replacement, node);
  }

  function terminate(pod: PodObject, gracePeriodSeconds: number): void {
    pod.metadata.deletionTimestamp = stamp();
    pod.metadata.deletionGracePeriodSeconds = gracePeriodSeconds;
    pod.metadata.resourceVersion = nextVersion();
    const podKey = key(pod.metadata.namespace!, pod.metadata.name);
    later(terminationMs, () => {
      if (pods.get(podKey) === pod) pods.delete(podKey);
    });
    replace(pod);
  }

  function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
    const has = (name: string) => Object.hasOwn(labels, name);
    const matchLabels = Object.entries(selector.matchLabels ?? {}).every(([name, value]) => has(name) && labels[name] === value);
    return matchLabels && (selector.matchExpressions ?? []).every(({ key: name, operator, values = [] }) =>
      operator === 'In' ? has(name) && values.includes(labels[name]!)
        : operator === 'NotIn' ? !has(name) || !values.includes(labels[name]!)
          : operator === 'Exists' ? has(name)
            : operator === 'DoesNotExist' && !has(name));
  }

  const budgetPods = (budget: BudgetObject) => [...pods.values()].filter((pod) => pod.metadata.namespace === budget.metadata.namespace && selects(budget.spec.selector, pod.metadata.labels));

  function budgetStatus(budget: BudgetObject) {
    const selected = budgetPods(budget);
    const currentHealthy = selected.filter(healthy).length;
    // The replicas of the pods' controllers; a pod without a known ReplicaSet counts once.
    const scale = () => {
      const owners = new Set<string>();
      let count = 0;
      for (const pod of selected) {
        const owner = pod.metadata.ownerReferences?.[0];
        const replicaSet = owner?.kind === 'ReplicaSet' ? replicaSets.get(key(pod.metadata.namespace!, owner.name)) : undefined;
        if (!replicaSet) count++;
        else if (!owners.has(owner!.name)) {
          owners.add(owner!.name);
          count += replicaSet.replicas;
        }
      }
      return count;
    };
    const scaled = (value: number | string, total: number) => (typeof value === 'number' ? value : Math.ceil((total * Number.parseInt(value, 10)) / 100));
    let expectedPods: number;
    let desiredHealthy: number;
    if (budget.spec.maxUnavailable !== undefined) {
      expectedPods = scale();
      desiredHealthy = Math.max(0, expectedPods - scaled(budget.spec.maxUnavailable, expectedPods));
    } else if (typeof budget.spec.minAvailable === 'number') {
      expectedPods = selected.length;
      desiredHealthy = budget.spec.minAvailable;
    } else {
      expectedPods = scale();
      desiredHealthy = scaled(budget.spec.minAvailable!, expectedPods);
    }
    return { currentHealthy, desiredHealthy, expectedPods, disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy) };
  }

  function budgetDocument(budget: BudgetObject) {
    const status = budgetStatus(budget);
    const allowed = status.disruptionsAllowed > 0;
    return {
      metadata: budget.metadata,
      spec: budget.spec,
      status: {
        observedGeneration: budget.metadata.generation,
        ...status,
        conditions: [{ type: 'DisruptionAllowed', status: allowed ? 'True' : 'False', reason: allowed ? 'SufficientPods' : 'InsufficientPods', message: '', observedGeneration: budget.metadata.generation, lastTransitionTime: stamp() }],
      },
    };
  }

  function evict(namespace: string, name: string, body: unknown): { code: number; body: unknown } {
    const pod = pods.get(key(namespace, name));
    if (!pod) throw new ApiStatus(404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
    const eviction = body as { kind?: string; metadata?: { name?: string }; deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string } } };
    if (eviction.kind !== 'Eviction' || eviction.metadata?.name !== name) throw new ApiStatus(400, 'BadRequest', 'name in URL does not match name in Eviction object');
    const injected = failures.get(key(namespace, name));
    if (injected !== undefined) {
      failures.delete(key(namespace, name));
      throw new ApiStatus(injected, 'InternalError', 'Internal error occurred: etcdserver: request timed out');
    }
    const uid = eviction.deleteOptions?.preconditions?.uid;
    if (uid !== undefined && uid !== pod.metadata.uid) {
      throw new ApiStatus(409, 'Conflict', `Operation cannot be fulfilled on Pod "${name}": Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata.uid}`);
    }
    const grace = eviction.deleteOptions?.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds;
    const success = { code: 201, body: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 } };
    if (pod.metadata.deletionTimestamp) return success;
    if (pod.status.phase === 'Running') {
      const covering = [...budgets.values()].filter((budget) => budget.metadata.namespace === namespace && selects(budget.spec.selector, pod.metadata.labels));
      if (covering.length > 1) throw new ApiStatus(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
      const budget = covering[0];
      if (budget) {
        const status = budgetStatus(budget);
        const mayGoUnhealthy = !healthy(pod) && status.currentHealthy >= status.desiredHealthy;
        if (!mayGoUnhealthy && status.disruptionsAllowed <= 0) {
          throw new ApiStatus(429, 'TooManyRequests', "Cannot evict pod as it would violate the pod's disruption budget.", {
            causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${budget.metadata.name} needs ${status.desiredHealthy} healthy pods and has ${status.currentHealthy} currently` }],
          });
        }
      }
    }
    terminate(pod, grace);
    evictions.push({ pod: key(namespace, name), status: 201, ...(eviction.deleteOptions?.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: grace } : {}) });
    return success;
  }

  function patchNode(name: string, contentType: string | undefined, body: unknown): NodeObject {
    const node = nodes.get(name);
    if (!node) throw new ApiStatus(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' });
    if (contentType?.split(';')[0]?.trim() !== 'application/merge-patch+json') {
      throw new ApiStatus(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json (this simulated server takes no other; got ${contentType ?? 'none'})`);
    }
    const expected = (body as { metadata?: { resourceVersion?: unknown } }).metadata?.resourceVersion;
    if (expected !== undefined && expected !== node.metadata.resourceVersion) {
      throw new ApiStatus(409, 'Conflict', `Operation cannot be fulfilled on nodes "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const patched = mergePatch(node, body) as NodeObject;
    // The status subresource is the kubelet's: a patch of the node itself never changes it.
    patched.status = node.status;
    patched.metadata.name = name;
    patched.metadata.resourceVersion = nextVersion();
    nodes.set(name, patched);
    countCordoned();
    return patched;
  }

  async function handle(request: IncomingMessage): Promise<{ code: number; body: unknown }> {
    if (request.headers.authorization !== `Bearer ${TOKEN}`) throw new ApiStatus(401, 'Unauthorized', 'Unauthorized');
    advance();
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const method = request.method ?? 'GET';
    const body = method === 'POST' || method === 'PATCH' ? await readJson(request) : undefined;
    const path = url.pathname;
    const list = (kind: string, apiVersion: string, items: unknown[]) => ({ code: 200, body: { kind, apiVersion, metadata: { resourceVersion: String(version) }, items } });
    let match: RegExpExecArray | null;
    if (method === 'GET' && path === '/api/v1/nodes') return list('NodeList', 'v1', [...nodes.values()]);
    if ((match = /^\/api\/v1\/nodes\/([^/]+)$/.exec(path))) {
      const name = decodeURIComponent(match[1]!);
      if (method === 'PATCH') return { code: 200, body: { kind: 'Node', apiVersion: 'v1', ...patchNode(name, request.headers['content-type'], body) } };
      if (method !== 'GET') throw new ApiStatus(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const node = nodes.get(name);
      if (!node) throw new ApiStatus(404, 'NotFound', `nodes "${name}" not found`, { name, kind: 'nodes' });
      reads.set(name, (reads.get(name) ?? 0) + 1);
      const served = { code: 200, body: { kind: 'Node', apiVersion: 'v1', ...structuredClone(node) } };
      const racing = racingChanges.get(name);
      if (racing) {
        racingChanges.delete(name);
        racing(node);
        node.metadata.resourceVersion = nextVersion();
        countCordoned();
      }
      return served;
    }
    if (method === 'GET' && path === '/api/v1/pods') {
      const selector = url.searchParams.get('fieldSelector');
      const onNode = selector === null ? undefined : /^spec\.nodeName==?(.*)$/.exec(selector)?.[1];
      if (selector !== null && onNode === undefined) throw new ApiStatus(400, 'BadRequest', `"${selector}" is not a known field selector: only "spec.nodeName=<node>" is served here`);
      return list('PodList', 'v1', [...pods.values()].filter((pod) => onNode === undefined || pod.spec.nodeName === onNode));
    }
    if (method === 'POST' && (match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/eviction$/.exec(path))) {
      const [namespace, name] = [decodeURIComponent(match[1]!), decodeURIComponent(match[2]!)];
      try {
        return evict(namespace, name, body);
      } catch (error) {
        if (error instanceof ApiStatus) evictions.push({ pod: key(namespace, name), status: error.code });
        throw error;
      }
    }
    if (method === 'GET' && path === '/apis/policy/v1/poddisruptionbudgets') return list('PodDisruptionBudgetList', 'policy/v1', [...budgets.values()].map(budgetDocument));
    throw new ApiStatus(404, 'NotFound', 'the server could not find the requested resource');
  }

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    handle(request).then(
      (answer) => send(response, answer.code, answer.body),
      (error: unknown) => {
        const status = error instanceof ApiStatus ? error : new ApiStatus(500, 'InternalError', String(error));
        send(response, status.code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: status.message, reason: status.reason, ...(status.details ? { details: status.details } : {}), code: status.code });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const mustGet = <T>(map: Map<string, T>, name: string, kind: string): T => {
    const found = map.get(name);
    if (!found) throw new Error(`the simulated cluster has no ${kind} ${name}`);
    return found;
  };

  const kubeConfigOf = (): KubeConfig => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromOptions({
      clusters: [{ name: 'simulated', server: url, skipTLSVerify: true }],
      users: [{ name: 'simulated', token: TOKEN }],
      contexts: [{ name: 'simulated', cluster: 'simulated', user: 'simulated' }],
      currentContext: 'simulated',
    });
    return kubeConfig;
  };

  return {
    url,
    kubeConfig: kubeConfigOf,
    writeKubeconfig(file) {
      // exportConfig() is the client's own JSON form of the config (the token included); kubeconfig files are YAML.
      writeFileSync(file, stringify(JSON.parse(kubeConfigOf().exportConfig())), { mode: 0o600 });
      return file;
    },
    addNode(spec) {
      const node: NodeObject = {
        metadata: metadata(spec.name, undefined, { 'kubernetes.io/hostname': spec.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...spec.labels }, spec.annotations),
        spec: { podCIDR: `10.244.${nodes.size}.0/24`, ...(spec.unschedulable ? { unschedulable: true } : {}) },
        status: {
          conditions: [{ ...nodeCondition(spec.ready ?? true), lastHeartbeatTime: stamp(), lastTransitionTime: stamp() }],
          nodeInfo: {
            machineID: randomUUID().replaceAll('-', ''), systemUUID: randomUUID(), bootID: randomUUID(), kernelVersion: '6.1.0-18-cloud-amd64', osImage: 'Debian GNU/Linux 12 (bookworm)',
            containerRuntimeVersion: 'containerd://1.7.13', kubeletVersion: 'v1.29.2', kubeProxyVersion: 'v1.29.2', operatingSystem: 'linux', architecture: 'amd64', ...spec.nodeInfo,
          },
          addresses: [{ type: 'InternalIP', address: `10.0.0.${nodes.size + 10}` }, { type: 'Hostname', address: spec.name }],
        },
      };
      nodes.set(spec.name, node);
      countCordoned();
    },
    addPod(spec) {
      newPod(spec);
    },
    addReplicaSet(spec) {
      const uid = randomUUID();
      replicaSets.set(key(spec.namespace, spec.name), { replicas: spec.nodes.length, labels: spec.labels, uid, created: 0 });
      spec.nodes.forEach((node, index) => newPod({ namespace: spec.namespace, name: `${spec.name}-${index}`, node, labels: spec.labels, owner: { kind: 'ReplicaSet', name: spec.name } }, uid));
    },
    addDaemonSet(spec) {
      const uid = randomUUID();
      for (const node of nodes.keys()) newPod({ namespace: spec.namespace, name: `${spec.name}-${node}`, node, labels: spec.labels, owner: { kind: 'DaemonSet', name: spec.name } }, uid);
    },
    addBudget(spec) {
      if ((spec.minAvailable === undefined) === (spec.maxUnavailable === undefined)) throw new Error('a budget sets exactly one of minAvailable and maxUnavailable');
      budgets.set(key(spec.namespace, spec.name), {
        metadata: { ...metadata(spec.name, spec.namespace), generation: 1 },
        spec: { selector: spec.selector, ...(spec.minAvailable !== undefined ? { minAvailable: spec.minAvailable } : { maxUnavailable: spec.maxUnavailable! }) },
      });
    },
    changeBudget(namespace, name, change) {
      const budget = mustGet(budgets, key(namespace, name), 'PodDisruptionBudget');
      budget.spec = { selector: budget.spec.selector, ...change };
      budget.metadata.generation = (budget.metadata.generation ?? 1) + 1;
      budget.metadata.resourceVersion = nextVersion();
    },
    setNodeReady(name, ready, condition, nodeInfo) {
      const node = mustGet(nodes, name, 'node');
      node.status.conditions = [{ ...nodeCondition(ready), ...condition, lastHeartbeatTime: stamp(), lastTransitionTime: stamp() }];
      if (nodeInfo) node.status.nodeInfo = { ...node.status.nodeInfo, ...nodeInfo };
      node.metadata.resourceVersion = nextVersion();
      countCordoned();
    },
    onNodeChange(listener) {
      nodeListeners.add(listener);
      return () => void nodeListeners.delete(listener);
    },
    nodeReads(name) {
      return reads.get(name) ?? 0;
    },
    changeAfterNextRead(name, change) {
      racingChanges.set(name, change);
    },
    failNextEviction(namespace, name, status) {
      failures.set(key(namespace, name), status);
    },
    node(name) {
      advance();
      return structuredClone(mustGet(nodes, name, 'node'));
    },
    pods() {
      advance();
      return [...pods.values()].map((pod) => ({ name: key(pod.metadata.namespace!, pod.metadata.name), node: pod.spec.nodeName, ready: podReady(pod), terminating: pod.metadata.deletionTimestamp !== undefined }));
    },
    evictions,
    get maxCordoned() {
      return maxCordoned;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function nodeCondition(ready: boolean): Omit<Condition, 'lastHeartbeatTime' | 'lastTransitionTime'> {
  return ready
    ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
    : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false' };
}

/** RFC 7386: objects merge key by key, `null` removes a key, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const merged: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete merged[name];
    else merged[name] = mergePatch(merged[name], value);
  }
  return merged;
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiStatus(400, 'BadRequest', 'the request body is not JSON');
  }
}

function send(response: ServerResponse, code: number, body: unknown): void {
  response.writeHead(code, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}
