/**
 * Kubernetes label selectors (`matchLabels` and `matchExpressions`, ANDed), to find the
 * PodDisruptionBudgets that cover a pod the way the eviction API does.
 */
import type { V1LabelSelector } from '@kubernetes/client-node';

/**
 * Whether `labels` satisfy `selector`. A policy/v1 PodDisruptionBudget's empty selector selects
 * every pod of its namespace; an absent one selects none.
 *
 * @example selectorMatches({ matchLabels: { app: 'web' } }, { app: 'web', tier: 'front' }) // true
 * @example selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['db'] }] }, {}) // true
 */
export function selectorMatches(selector: V1LabelSelector | undefined, labels: Readonly<Record<string, string>> = {}): boolean {
  if (selector === undefined) return false;
  const has = (key: string) => Object.hasOwn(labels, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (!has(key) || labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
    switch (operator) {
      case 'In': return has(key) && values.includes(labels[key]!);
      case 'NotIn': return !has(key) || !values.includes(labels[key]!);
      case 'Exists': return has(key);
      case 'DoesNotExist': return !has(key);
      // The API server refuses any other operator; a selector it never accepted matches nothing.
      default: return false;
    }
  });
}
