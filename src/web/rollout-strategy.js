// How a rollout patches its hosts, in words: its strategy and who runs the steps (the settings
// frozen with it, src/domain/rollout/rollout-model.ts), and who runs one job. `rollout show`
// writes the same words (src/cli/commands/rollout.ts).
import { duration } from './format.js';

/** Who runs a job (`job.executor`), as a job's line names it. */
const JOB_RUNNERS = { agent: 'the agent', ssh: 'SSH', 'command-hook': 'the command hook', kubernetes: 'the Kubernetes API' };

export const jobRunner = (executor) => JOB_RUNNERS[executor] ?? executor ?? 'the agent';

/** The executor that reaches a host for its own steps; rollouts stored before executors were frozen used the agent. */
function executorText(executor) {
  switch (executor?.kind) {
    case 'ssh':
      return `SSH as ${executor.user}${executor.port === 22 ? '' : `, port ${executor.port}`}`;
    case 'command-hook':
      return `command hook ${executor.command}`;
    default:
      return 'the agent';
  }
}

const noticeText = (days) => (days === 0 ? 'no notice' : days === 1 ? '1 day\'s notice' : `${days} days' notice`);

/** The strategy and what runs it, e.g. `rolling reboot · Kubernetes API`, `manual · 14 days' notice`. */
export function strategySummary(settings) {
  const strategy = settings.strategy ?? { kind: 'in-place' };
  switch (strategy.kind) {
    case 'rolling-reboot':
      return 'rolling reboot · Kubernetes API';
    case 'replace':
      return `replace · image ${strategy.image.id} (built ${strategy.image.built})`;
    case 'manual':
      return `manual · ${noticeText(strategy.noticeDays)}`;
    default:
      return `in place · ${executorText(settings.executor)}`;
  }
}

/** The rest a person may want: how the node OS is updated, the hooks, the checklist's length. */
export function strategyDetail(settings) {
  const strategy = settings.strategy ?? { kind: 'in-place' };
  const executor = settings.executor;
  switch (strategy.kind) {
    case 'rolling-reboot':
      return [
        `drain within ${duration(strategy.drain.timeoutMs)} (stuck after ${duration(strategy.drain.stuckAfterMs)})`,
        `the OS updated by ${strategy.update === 'agent' ? executorText(executor) : `hook ${strategy.update.hook}`}`,
      ].join(' · ');
    case 'replace':
      return [
        `at least ${strategy.minHealthy} host${strategy.minHealthy === 1 ? '' : 's'} serving`,
        `warm-up ${duration(strategy.warmupMs)}`,
        `provision ${strategy.provisionHook}`,
        `retire ${strategy.retireHook}`,
        `image label ${strategy.imageFact}`,
      ].join(' · ');
    case 'manual':
      return [`a ${strategy.checklist.length}-step checklist per host`, ...(strategy.notifyTeams.length ? [`also told: ${strategy.notifyTeams.join(', ')}`] : [])].join(' · ');
    default:
      if (executor?.kind === 'ssh') return [executor.sudo ? 'with sudo' : 'without sudo', executor.addressLabel ? `address from label ${executor.addressLabel}` : 'address: the host name', executor.trustOnFirstUse ? 'trusts a new host key' : 'known host keys only'].join(' · ');
      if (executor?.kind === 'command-hook') return `each step at most ${duration(executor.stepTimeoutMs)}`;
      return '';
  }
}
