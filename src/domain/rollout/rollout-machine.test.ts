import { describe, expect, it } from 'vitest';
import { advanceRollout, type EngineContext, type HostChange, type OtherHosts } from './rollout-machine.js';
import { FAILED_HOST_STATES, TERMINAL_HOST_STATES, type Rollout, type RolloutHost, type RolloutSettings } from './rollout-model.js';

const T0 = new Date('2026-12-01T22:00:00Z');
const minutes = (n: number) => new Date(T0.getTime() + n * 60_000);
const check = (name: string) => ({ name, command: `patch-host.sh --${name}`, timeoutMs: 60_000, allowedExitCodes: [0] });

const settings = (overrides: Partial<RolloutSettings> = {}): RolloutSettings => ({
  maxInFlight: 2,
  errorBudget: 0,
  soakMs: 10 * 60_000,
  promotion: 'automatic',
  preChecks: [check('pre-check')],
  postChecks: [check('post-check')],
  reboot: { policy: 'if-required', timeoutMs: 5 * 60_000, onTimeout: 'page' },
  rollback: { automatic: true, commands: [], timeoutMs: 15 * 60_000 },
  expectedHostMs: 20 * 60_000,
  staleAfterMs: 3_600_000,
  ...overrides,
});

const rollout = (overrides: Partial<Rollout> = {}): Rollout => ({
  id: 7, bucket: 'databases', team: 'data-platform', state: 'created', currentWave: 0, waveCount: 2,
  snapshot: [{ name: 'libssl3', version: '3.0.15-1' }, { name: 'linux-image-6.1.0-99-amd64', version: '6.1.99-1' }],
  settings: settings(), createdAt: T0, ...overrides,
});

const host = (name: string, wave: number, overrides: Partial<RolloutHost> = {}): RolloutHost => ({
  name, wave, state: 'pending', attempt: 1, stateSince: T0, slotHeld: false, replaced: [], memo: {},
  facts: { lastSeenAt: T0, inventoryAt: T0, bootId: 'boot-1', rebootRequired: false, installed: { 'libssl3': '3.0.11-1' } },
  ...overrides,
});

const context = (now: Date, overrides: Partial<EngineContext> = {}): EngineContext => ({
  now, admission: { open: true, until: minutes(180) }, gates: { state: 'passed' }, isKernelPackage: (name) => name.startsWith('linux-image-'), ...overrides,
});

/** Applies a pass's changes the way the store writes them. */
function apply(hosts: RolloutHost[], changes: HostChange[], now: Date, result?: (change: HostChange) => RolloutHost['job']): RolloutHost[] {
  return hosts.map((item) => {
    const change = changes.find((candidate) => candidate.name === item.name);
    if (!change) return item;
    const job = change.job ? { key: `${change.job.step}`, step: change.job.step, dispatchedAt: now, deadline: change.job.deadline, result: result?.(change)?.result } : item.job;
    return { ...item, ...change.patch, state: change.to, job };
  });
}

const ok = (replaced: RolloutHost['replaced'] = [], finishedAt = T0) => ({ outcome: 'succeeded' as const, replaced, finishedAt });

describe('advanceRollout, in-place', () => {
  it('admits the first wave up to maxInFlight, then walks a host through pre-check, upgrade, reboot, post-check and monitoring', () => {
    const start = advanceRollout(rollout({ waveCount: 1 }), [host('db-1', 1), host('db-2', 1), host('db-3', 1)], context(T0));
    expect(start.rollout).toMatchObject({ state: 'running', currentWave: 1 });
    expect(start.hosts.map((change) => [change.name, change.to])).toEqual([['db-1', 'notified'], ['db-2', 'notified']]);
    expect(start.events.map((event) => event.kind)).toEqual(['rollout-started']);

    let r = rollout({ state: 'running', currentWave: 1, waveCount: 1 });
    let hosts = [host('db-1', 1, { state: 'notified', slotHeld: true })];
    const pre = advanceRollout(r, hosts, context(minutes(1)));
    expect(pre.hosts[0]).toMatchObject({ to: 'pre-check', job: { step: 'pre-check', commands: [check('pre-check')] } });
    hosts = apply(hosts, pre.hosts, minutes(1), () => ({ result: ok() }) as never);

    const upgrade = advanceRollout(r, hosts, context(minutes(2)));
    expect(upgrade.hosts[0]).toMatchObject({ to: 'applying', job: { step: 'upgrade', packages: [{ name: 'libssl3', version: '3.0.15-1' }] } });
    hosts = apply(hosts, upgrade.hosts, minutes(2));
    // The agent reported; the engine waits for the check-in that shows the versions (until the step's deadline).
    hosts = hosts.map((item) => ({ ...item, job: { ...item.job!, result: ok([{ name: 'libssl3', from: '3.0.11-1', to: '3.0.15-1' }], minutes(3)) } }));
    expect(advanceRollout(r, hosts, context(minutes(3))).hosts).toEqual([]);
    expect(advanceRollout(r, hosts, context(minutes(33))).hosts[0]).toMatchObject({ to: 'rolling-back', note: 'after the upgrade libssl3 is 3.0.11-1, expected 3.0.15-1' });
    hosts = hosts.map((item) => ({ ...item, facts: { ...item.facts, inventoryAt: minutes(3.5), rebootRequired: true, installed: { libssl3: '3.0.15-1' } } }));
    const reboot = advanceRollout(r, hosts, context(minutes(4)));
    expect(reboot.hosts[0]).toMatchObject({ to: 'rebooting', job: { step: 'reboot' }, patch: { bootIdBefore: 'boot-1', rebootRequestedAt: minutes(4) } });
    hosts = apply(hosts, reboot.hosts, minutes(4), () => ({ result: { outcome: 'started', replaced: [], finishedAt: minutes(4) } }) as never);
    const away = advanceRollout(r, hosts, context(minutes(4.5)));
    expect(away.hosts[0]).toMatchObject({ to: 'awaiting-return', patch: { deadline: minutes(9.5) } });
    hosts = apply(hosts, away.hosts, minutes(4.5));
    // A check-in with the old boot id is not a return.
    hosts = hosts.map((item) => ({ ...item, facts: { ...item.facts, inventoryAt: minutes(5), bootId: 'boot-1' } }));
    expect(advanceRollout(r, hosts, context(minutes(5))).hosts).toEqual([]);
    hosts = hosts.map((item) => ({ ...item, facts: { ...item.facts, bootId: 'boot-2', inventoryAt: minutes(6), rebootRequired: false } }));
    const post = advanceRollout(r, hosts, context(minutes(6)));
    expect(post.hosts[0]).toMatchObject({ to: 'post-check', job: { step: 'post-check' } });
    hosts = apply(hosts, post.hosts, minutes(6), () => ({ result: ok() }) as never);
    const monitoring = advanceRollout(r, hosts, context(minutes(7)));
    expect(monitoring.hosts[0]!.to).toBe('monitoring');
    hosts = apply(hosts, monitoring.hosts, minutes(7));
    const done = advanceRollout(r, hosts, context(minutes(8)));
    expect(done.hosts[0]).toMatchObject({ to: 'succeeded', patch: { slotHeld: false } });
    hosts = apply(hosts, done.hosts, minutes(8));
    r = { ...r };
    expect(advanceRollout(r, hosts, context(minutes(9))).rollout).toMatchObject({ state: 'succeeded' });
  });

  it('fails a host whose pre-check fails without touching it, and halts when that spends the budget', () => {
    const r = rollout({ state: 'running', currentWave: 1 });
    const hosts = [host('db-1', 1, { state: 'pre-check', slotHeld: true, job: { key: 'k', step: 'pre-check', dispatchedAt: T0, deadline: minutes(2), result: { outcome: 'failed', exitCode: 3, replaced: [], finishedAt: T0 } } }), host('db-2', 1)];
    const pass = advanceRollout(r, hosts, context(minutes(1)));
    expect(pass.hosts).toEqual([expect.objectContaining({ name: 'db-1', to: 'failed', patch: expect.objectContaining({ lastError: 'pre-check failed: exit 3' }) })]);
    expect(pass.rollout).toMatchObject({ state: 'halted', haltReason: 'budget-spent' });
    expect(pass.events.map((event) => event.kind)).toEqual(['host-failed', 'rollout-halted']);
  });

  it('rolls a host back to the versions its upgrade replaced when its post-check fails, and frees its slot only once verified', () => {
    const r = rollout({ state: 'running', currentWave: 1, settings: settings({ errorBudget: 1 }) });
    const replaced = [{ name: 'libssl3', from: '3.0.11-1', to: '3.0.15-1' }];
    let hosts = [host('db-1', 1, { state: 'post-check', slotHeld: true, replaced, facts: { lastSeenAt: T0, rebootRequired: false, installed: { libssl3: '3.0.15-1' } }, job: { key: 'k', step: 'post-check', dispatchedAt: T0, deadline: minutes(2), result: { outcome: 'failed', exitCode: 1, error: 'replication lag', replaced: [], finishedAt: T0 } } })];
    const pass = advanceRollout(r, hosts, context(minutes(1)));
    expect(pass.hosts[0]).toMatchObject({ to: 'rolling-back', job: { step: 'rollback', previous: [{ name: 'libssl3', version: '3.0.11-1' }] } });
    hosts = apply(hosts, pass.hosts, minutes(1), () => ({ result: ok([{ name: 'libssl3', from: '3.0.15-1', to: '3.0.11-1' }], minutes(2)) }) as never);
    // Not verified until a check-in shows the old version again.
    expect(advanceRollout(r, hosts, context(minutes(2))).hosts).toEqual([]);
    hosts = hosts.map((item) => ({ ...item, facts: { ...item.facts, inventoryAt: minutes(3), installed: { libssl3: '3.0.11-1' } } }));
    expect(advanceRollout(r, hosts, context(minutes(3))).hosts[0]).toMatchObject({ to: 'rolled-back', patch: { slotHeld: false } });
  });

  it('declares a host that never returns from its reboot reboot-stuck at the timeout and pages; onTimeout halt halts', () => {
    const stuckHost = host('db-1', 1, { state: 'awaiting-return', slotHeld: true, bootIdBefore: 'boot-1', rebootRequestedAt: T0, deadline: minutes(5) });
    const r = rollout({ state: 'running', currentWave: 1, settings: settings({ errorBudget: 5 }) });
    expect(advanceRollout(r, [stuckHost], context(minutes(4))).hosts).toEqual([]);
    const late = advanceRollout(r, [stuckHost], context(minutes(6)));
    expect(late.hosts[0]!.to).toBe('reboot-stuck');
    expect(late.events).toEqual([expect.objectContaining({ kind: 'reboot-stuck', severity: 'critical', host: 'db-1' })]);
    // Stuck is where that host ends: its wave is done, and with budget left the rollout bakes on.
    expect(late.rollout).toMatchObject({ state: 'baking' });
    const halting = advanceRollout({ ...r, settings: settings({ errorBudget: 5, reboot: { policy: 'if-required', timeoutMs: 300_000, onTimeout: 'halt' } }) }, [stuckHost], context(minutes(6)));
    expect(halting.rollout).toMatchObject({ state: 'halted', haltReason: 'stuck-host' });
  });

  it('bakes between waves, then promotes automatically or waits for approval', () => {
    const done = [host('db-1', 1, { state: 'succeeded' }), host('db-2', 2)];
    const bake = advanceRollout(rollout({ state: 'running', currentWave: 1 }), done, context(minutes(1)));
    expect(bake.rollout).toEqual({ state: 'baking', bakeUntil: minutes(11) });
    const baking = rollout({ state: 'baking', currentWave: 1, bakeUntil: minutes(11) });
    expect(advanceRollout(baking, done, context(minutes(5))).rollout).toBeUndefined();
    expect(advanceRollout(baking, done, context(minutes(12), { gates: { state: 'running' } })).rollout).toBeUndefined();
    const promoted = advanceRollout(baking, done, context(minutes(12)));
    expect(promoted.rollout).toMatchObject({ state: 'running', currentWave: 2 });
    expect(promoted.hosts).toEqual([expect.objectContaining({ name: 'db-2', to: 'notified' })]);
    const approval = advanceRollout({ ...baking, settings: settings({ promotion: 'approval' }) }, done, context(minutes(12)));
    expect(approval.rollout).toMatchObject({ state: 'paused', pauseReason: 'approval' });
  });

  it('admits nobody during a freeze or once the window has no room for a host; started hosts finish; the rollout resumes when it opens', () => {
    const waiting = [host('db-1', 1), host('db-2', 1)];
    const frozen = advanceRollout(rollout(), waiting, context(T0, { admission: { open: false, reason: 'freeze', detail: 'in the freeze year-end' } }));
    expect(frozen.rollout).toMatchObject({ state: 'waiting-for-window' });
    expect(frozen.hosts).toEqual([]);
    // 20 minutes per host, 10 left before the cutoff: nobody new starts.
    const late = advanceRollout(rollout({ state: 'running', currentWave: 1 }), waiting, context(minutes(170)));
    expect(late.hosts).toEqual([]);
    const inFlight = [host('db-1', 1, { state: 'monitoring', slotHeld: true }), host('db-2', 1)];
    const closing = advanceRollout(rollout({ state: 'running', currentWave: 1 }), inFlight, context(minutes(200), { admission: { open: false, reason: 'window-closed', detail: 'the window closed' } }));
    expect(closing.hosts).toEqual([expect.objectContaining({ name: 'db-1', to: 'succeeded' })]);
    const paused = advanceRollout(rollout({ state: 'running', currentWave: 1 }), [host('db-1', 1, { state: 'succeeded' }), host('db-2', 1)], context(minutes(200), { admission: { open: false, reason: 'window-closed', detail: 'the window closed' } }));
    expect(paused.rollout).toMatchObject({ state: 'paused', pauseReason: 'window-closed' });
    const nextDay = minutes(1440);
    const seen = host('db-2', 1, { facts: { lastSeenAt: nextDay, rebootRequired: false, installed: { libssl3: '3.0.11-1' } } });
    const reopened = advanceRollout(rollout({ state: 'paused', pauseReason: 'window-closed', currentWave: 1 }), [host('db-1', 1, { state: 'succeeded' }), seen], context(nextDay, { admission: { open: true, until: minutes(1600) } }));
    expect(reopened.rollout).toMatchObject({ state: 'running' });
    expect(reopened.hosts).toEqual([expect.objectContaining({ name: 'db-2', to: 'notified' })]);
  });

  it('marks silent hosts no-agent and compliant hosts skipped instead of taking slots', () => {
    const pass = advanceRollout(rollout({ state: 'running', currentWave: 1, settings: settings({ maxInFlight: 1 }) }), [
      host('db-1', 1, { facts: { lastSeenAt: new Date(T0.getTime() - 7_200_000), rebootRequired: false, installed: { libssl3: '3.0.11-1' } } }),
      host('db-2', 1, { facts: { lastSeenAt: T0, rebootRequired: false, installed: { libssl3: '3.0.15-1' } } }),
      host('db-3', 1),
    ], context(T0));
    expect(pass.hosts.map((change) => [change.name, change.to])).toEqual([['db-1', 'no-agent'], ['db-2', 'skipped'], ['db-3', 'notified']]);
  });

  it('acts on gates as they say: halt, pause on failure, pause on inconclusive or error (never passed)', () => {
    const hosts = [host('db-1', 1, { state: 'succeeded', replaced: [{ name: 'libssl3', from: '3.0.11-1', to: '3.0.15-1' }] }), host('db-2', 2)];
    const baking = rollout({ state: 'baking', currentWave: 1, bakeUntil: minutes(1) });
    expect(advanceRollout(baking, hosts, context(minutes(2), { gates: { state: 'failed', gate: 'error-rate', onFailure: 'halt' } })).rollout).toMatchObject({ state: 'halted', haltReason: 'gate-failed' });
    expect(advanceRollout(baking, hosts, context(minutes(2), { gates: { state: 'failed', gate: 'error-rate', onFailure: 'pause' } })).rollout).toMatchObject({ state: 'paused', pauseReason: 'gate-failed' });
    expect(advanceRollout(baking, hosts, context(minutes(2), { gates: { state: 'inconclusive', gate: 'error-rate' } })).rollout).toMatchObject({ state: 'paused', pauseReason: 'inconclusive-gate' });
    expect(advanceRollout(baking, hosts, context(minutes(2), { gates: { state: 'error', gate: 'error-rate', detail: 'no data' } })).rollout).toMatchObject({ state: 'paused', pauseReason: 'gate-error', reason: 'gate error-rate error: no data' });
    const rollingBack = advanceRollout(baking, hosts, context(minutes(2), { gates: { state: 'failed', gate: 'error-rate', onFailure: 'rollback' } }));
    expect(rollingBack.rollout).toMatchObject({ state: 'rolling-back' });
    expect(rollingBack.hosts).toEqual([expect.objectContaining({ name: 'db-1', to: 'rolling-back', job: expect.objectContaining({ step: 'rollback' }) })]);
  });

  it('times out a step whose job never reports, keeping the slot', () => {
    const silent = host('db-1', 1, { state: 'applying', slotHeld: true, deadline: minutes(30), job: { key: 'k', step: 'upgrade', dispatchedAt: T0, deadline: minutes(30) } });
    const pass = advanceRollout(rollout({ state: 'running', currentWave: 1, settings: settings({ errorBudget: 3 }) }), [silent, host('db-2', 1), host('db-3', 1)], context(minutes(31)));
    expect(pass.hosts[0]).toMatchObject({ name: 'db-1', to: 'timed-out' });
    expect(pass.hosts[0]!.patch.slotHeld).toBeUndefined();
    // One slot left of two: db-1 keeps its own.
    expect(pass.hosts.filter((change) => change.to === 'notified').map((change) => change.name)).toEqual(['db-2']);
  });
});

describe('advanceRollout over the hosts a pass reads, the others counted', () => {
  const succeeded = (name: string, wave: number) => host(name, wave, { state: 'succeeded', replaced: [{ name: 'libssl3', from: '3.0.11-1', to: '3.0.15-1' }] });
  /**
   * Whether a host in a step has something new to act on, as `loadPassHosts` selects them: a state
   * that moves on its own, a result (the store's news), a deadline passed.
   */
  const canChange = (item: RolloutHost, now: Date) =>
    ['notified', 'monitoring', 'rebooting', 'awaiting-return', 'reboot-stuck'].includes(item.state)
    || (item.job?.result !== undefined && ['pre-check', 'applying', 'post-check', 'rolling-back'].includes(item.state))
    || (item.deadline !== undefined && item.deadline.getTime() <= now.getTime());
  function split(r: Rollout, hosts: RolloutHost[], now = minutes(1)): [RolloutHost[], OtherHosts] {
    const free = r.settings.maxInFlight - hosts.filter((item) => item.slotHeld).length + hosts.filter((item) => item.slotHeld && ['monitoring', 'rolling-back'].includes(item.state)).length;
    const firstWave = Math.max(1, r.currentWave);
    const pending = hosts.filter((item) => item.state === 'pending' && item.wave >= firstWave && item.wave <= r.currentWave + 1).slice(0, Math.max(0, free));
    const read = hosts.filter((item) => (!TERMINAL_HOST_STATES.has(item.state) && item.state !== 'pending' && canChange(item, now)) || item.state === 'reboot-stuck' || pending.includes(item));
    const others = { failed: 0, noAgent: 0, succeeded: 0, unfinishedByWave: new Map<number, number>(), slotsHeld: 0, inFlight: 0 };
    for (const item of hosts.filter((candidate) => !read.includes(candidate))) {
      if (FAILED_HOST_STATES.has(item.state)) others.failed++;
      if (item.state === 'no-agent') others.noAgent++;
      if (item.state === 'succeeded' || item.state === 'succeeded-reboot-pending') others.succeeded++;
      if (!TERMINAL_HOST_STATES.has(item.state)) others.unfinishedByWave.set(item.wave, (others.unfinishedByWave.get(item.wave) ?? 0) + 1);
      if (item.slotHeld) others.slotsHeld++;
      if (!TERMINAL_HOST_STATES.has(item.state) && item.state !== 'pending') others.inFlight++;
    }
    return [read, others];
  }
  const same = (r: Rollout, hosts: RolloutHost[], at: EngineContext) => {
    const [read, others] = split(r, hosts, at.now);
    expect(read.length).toBeLessThan(hosts.length);
    const whole = advanceRollout(r, hosts, at);
    expect(advanceRollout(r, read, at, others)).toEqual(whole);
    return whole;
  };

  it('decides what it decides over every host: admission, the budget, a wave not done while hosts are pending, the end', () => {
    const r = rollout({ state: 'running', currentWave: 2, waveCount: 2, settings: settings({ maxInFlight: 2, errorBudget: 1 }) });
    // Admission: the first pending hosts of the wave, up to the free slots.
    const admitting = same(r, [succeeded('a', 1), host('b', 2, { state: 'monitoring', slotHeld: true }), host('c', 2), host('d', 2), host('e', 2)], context(minutes(1)));
    expect(admitting.hosts.map((change) => [change.name, change.to])).toEqual([['b', 'succeeded'], ['c', 'notified'], ['d', 'notified']]);
    // A wave with pending hosts beyond the slots is not done.
    const full = settings({ maxInFlight: 1, errorBudget: 1 });
    expect(same({ ...r, settings: full }, [succeeded('a', 1), host('b', 2, { state: 'post-check', slotHeld: true }), host('c', 2), host('d', 2)], context(minutes(1))).rollout).toBeUndefined();
    // A host waiting for its agent is not read, but keeps its slot: nobody else is admitted.
    const waiting = same({ ...r, settings: full }, [succeeded('a', 1), host('b', 2, { state: 'applying', slotHeld: true, deadline: minutes(30), job: { key: 'k', step: 'upgrade', dispatchedAt: T0, deadline: minutes(30) } }), host('c', 2)], context(minutes(1)));
    expect(waiting.hosts).toEqual([]);
    // A closed window pauses the rollout only once no host holds a slot, read or not.
    const closed = context(minutes(1), { admission: { open: false, reason: 'window-closed', detail: 'the window closed' } });
    expect(same({ ...r, settings: full }, [succeeded('a', 1), host('b', 2, { state: 'applying', slotHeld: true, deadline: minutes(30), job: { key: 'k', step: 'upgrade', dispatchedAt: T0, deadline: minutes(30) } }), host('c', 2)], closed).rollout).toBeUndefined();
    // The budget counts the failed hosts that were not read.
    const spent = same(r, [host('a', 1, { state: 'rolled-back' }), host('b', 1, { state: 'timed-out' }), host('c', 2, { state: 'pre-check', slotHeld: true }), host('d', 2)], context(minutes(1)));
    expect(spent.rollout).toMatchObject({ state: 'halted', haltReason: 'budget-spent', reason: '2 failed hosts, budget 1' });
    // The end counts the hosts not patched that were not read.
    const done = same(r, [succeeded('a', 1), host('b', 2, { state: 'no-agent' }), host('c', 2, { state: 'monitoring', slotHeld: true })], context(minutes(1)));
    expect(done.rollout).toMatchObject({ state: 'completed-with-errors', reason: '1 host not patched' });
  });

  it('refuses to decide a gate\'s rollback without the succeeded hosts it reaches', () => {
    const r = rollout({ state: 'running', currentWave: 2, waveCount: 2 });
    const [read, others] = split(r, [succeeded('a', 1), host('b', 2, { state: 'monitoring', slotHeld: true })]);
    expect(() => advanceRollout(r, read, context(minutes(1), { gates: { state: 'failed', gate: 'errors', onFailure: 'rollback' } }), others)).toThrow(/needs every succeeded host/);
  });
});
