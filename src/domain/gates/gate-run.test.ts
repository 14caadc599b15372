// A gate's run, Argo Rollouts' analysis-run semantics: defaults (failure and inconclusive limits 0,
// consecutive errors 4), each limit exceeded, not merely reached, and the schedule of measurements.
import { describe, expect, it } from 'vitest';
import { policySchema } from '../policy/policy-schema.js';
import type { MeasurementPhase } from './gate-measurement.js';
import { nextGateStep, type GateTiming } from './gate-run.js';

const START = new Date('2026-12-01T10:00:00Z');
const MINUTE = 60_000;

function gate(extra: Record<string, unknown> = {}): GateTiming {
  const policy = policySchema.parse({ version: 1, buckets: [{ name: 'b', owner: 't', strategy: { kind: 'in-place' }, gates: [{ name: 'g', check: { kind: 'command', command: 'true' }, ...extra }] }] });
  return policy.buckets[0]!.gates[0]!;
}

/** Measurements one minute apart from START, each finished at its minute. */
function run(phases: MeasurementPhase[]) {
  return { startedAt: START, measurements: phases.map((phase, index) => ({ phase, finishedAt: new Date(START.getTime() + (index + 1) * MINUTE).toISOString(), detail: `measurement ${index + 1} ${phase}` })) };
}

const verdictOf = (timing: GateTiming, phases: MeasurementPhase[]) => nextGateStep(timing, run(phases), START).verdict?.phase;

describe('gate runs', () => {
  it('has Argo\'s defaults: one measurement, no failure or inconclusive tolerated, four errors in a row tolerated', () => {
    expect(gate()).toMatchObject({ count: 1, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4, initialDelay: 0, interval: MINUTE, onFailure: 'halt', noData: 'inconclusive' });
  });

  it.each<[string, Record<string, unknown>, MeasurementPhase[], MeasurementPhase | undefined]>([
    ['defaults: one success passes', {}, ['successful'], 'successful'],
    ['defaults: one failure fails', {}, ['failed'], 'failed'],
    ['defaults: one inconclusive pauses', {}, ['inconclusive'], 'inconclusive'],
    ['defaults: four errors in a row keep measuring', {}, ['error', 'error', 'error', 'error'], undefined],
    ['defaults: the fifth error in a row blocks', {}, ['error', 'error', 'error', 'error', 'error'], 'error'],
    ['defaults: errors do not count towards count', {}, ['error', 'error', 'successful'], 'successful'],
    ['defaults: a success between errors resets the run of errors', { count: 3 }, ['error', 'error', 'error', 'error', 'successful', 'error', 'error', 'error', 'error'], undefined],
    ['consecutiveErrorLimit 0: the first error blocks', { consecutiveErrorLimit: 0 }, ['error'], 'error'],
    ['count 3: two successes keep measuring', { count: 3 }, ['successful', 'successful'], undefined],
    ['count 3: three successes pass', { count: 3 }, ['successful', 'successful', 'successful'], 'successful'],
    ['count 3, failureLimit 1: one failure is tolerated', { count: 3, failureLimit: 1 }, ['successful', 'failed', 'successful'], 'successful'],
    ['count 3, failureLimit 1: the second failure fails', { count: 3, failureLimit: 1 }, ['failed', 'failed'], 'failed'],
    ['count 5, inconclusiveLimit 2: the third inconclusive pauses', { count: 5, inconclusiveLimit: 2 }, ['inconclusive', 'successful', 'inconclusive', 'inconclusive'], 'inconclusive'],
    ['count 3, inconclusiveLimit 1: one inconclusive is tolerated', { count: 3, inconclusiveLimit: 1 }, ['inconclusive', 'successful', 'successful'], 'successful'],
    ['failure is judged before inconclusive', { count: 3, failureLimit: 0, inconclusiveLimit: 0 }, ['failed'], 'failed'],
    ['the first limit crossed decides; later measurements change nothing', { count: 2 }, ['failed', 'successful', 'successful'], 'failed'],
    ['continuous: successes never end the run', { when: 'continuous', count: 1 }, ['successful', 'successful', 'successful'], undefined],
    ['continuous: the failure beyond failureLimit stops it at once', { when: 'continuous', failureLimit: 1 }, ['successful', 'failed', 'successful', 'failed'], 'failed'],
    ['continuous: blocked by errors like any gate', { when: 'continuous' }, ['error', 'error', 'error', 'error', 'error'], 'error'],
    ['no measurement yet', {}, [], undefined],
  ])('%s', (_, extra, phases, expected) => {
    expect(verdictOf(gate(extra), phases)).toBe(expected);
  });

  it('tells the engine what to do, with a reason that names the limit and the last measurement', () => {
    expect(nextGateStep(gate(), run(['failed']), START).verdict).toEqual({ phase: 'failed', action: 'halt', reason: '1 failed measurement, more than failureLimit 0 (1 measured, 1 failed, 0 inconclusive); last: measurement 1 failed' });
    expect(nextGateStep(gate({ onFailure: 'rollback' }), run(['failed']), START).verdict?.action).toBe('rollback');
    expect(nextGateStep(gate({ onFailure: 'pause' }), run(['failed']), START).verdict?.action).toBe('pause');
    expect(nextGateStep(gate(), run(['inconclusive']), START).verdict).toMatchObject({ action: 'pause', reason: expect.stringMatching(/more than inconclusiveLimit 0.*last: measurement 1 inconclusive$/) });
    expect(nextGateStep(gate({ consecutiveErrorLimit: 1 }), run(['error', 'error']), START).verdict).toMatchObject({ action: 'pause', reason: 'blocked: 2 measurements in a row could not be taken, more than consecutiveErrorLimit 1; last: measurement 2 error' });
    expect(nextGateStep(gate({ count: 2 }), run(['successful', 'successful']), START).verdict).toEqual({ phase: 'successful', action: 'proceed', reason: '2 measured, 0 failed, 0 inconclusive over 2m, within the limits' });
  });

  it('measures first after initialDelay, then an interval after the previous measurement finished, never in the past', () => {
    const timing = gate({ initialDelay: '5m', interval: '30s', count: 3 });
    expect(nextGateStep(timing, run([]), START).nextMeasurementAt).toEqual(new Date(START.getTime() + 5 * MINUTE));
    expect(nextGateStep(timing, run(['successful']), START).nextMeasurementAt).toEqual(new Date(START.getTime() + MINUTE + 30_000));
    expect(nextGateStep(timing, run(['error']), START).nextMeasurementAt).toEqual(new Date(START.getTime() + MINUTE + 30_000));
    const late = new Date(START.getTime() + 60 * MINUTE);
    expect(nextGateStep(timing, run(['successful']), late).nextMeasurementAt).toEqual(late);
    expect(nextGateStep(timing, run(['successful', 'successful', 'successful']), START).nextMeasurementAt).toBeUndefined();
  });
});
