// Kubernetes node lists: kubectl's List, the API's NodeList and a single Node; errors name the JSON path.
import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { parseKubernetesNodeList, readKubernetesNodes } from './kubernetes-nodes.js';

/** Shaped like `kubectl get nodes -o json` on a kubeadm cluster (trimmed: images, addresses, capacity). */
function kubectlNode(name: string, overrides: { arch?: string; ready?: 'True' | 'False' | 'Unknown'; unschedulable?: boolean; labels?: Record<string, string> } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      annotations: { 'kubeadm.alpha.kubernetes.io/cri-socket': 'unix:///var/run/containerd/containerd.sock', 'node.alpha.kubernetes.io/ttl': '0' },
      creationTimestamp: '2026-03-02T09:14:03Z',
      labels: { 'kubernetes.io/arch': overrides.arch ?? 'amd64', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/worker': '', 'topology.kubernetes.io/zone': 'eu-west-1a', ...overrides.labels },
      name,
      resourceVersion: '4711',
      uid: '0b0e7a5e-95c1-4c57-a1f2-7d2f1f9b6a10',
    },
    spec: { podCIDR: '10.244.1.0/24', ...(overrides.unschedulable ? { unschedulable: true, taints: [{ effect: 'NoSchedule', key: 'node.kubernetes.io/unschedulable', timeAdded: '2026-12-02T03:00:00Z' }] } : {}) },
    status: {
      conditions: [
        { lastHeartbeatTime: '2026-12-02T03:10:00Z', lastTransitionTime: '2026-03-02T09:14:33Z', message: 'kubelet has sufficient memory available', reason: 'KubeletHasSufficientMemory', status: 'False', type: 'MemoryPressure' },
        { lastHeartbeatTime: '2026-12-02T03:10:00Z', lastTransitionTime: '2026-03-02T09:14:33Z', message: 'kubelet is posting ready status', reason: 'KubeletReady', status: overrides.ready ?? 'True', type: 'Ready' },
      ],
      nodeInfo: {
        architecture: overrides.arch ?? 'amd64', bootID: 'c2e4a1d8-1f7b-4a8e-9d35-0e6b5f8c2a11', containerRuntimeVersion: 'containerd://1.7.13', kernelVersion: '5.15.0-105-generic',
        kubeProxyVersion: 'v1.29.3', kubeletVersion: 'v1.29.3', machineID: '6b3f0f1b9d2a4c0e8f7a5d4c3b2a1f0e', operatingSystem: 'linux', osImage: 'Ubuntu 22.04.4 LTS', systemUUID: 'ec2f7a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b',
      },
    },
  };
}

const kubectlList = (items: unknown[]) => ({ apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } });

function inputError(read: () => unknown): InputError {
  try {
    read();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('Kubernetes node lists', () => {
  it('reads what each node runs and whether it takes pods', () => {
    const text = JSON.stringify(kubectlList([kubectlNode('worker-1'), kubectlNode('worker-2', { arch: 'arm64', ready: 'Unknown', unschedulable: true })]), null, 4);
    expect(readKubernetesNodes(text, 'nodes.json')).toEqual([
      {
        name: 'worker-1', osImage: 'Ubuntu 22.04.4 LTS', kernelVersion: '5.15.0-105-generic', kubeletVersion: 'v1.29.3', containerRuntime: 'containerd://1.7.13', architecture: 'amd64',
        labels: { 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': 'worker-1', 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/worker': '', 'topology.kubernetes.io/zone': 'eu-west-1a' },
        ready: true, unschedulable: false,
      },
      expect.objectContaining({ name: 'worker-2', architecture: 'arm64', ready: false, unschedulable: true }),
    ]);
  });

  it('reads the API\'s NodeList, whose items carry no kind, and a single Node alike', () => {
    const { kind: _kind, apiVersion: _apiVersion, ...item } = kubectlNode('worker-1');
    const fromApi = parseKubernetesNodeList({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '4711' }, items: [item] }, 'cluster prod');
    expect(fromApi).toEqual(readKubernetesNodes(JSON.stringify(kubectlNode('worker-1')), 'node.json'));
  });

  it('names the field of a bad node, whichever item it is', () => {
    const broken = kubectlNode('worker-4') as Record<string, unknown> & { status: Record<string, unknown> };
    delete broken.status.nodeInfo;
    const items = [kubectlNode('worker-1'), kubectlNode('worker-2'), kubectlNode('worker-3'), broken];
    expect(inputError(() => readKubernetesNodes(JSON.stringify(kubectlList(items)), 'nodes.json')).message).toMatch(/^nodes\.json, field items\[3\]\.status\.nodeInfo: .*expected object/);

    const badName = kubectlNode('worker/1');
    expect(inputError(() => readKubernetesNodes(JSON.stringify(kubectlList([badName])), 'nodes.json')).message).toMatch(/^nodes\.json, field items\[0\]\.metadata\.name: not a host name/);

    const badLabel = kubectlNode('worker-1', { labels: { team: 'a\u001b[31mb' } });
    expect(inputError(() => readKubernetesNodes(JSON.stringify(kubectlList([badLabel])), 'nodes.json')).message).toMatch(/field items\[0\]\.metadata\.labels\.team: .*control character/);

    expect(inputError(() => readKubernetesNodes(JSON.stringify(kubectlList([kubectlNode('a'), kubectlNode('a')])), 'nodes.json')).message).toBe('nodes.json, field items[1].metadata.name: node a is listed twice');
  });

  it('says what it expected of something else: pods, or not JSON', () => {
    const pods = kubectlList([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0' }, spec: {}, status: {} }]);
    expect(inputError(() => readKubernetesNodes(JSON.stringify(pods), 'pods.json')).message).toMatch(/^pods\.json, field items\[0\]\.kind: .*"Node"/);
    expect(inputError(() => readKubernetesNodes('{\n  "kind": "List",\n  "items": [\n    {"kind": "Node"}\n    {"kind": "Node"}\n  ]\n}', 'nodes.json')).location).toMatchObject({ file: 'nodes.json', line: 5 });
    expect(inputError(() => parseKubernetesNodeList({ items: [] }, 'cluster prod')).message).toMatch(/^cluster prod, field kind: /);
  });
});
