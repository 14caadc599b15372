/**
 * What a drain does with each pod on the node, by kubectl drain's rules with its
 * `--ignore-daemonsets` (brupop and kured drain the same way): evict what a controller will start
 * elsewhere, wait for what is already terminating, leave what eviction cannot or need not move.
 */
import type { V1Pod } from '@kubernetes/client-node';

export type PodDisposition =
  | { action: 'evict' }
  /** Being deleted already: the drain waits for it to go. */
  | { action: 'wait' }
  | { action: 'skip'; why: 'DaemonSet' | 'mirror pod' | 'completed' }
  /** The drain must not go on: nothing is evicted while any pod is refused. */
  | { action: 'refuse'; why: string };

/** Set by the kubelet on the API's copy of a static pod; evicting it changes nothing on the node. */
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/**
 * @example podDisposition({ metadata: { ownerReferences: [{ kind: 'DaemonSet', controller: true, … }] } }, false) // { action: 'skip', why: 'DaemonSet' }
 */
export function podDisposition(pod: V1Pod, deleteEmptyDirData: boolean): PodDisposition {
  if (pod.metadata?.annotations?.[MIRROR_ANNOTATION] !== undefined) return { action: 'skip', why: 'mirror pod' };
  // The DaemonSet controller would start it again on this node at once (it tolerates the cordon).
  if (pod.metadata?.ownerReferences?.some((owner) => owner.controller === true && owner.kind === 'DaemonSet')) return { action: 'skip', why: 'DaemonSet' };
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return { action: 'skip', why: 'completed' };
  if (pod.metadata?.deletionTimestamp) return { action: 'wait' };
  if (!deleteEmptyDirData && pod.spec?.volumes?.some((volume) => volume.emptyDir !== undefined)) {
    return { action: 'refuse', why: 'keeps emptyDir data, which its eviction deletes, and the drain may not delete it (deleteEmptyDirData is false)' };
  }
  return { action: 'evict' };
}

/** `namespace/name`, the way kubectl names a pod in messages. */
export function podName(pod: V1Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}
