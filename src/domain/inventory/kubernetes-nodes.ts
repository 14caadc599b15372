/**
 * Parses a Kubernetes node list, as `kubectl get nodes -o json` prints it (a `List` of `Node`s) or
 * the API serves it (a v1 `NodeList`; a single `Node` also reads), into one record per node: what
 * the node runs and whether it takes pods. Nodes are hosts fleetpatch may patch without an agent
 * on them; errors name the JSON path (`items[3].status.nodeInfo.osImage`).
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import { hostNameSchema } from '../host-name.js';
import { wellFormedString } from '../well-formed-text.js';
import { parseJsonText } from './json-text.js';
import { inputErrorFromZod } from './zod-issue.js';

export interface KubernetesNode {
  name: string;
  /** `status.nodeInfo.osImage`, e.g. `Ubuntu 22.04.4 LTS`. */
  osImage: string;
  kernelVersion: string;
  kubeletVersion: string;
  /** `containerRuntimeVersion`, e.g. `containerd://1.7.13`. */
  containerRuntime: string;
  architecture: string;
  labels: Record<string, string>;
  /** The kubelet's Ready condition is True (False, Unknown and none are not ready). */
  ready: boolean;
  /** Cordoned: `spec.unschedulable`. */
  unschedulable: boolean;
}

const info = wellFormedString({ max: 256 });

// Only what fleetpatch reads is checked; everything else a node carries passes untouched.
const nodeSchema = z.object({
  kind: z.literal('Node').optional(),
  metadata: z.object({
    name: hostNameSchema,
    labels: z.record(wellFormedString({ min: 1, max: 320 }), wellFormedString({ max: 256 })).optional(),
  }),
  spec: z.object({ unschedulable: z.boolean().optional() }).optional(),
  status: z.object({
    nodeInfo: z.object({ osImage: info, kernelVersion: info, kubeletVersion: info, containerRuntimeVersion: info, architecture: info }),
    conditions: z.array(z.object({ type: z.string(), status: z.string() })).optional(),
  }),
});

const listSchema = z.object({
  kind: z.enum(['List', 'NodeList']),
  items: z.array(nodeSchema),
});

/**
 * @example readKubernetesNodes(execSync('kubectl get nodes -o json', { encoding: 'utf8' }), 'nodes.json')[0]
 *   // { name: 'node-1', osImage: 'Ubuntu 22.04.4 LTS', kernelVersion: '5.15.0-105-generic', kubeletVersion: 'v1.29.3', …, ready: true, unschedulable: false }
 */
export function readKubernetesNodes(text: string, fileName: string): KubernetesNode[] {
  return parseKubernetesNodeList(parseJsonText(text, fileName), fileName);
}

/** The same, for a document already decoded (the API's answer); `source` names it in errors. */
export function parseKubernetesNodeList(document: unknown, source: string): KubernetesNode[] {
  const single = typeof document === 'object' && document !== null && (document as { kind?: unknown }).kind === 'Node';
  const result = single ? nodeSchema.safeParse(document) : listSchema.safeParse(document);
  if (!result.success) throw inputErrorFromZod(result.error, source);
  const items = 'items' in result.data ? result.data.items : [result.data];
  const seen = new Set<string>();
  return items.map((item, index) => {
    const name = item.metadata.name;
    if (seen.has(name)) throw new InputError(`node ${name} is listed twice`, { file: source, field: `items[${index}].metadata.name` });
    seen.add(name);
    const nodeInfo = item.status.nodeInfo;
    return {
      name,
      osImage: nodeInfo.osImage,
      kernelVersion: nodeInfo.kernelVersion,
      kubeletVersion: nodeInfo.kubeletVersion,
      containerRuntime: nodeInfo.containerRuntimeVersion,
      architecture: nodeInfo.architecture,
      labels: item.metadata.labels ?? {},
      ready: item.status.conditions?.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false,
      unschedulable: item.spec?.unschedulable === true,
    };
  });
}
