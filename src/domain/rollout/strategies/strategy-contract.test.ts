// The strategies' shared contract, run on every strategy (and the in-place one through each kind
// of executor): a faithful world — executors and agents that do what each job asks, a person
// who confirms a manual checklist — carries an admitted host to `succeeded`; a world that goes
// silent never leaves a host waiting past its deadlines; a failure at any step ends the host in a
// failed state, never succeeded, with a node fleetpatch cordoned uncordoned first; and every job
// is dispatched with a deadline ahead and an executor the job worker knows.
import { describe, expect, it } from 'vitest';
import type { EngineContext, HostChange } from '../host-steps.js';
import { advanceRollout } from '../rollout-machine.js';
import { FAILED_HOST_STATES, HOST_STEPS, TERMINAL_HOST_STATES, type HostStep, type Rollout, type RolloutHost, type RolloutSettings, type StrategySettings, type ExecutorSettings } from '../rollout-model.js';

const T0 = new Date('2026-12-02T03:00:00Z');
const KERNEL = 'linux-image-6.1.0-99-amd64';
const check = (name: string) => ({ name, command: `patch-host.sh --${name}`, timeoutMs: 60_000, allowedExitCodes: [0] });
const EXECUTORS = new Set(['agent', 'ssh', 'command-hook', 'kubernetes']);

interface Subject {
  name: string;
  strategy: StrategySettings;
  executor: ExecutorSettings;
}

const SUBJECTS: Subject[] = [
  { name: 'in place through the agent', strategy: { kind: 'in-place' }, executor: { kind: 'agent' } },
  { name: 'in place over SSH', strategy: { kind: 'in-place' }, executor: { kind: 'ssh', user: 'root', port: 22, sudo: false, trustOnFirstUse: false } },
  { name: 'in place through a command hook', strategy: { kind: 'in-place' }, executor: { kind: 'command-hook', command: '/opt/runbooks/patch-host.sh', stepTimeoutMs: 20 * 60_000 } },
  { name: 'rolling reboot', strategy: { kind: 'rolling-reboot', drain: { timeoutMs: 20 * 60_000, stuckAfterMs: 10 * 60_000, deleteEmptyDirData: true }, update: 'agent' }, executor: { kind: 'agent' } },
  { name: 'rolling reboot with an update hook', strategy: { kind: 'rolling-reboot', drain: { timeoutMs: 20 * 60_000, stuckAfterMs: 10 * 60_000, deleteEmptyDirData: true }, update: { hook: '/opt/bottlerocket-update.sh' } }, executor: { kind: 'agent' } },
  { name: 'replace', strategy: { kind: 'replace', image: { id: 'img-2', built: '2026-11-29' }, provisionHook: '/p.sh', retireHook: '/r.sh', imageFact: 'image-id', minHealthy: 1, warmupMs: 60_000, enrollTimeoutMs: 15 * 60_000 }, executor: { kind: 'agent' } },
  { name: 'manual', strategy: { kind: 'manual', noticeDays: 14, checklist: ['drain', 'patch', 'reboot'], notifyTeams: [] }, executor: { kind: 'agent' } },
];

function rolloutOf(subject: Subject): Rollout {
  const settings: RolloutSettings = {
    strategy: subject.strategy, executor: subject.executor, maxInFlight: 1, errorBudget: 5, soakMs: 0, promotion: 'automatic',
    preChecks: [check('pre-check')], postChecks: [check('post-check')],
    reboot: { policy: 'always', timeoutMs: 10 * 60_000, onTimeout: 'page' }, rollback: { automatic: true, commands: [], timeoutMs: 15 * 60_000 },
    expectedHostMs: 30 * 60_000, staleAfterMs: 3_600_000,
  };
  return { id: 5, bucket: 'b', team: 't', state: 'running', currentWave: 1, waveCount: 1, snapshot: [{ name: KERNEL, version: '6.1.99-1' }], settings, createdAt: T0, occurrenceStart: T0, memo: { announced: T0.toISOString() } };
}

const admittedHost = (): RolloutHost => ({
  name: 'h-1', wave: 1, state: 'notified', attempt: 1, stateSince: T0, slotHeld: true, replaced: [], memo: {},
  facts: { lastSeenAt: T0, bootId: 'boot-1', rebootRequired: false, installed: { [KERNEL]: '6.1.90-1' }, labels: { 'image-id': 'img-1' } },
});

interface World {
  /** Step whose job fails (the world answers every other job faithfully). */
  failAt?: HostStep;
  /** Nothing answers any more: no job result, no check-in, no person. */
  silent?: boolean;
}

interface Walk {
  states: string[];
  jobs: Array<{ step: HostStep; executor: string; deadlineAhead: boolean }>;
  host: RolloutHost;
}

/** Passes the rollout over one host until it is terminal (bounded), the clock moving a minute per pass. */
function walk(subject: Subject, world: World): Walk {
  const rollout = rolloutOf(subject);
  let host = admittedHost();
  const states = [host.state];
  const jobs: Walk['jobs'] = [];
  let now = T0;
  for (let pass = 0; pass < 400 && !TERMINAL_HOST_STATES.has(host.state); pass++) {
    now = new Date(now.getTime() + 60_000);
    host = respond(subject, host, world, now);
    const context: EngineContext = { now, admission: { open: true, until: new Date(T0.getTime() + 6 * 3_600_000) }, gates: { state: 'passed' }, isKernelPackage: (name) => name.startsWith('linux-image-') };
    const change = advanceRollout(rollout, [host], context).hosts[0];
    if (!change) continue;
    if (change.job) jobs.push({ step: change.job.step, executor: change.job.executor, deadlineAhead: change.job.deadline.getTime() > now.getTime() });
    host = applied(host, change, now);
    states.push(host.state);
  }
  return { states, jobs, host };
}

function applied(host: RolloutHost, change: HostChange, now: Date): RolloutHost {
  const job = change.job ? { key: `${change.job.step}:${now.getTime()}`, step: change.job.step, dispatchedAt: now, deadline: change.job.deadline } : host.job;
  return { ...host, ...change.patch, memo: change.patch.memo ?? host.memo, state: change.to, job };
}

/** The world's answer to the host's current job (once), and what a faithful host and person do meanwhile. */
function respond(subject: Subject, host: RolloutHost, world: World, now: Date): RolloutHost {
  if (world.silent) return host;
  let next = host;
  const job = host.job;
  if (job && !job.result) {
    const ok = { outcome: 'succeeded' as const, replaced: [] as RolloutHost['replaced'], finishedAt: now };
    if (world.failAt === job.step) {
      next = { ...next, job: { ...job, result: { outcome: 'failed', error: `${job.step} failed`, replaced: [], finishedAt: now } } };
    } else {
      switch (job.step) {
        case 'upgrade':
          next = { ...next, facts: { ...next.facts, installed: { [KERNEL]: '6.1.99-1' } }, job: { ...job, result: { ...ok, replaced: [{ name: KERNEL, from: '6.1.90-1', to: '6.1.99-1' }] } } };
          break;
        case 'rollback':
          next = { ...next, facts: { ...next.facts, installed: { [KERNEL]: '6.1.90-1' } }, job: { ...job, result: ok } };
          break;
        case 'reboot':
          // An agent host checks in after its boot by itself; an SSH host is read again by collect-facts.
          next = { ...next, job: { ...job, result: { ...ok, outcome: 'started' } }, ...(subject.executor.kind === 'ssh' ? {} : { facts: { ...next.facts, bootId: 'boot-2' } }) };
          break;
        case 'collect-facts':
          next = { ...next, facts: { ...next.facts, bootId: 'boot-2' }, job: { ...job, result: ok } };
          break;
        case 'cordon':
          next = { ...next, job: { ...job, result: { ...ok, details: { cordonedByUs: true } } } };
          break;
        case 'provision':
          next = { ...next, job: { ...job, result: { ...ok, details: { replacement: 'h-1-r' } } } };
          break;
        default:
          next = { ...next, job: { ...job, result: ok } };
      }
    }
  }
  // The replacement enrolls with the baseline image; the manual window's person does the work.
  if (next.state === 'awaiting-replacement' && world.failAt !== 'provision') next = { ...next, replacement: { name: 'h-1-r', enrolledAt: new Date(now.getTime() - 120_000), lastSeenAt: now, labels: { 'image-id': 'img-2' } } };
  if (next.state === 'awaiting-operator' && subject.strategy.kind === 'manual') next = { ...next, memo: { ...next.memo, confirmed: subject.strategy.checklist.length }, facts: { ...next.facts, installed: { [KERNEL]: '6.1.99-1' } } };
  return next;
}

describe.each(SUBJECTS)('the strategy contract: $name', (subject) => {
  it('a faithful world carries an admitted host to succeeded, its slot given back', () => {
    const { host, states, jobs } = walk(subject, {});
    expect(host.state, states.join(' → ')).toBe('succeeded');
    expect(host.slotHeld).toBe(false);
    for (const job of jobs) {
      expect(EXECUTORS.has(job.executor), job.step).toBe(true);
      expect(job.deadlineAhead, job.step).toBe(true);
    }
  });

  it('a silent world never leaves the host waiting past its deadlines', () => {
    const { host, states } = walk(subject, { silent: true });
    expect(TERMINAL_HOST_STATES.has(host.state), states.join(' → ')).toBe(true);
    expect(host.state).not.toBe('succeeded');
  });

  const steps = HOST_STEPS.filter((step) => walk(subject, {}).jobs.some((job) => job.step === step));
  it.each(steps)('a failed %s ends the host failed, never succeeded, and a node fleetpatch cordoned uncordoned', (failAt) => {
    const { host, states, jobs } = walk(subject, { failAt });
    // Failing the uncordon itself, or a rollback's reinstall, still ends in a failed state.
    expect(FAILED_HOST_STATES.has(host.state), states.join(' → ')).toBe(true);
    // Every node it cordoned is uncordoned afterwards (before the failure, or on the way out of it).
    const lastCordon = jobs.map((job) => job.step).lastIndexOf('cordon');
    const lastUncordon = jobs.map((job) => job.step).lastIndexOf('uncordon');
    if (lastCordon >= 0 && failAt !== 'cordon') expect(lastUncordon, states.join(' → ')).toBeGreaterThan(lastCordon);
  });
});
