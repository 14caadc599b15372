/**
 * Which executor runs a server-side job: the bucket's command hook (or a rolling reboot's node
 * update hook), SSH with the bucket's settings, or the Kubernetes API. SSH and Kubernetes need
 * what only the server's configuration knows (keys, known hosts, a kubeconfig): a server started
 * without them says so in the job's result, and the rollout shows it.
 */
import { existsSync } from 'node:fs';
import type { Bucket } from '../domain/policy/policy-schema.js';
import type { ExecutorSettings, RolloutSettings } from '../domain/rollout/rollout-model.js';
import { createCommandHookExecutor } from '../executors/command-hook.js';
import type { Executor } from '../executors/executor.js';
import type { ExecutorFor } from './job-worker.js';
import type { DisruptionBlockers } from './rollout-service.js';

export interface ServerExecutors {
  /** The cluster's API, for rolling reboots (`--kubeconfig`, or the pod's service account). */
  kubernetes?: Executor;
  /** SSH with this server's key and known hosts, for a bucket's SSH settings. */
  ssh?: (settings: Extract<ExecutorSettings, { kind: 'ssh' }>) => Executor;
  /** The cluster's PodDisruptionBudgets that allow no disruption now, with the nodes their pods run on. */
  disruptionBlockers?: () => Promise<DisruptionBlockers>;
}

/**
 * Whether this server can run a bucket's server-side steps: Kubernetes access for a rolling
 * reboot, an SSH executor for SSH hosts, the hook's file for a command hook. The schedule starts
 * only rollouts it can carry out (the demo's examples/fleetpatch.yaml names hooks under /opt).
 */
export function canReach(bucket: Bucket, available: ServerExecutors): boolean {
  if (bucket.strategy.kind === 'rolling-reboot' && (!available.kubernetes || (bucket.strategy.update !== 'agent' && !existsSync(bucket.strategy.update.hook)))) return false;
  if (bucket.strategy.kind === 'replace') return existsSync(bucket.strategy.provisionHook) && existsSync(bucket.strategy.retireHook);
  if (bucket.executor.kind === 'ssh') return available.ssh !== undefined;
  if (bucket.executor.kind === 'command-hook') return existsSync(bucket.executor.command);
  return true;
}

/** The hook a command-hook job runs: a replacement's provision or retire hook, a rolling reboot's node update hook for its update and reboot, else the bucket's executor. */
function hookCommand(settings: RolloutSettings, step: string): string | undefined {
  const strategy = settings.strategy;
  if (strategy?.kind === 'replace' && (step === 'provision' || step === 'retire')) return step === 'provision' ? strategy.provisionHook : strategy.retireHook;
  if (strategy?.kind === 'rolling-reboot' && strategy.update !== 'agent' && (step === 'upgrade' || step === 'reboot')) return strategy.update.hook;
  return settings.executor?.kind === 'command-hook' ? settings.executor.command : undefined;
}

/**
 * @example const executorFor = serverExecutorFor({ kubernetes: createKubernetesExecutor({ kubeConfig }) })
 */
export function serverExecutorFor(available: ServerExecutors): ExecutorFor {
  const hooks = new Map<string, Executor>();
  const ssh = new Map<string, Executor>();
  return (job) => {
    switch (job.executor) {
      case 'command-hook': {
        const command = hookCommand(job.settings, job.job.step);
        if (!command) return { unavailable: `rollout ${job.rolloutId} names no command hook for its ${job.job.step} step` };
        let executor = hooks.get(command);
        if (!executor) hooks.set(command, (executor = createCommandHookExecutor({ command })));
        return executor;
      }
      case 'kubernetes':
        return available.kubernetes ?? { unavailable: 'this server has no Kubernetes access: start it with --kubeconfig FILE, or in a pod whose service account may patch nodes and evict pods' };
      case 'ssh': {
        const settings = job.settings.executor;
        if (settings?.kind !== 'ssh') return { unavailable: `rollout ${job.rolloutId} has no SSH settings` };
        if (!available.ssh) return { unavailable: 'this server has no SSH executor configured' };
        const key = JSON.stringify(settings);
        let executor = ssh.get(key);
        if (!executor) ssh.set(key, (executor = available.ssh(settings)));
        return executor;
      }
    }
  };
}
