/** The cluster's nodes through the API, for the node inventory (`fleetpatch nodes import --kubeconfig`). */
import type { KubeConfig } from '@kubernetes/client-node';
import { abortable, kubernetesClients, request } from './kubernetes-api.js';

/**
 * The v1 NodeList as JSON, the document `kubectl get nodes -o json` prints, so one parser reads
 * both. Throws `KubernetesRequestFailed` when the API cannot be read.
 *
 * @example parseKubernetesNodeList(await listNodes(kubeConfig), 'cluster prod')
 */
export async function listNodes(kubeConfig: KubeConfig, options: { signal?: AbortSignal } = {}): Promise<unknown> {
  const list = await request('listing nodes', () => kubernetesClients(kubeConfig).core.listNode({}, abortable(options.signal)));
  // The client hands back typed objects with Date fields; serialized, they are the API's document again.
  return JSON.parse(JSON.stringify(list)) as unknown;
}
