import { describe, expect, it } from 'vitest';
import type { EngineContext, HostChange } from '../host-steps.js';
import { advanceRollout } from '../rollout-machine.js';
import type { Rollout, RolloutHost, RolloutSettings } from '../rollout-model.js';

const T0 = new Date('2026-12-02T03:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

const settings: RolloutSettings = {
  strategy: { kind: 'rolling-reboot', drain: { timeoutMs: 20 * 60_000, stuckAfterMs: 10 * 60_000, deleteEmptyDirData: true }, update: 'agent' },
  executor: { kind: 'agent' },
  maxInFlight: 1, errorBudget: 5, soakMs: 0, promotion: 'automatic', preChecks: [], postChecks: [],
  reboot: { policy: 'always', timeoutMs: 10 * 60_000, onTimeout: 'page' },
  rollback: { automatic: true, commands: [], timeoutMs: 15 * 60_000 },
  expectedHostMs: 12 * 60_000, staleAfterMs: 3_600_000,
};
const rollout: Rollout = { id: 3, bucket: 'kubernetes-nodes', team: 'platform', state: 'running', currentWave: 1, waveCount: 1, snapshot: [{ name: 'linux-image-6.1.0-99-amd64', version: '6.1.99-1' }], settings, createdAt: T0 };
const context = (now: Date): EngineContext => ({ now, admission: { open: true, until: at(3600) }, gates: { state: 'passed' }, isKernelPackage: (name) => name.startsWith('linux-image-') });
const node = (overrides: Partial<RolloutHost> = {}): RolloutHost => ({
  name: 'node-1', wave: 1, state: 'notified', attempt: 1, stateSince: T0, slotHeld: true, replaced: [], memo: {},
  facts: { lastSeenAt: T0, bootId: 'boot-1', rebootRequired: false, installed: { 'linux-image-6.1.0-99-amd64': '6.1.90-1' } },
  ...overrides,
});

/** The host after `change`, with its job's result (when given) as the job worker or agent would report it. */
function after(host: RolloutHost, change: HostChange | undefined, now: Date, result?: Partial<NonNullable<NonNullable<RolloutHost['job']>['result']>>, facts: Partial<RolloutHost['facts']> = {}): RolloutHost {
  if (!change) throw new Error(`${host.name} did not move from ${host.state}`);
  const job = change.job ? { key: change.job.step, step: change.job.step, dispatchedAt: now, deadline: change.job.deadline, ...(result ? { result: { outcome: 'succeeded' as const, replaced: [], finishedAt: now, ...result } } : {}) } : host.job;
  return { ...host, ...change.patch, state: change.to, job, facts: { ...host.facts, ...facts } };
}

const step = (host: RolloutHost, now: Date) => advanceRollout(rollout, [host], context(now));

describe('the rolling-reboot strategy', () => {
  it('cordons, drains, updates, reboots, waits for Ready and uncordons as persisted steps of their own', () => {
    let host = node();
    const states: string[] = [host.state];
    const executors: string[] = [];
    const walk = (now: Date, result?: Parameters<typeof after>[3], facts?: Parameters<typeof after>[4]) => {
      const change = step(host, now).hosts[0];
      if (change?.job) executors.push(`${change.job.step}:${change.job.executor}`);
      host = after(host, change, now, result, facts);
      states.push(host.state);
    };
    walk(at(1), { details: { cordonedByUs: true } });
    expect(host.job?.step).toBe('cordon');
    walk(at(2));
    expect(host.memo).toEqual({ cordonedByUs: true });
    host = { ...host, job: { ...host.job!, result: { outcome: 'succeeded', replaced: [], finishedAt: at(3) } } };
    walk(at(4), { replaced: [{ name: 'linux-image-6.1.0-99-amd64', from: '6.1.90-1', to: '6.1.99-1' }] }, { installed: { 'linux-image-6.1.0-99-amd64': '6.1.99-1' } });
    walk(at(5), { outcome: 'started' });
    walk(at(6));
    // Back: a new boot id with the targets in place, then the node must be Ready.
    host = { ...host, facts: { ...host.facts, bootId: 'boot-2' } };
    walk(at(60), {});
    walk(at(61), {});
    walk(at(62));
    walk(at(63));
    expect(states).toEqual(['notified', 'cordoning', 'draining', 'applying', 'rebooting', 'awaiting-return', 'awaiting-ready', 'uncordoning', 'monitoring', 'succeeded']);
    expect(executors).toEqual(['cordon:kubernetes', 'drain:kubernetes', 'upgrade:agent', 'reboot:agent', 'await-ready:kubernetes', 'uncordon:kubernetes']);
    expect(host.memo.cordonedByUs).toBe(false);
    expect(host.slotHeld).toBe(false);
  });

  it('a drain budgets keep blocked uncordons the node, pauses the rollout and pages, and the node ends failed', () => {
    const draining = node({ state: 'draining', memo: { cordonedByUs: true }, deadline: at(1200), job: { key: 'd', step: 'drain', dispatchedAt: T0, deadline: at(1200), result: { outcome: 'failed', error: 'evicting default/web-1 is blocked by PodDisruptionBudget default/web for 10 min', replaced: [], details: { stuck: true, blockedBy: 'default/web' }, finishedAt: at(600) } } });
    const pass = step(draining, at(601));
    expect(pass.hosts[0]).toMatchObject({ to: 'uncordoning', job: { step: 'uncordon', executor: 'kubernetes' } });
    expect(pass.rollout).toMatchObject({ state: 'paused', pauseReason: 'drain-stuck' });
    expect(pass.events).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'drain-stuck', severity: 'critical' })]));
    const uncordoning = after(draining, pass.hosts[0], at(601), {});
    const done = advanceRollout({ ...rollout, state: 'paused', pauseReason: 'drain-stuck' }, [uncordoning], context(at(602)));
    expect(done.hosts[0]).toMatchObject({ to: 'failed' });
    expect(done.hosts[0]!.patch.lastError).toContain('blocked by PodDisruptionBudget default/web');
    expect(done.events.map((event) => event.kind)).toContain('host-failed');
  });

  it('never uncordons a node someone else cordoned', () => {
    const draining = node({ state: 'draining', memo: { cordonedByUs: false }, job: { key: 'd', step: 'drain', dispatchedAt: T0, deadline: at(1200), result: { outcome: 'failed', error: 'pod default/db-0: 500', replaced: [], finishedAt: at(5) } } });
    const pass = step(draining, at(6));
    expect(pass.hosts[0]).toMatchObject({ to: 'failed' });
    expect(pass.rollout?.pauseReason).toBeUndefined();
    const ready = node({ state: 'awaiting-ready', memo: { cordonedByUs: false }, job: { key: 'r', step: 'await-ready', dispatchedAt: T0, deadline: at(600), result: { outcome: 'succeeded', replaced: [], finishedAt: at(5) } } });
    expect(step(ready, at(6)).hosts[0]).toMatchObject({ to: 'monitoring' });
  });

  it('a failed update is rolled back, then the node is uncordoned before it counts as rolled back', () => {
    const applying = node({ state: 'applying', memo: { cordonedByUs: true }, job: { key: 'u', step: 'upgrade', dispatchedAt: T0, deadline: at(1800), result: { outcome: 'failed', error: 'dpkg error', replaced: [{ name: 'linux-image-6.1.0-99-amd64', from: '6.1.90-1', to: '6.1.99-1' }], finishedAt: at(5) } } });
    const rollingBack = after(applying, step(applying, at(6)).hosts[0], at(6), { outcome: 'succeeded' });
    expect(rollingBack.state).toBe('rolling-back');
    const uncordoning = after(rollingBack, step(rollingBack, at(7)).hosts[0], at(7), {});
    expect(uncordoning.state).toBe('uncordoning');
    const end = step(uncordoning, at(8)).hosts[0];
    expect(end).toMatchObject({ to: 'rolled-back', patch: { slotHeld: false } });
  });
});
