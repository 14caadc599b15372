/**
 * PodDisruptionBudgets seen from a rolling reboot: the ones that allow no disruption now (so the
 * plan can say "this drain cannot succeed" before any node is cordoned, brupop #594), and the ones
 * that cover a pod whose eviction was refused (what a stuck drain names).
 */
import type { KubeConfig, V1Pod, V1PodDisruptionBudget } from '@kubernetes/client-node';
import { abortable, kubernetesClients, request, type KubernetesClients } from './kubernetes-api.js';
import { selectorMatches } from './label-selector.js';

export interface DisruptionBlocker {
  /** `namespace/name` of the PodDisruptionBudget. */
  budget: string;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  /** The nodes its pods run on, sorted: a drain of any of them waits until the budget allows one more disruption. */
  nodes: string[];
}

/**
 * Budgets whose `status.disruptionsAllowed` is 0, with the nodes their pods run on. A budget the
 * disruption controller has not observed yet (no status) is not counted.
 *
 * @example await disruptionBlockers(kubeConfig) // [{ budget: 'shop/web', currentHealthy: 2, desiredHealthy: 2, expectedPods: 2, nodes: ['node-1', 'node-2'] }]
 */
export async function disruptionBlockers(kubeConfig: KubeConfig, options: { signal?: AbortSignal } = {}): Promise<DisruptionBlocker[]> {
  const clients = kubernetesClients(kubeConfig);
  const budgets = await listBudgets(clients, options.signal);
  const blocking = budgets.filter((budget) => budget.status !== undefined && budget.status.disruptionsAllowed === 0);
  if (blocking.length === 0) return [];
  const pods = (await request('listing pods', () => clients.core.listPodForAllNamespaces({}, abortable(options.signal)))).items;
  return blocking.map((budget) => {
    const nodes = new Set<string>();
    for (const pod of pods) {
      // A completed pod stays listed on its node, but no drain evicts it.
      const running = pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
      if (running && pod.spec?.nodeName !== undefined && covers(budget, pod)) nodes.add(pod.spec.nodeName);
    }
    return {
      budget: budgetName(budget),
      currentHealthy: budget.status!.currentHealthy,
      desiredHealthy: budget.status!.desiredHealthy,
      expectedPods: budget.status!.expectedPods,
      nodes: [...nodes].sort(),
    };
  });
}

/** `namespace/name` of each budget that covers `pod`: the eviction API judges the pod by these. */
export async function budgetsCovering(clients: KubernetesClients, pod: V1Pod, signal: AbortSignal): Promise<string[]> {
  return (await listBudgets(clients, signal)).filter((budget) => covers(budget, pod)).map(budgetName);
}

async function listBudgets(clients: KubernetesClients, signal: AbortSignal | undefined): Promise<V1PodDisruptionBudget[]> {
  return (await request('listing PodDisruptionBudgets', () => clients.policy.listPodDisruptionBudgetForAllNamespaces({}, abortable(signal)))).items;
}

function covers(budget: V1PodDisruptionBudget, pod: V1Pod): boolean {
  return budget.metadata?.namespace === pod.metadata?.namespace && selectorMatches(budget.spec?.selector, pod.metadata?.labels);
}

function budgetName(budget: V1PodDisruptionBudget): string {
  return `${budget.metadata?.namespace ?? ''}/${budget.metadata?.name ?? ''}`;
}
