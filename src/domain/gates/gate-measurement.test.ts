// Measurements judged Argo's way: the failure condition wins, a lone success condition that misses
// fails, both missing is inconclusive, an empty vector is the gate's noData, errors stay errors.
import { describe, expect, it } from 'vitest';
import { policySchema, type Gate } from '../policy/policy-schema.js';
import { judgeMeasurement, MAX_STORED_SERIES, prometheusNumber, type GateSample, type RawMeasurement } from './gate-measurement.js';

const TIMES = { takenAt: new Date('2026-12-01T10:00:00Z'), finishedAt: new Date('2026-12-01T10:00:01Z') };

function gate(check: Record<string, unknown>, extra: Record<string, unknown> = {}): Gate {
  const policy = policySchema.parse({ version: 1, buckets: [{ name: 'b', owner: 't', strategy: { kind: 'in-place' }, gates: [{ name: 'g', check, ...extra }] }] });
  return policy.buckets[0]!.gates[0]!;
}

const prometheus = (successCondition: string, failureCondition?: string, extra: Record<string, unknown> = {}) =>
  gate({ kind: 'prometheus', url: 'http://prometheus:9090', query: 'q', successCondition, ...(failureCondition ? { failureCondition } : {}) }, extra);

const vector = (...values: string[]): RawMeasurement => ({ outcome: 'query', result: { kind: 'vector', series: values.map((value, index) => ({ labels: { host: `h${index}` }, value })) } });

describe('gate measurements', () => {
  it.each<[string, string | undefined, RawMeasurement, string]>([
    ['result[0] < 0.05', undefined, vector('0.01'), 'successful'],
    ['result[0] < 0.05', undefined, vector('0.5'), 'failed'],
    ['result[0] < 0.05', 'result[0] > 0.2', vector('0.01'), 'successful'],
    ['result[0] < 0.05', 'result[0] > 0.2', vector('0.5'), 'failed'],
    ['result[0] < 0.05', 'result[0] > 0.2', vector('0.1'), 'inconclusive'],
    // Both hold: failure wins.
    ['result[0] < 0.05', 'result[0] >= 0', vector('0.01'), 'failed'],
    ['result == 1', undefined, { outcome: 'query', result: { kind: 'scalar', value: '1' } }, 'successful'],
    ['result[0] < 0.05', undefined, vector('NaN'), 'failed'],
    ['isNaN(result[0]) || result[0] < 0.05', undefined, vector('NaN'), 'successful'],
    ['len(result) == 0', undefined, vector(), 'successful'],
    ['result[0] < 1', 'len(result) == 0', vector(), 'failed'],
    ['result[1] < 1', undefined, vector('0'), 'error'],
    ['result[0] < 1', undefined, { outcome: 'query', result: { kind: 'scalar', value: '0' } }, 'error'],
  ])('%s (failure: %s) over %j is %s', (success, failureCondition, raw, phase) => {
    const measurement = judgeMeasurement(prometheus(success, failureCondition), raw, TIMES);
    expect(measurement.phase).toBe(phase);
    expect(measurement.detail).not.toBe('');
    if (phase === 'error') expect(measurement.error).toBe(measurement.detail);
  });

  it('judges an empty vector by noData (inconclusive by default), whatever the conditions would say', () => {
    expect(judgeMeasurement(prometheus('result[0] < 0.05'), vector(), TIMES)).toMatchObject({ phase: 'inconclusive', detail: expect.stringMatching(/no data.*noData: inconclusive/) });
    expect(judgeMeasurement(prometheus('result[0] < 0.05', undefined, { noData: 'fail' }), vector(), TIMES).phase).toBe('failed');
    expect(judgeMeasurement(prometheus('result == 0'), vector(), TIMES).phase).toBe('inconclusive');
  });

  it('keeps what was seen, as plain JSON: times, the samples with their labels, the detail', () => {
    const measurement = judgeMeasurement(prometheus('result[0] < 0.05'), vector('0.5', '+Inf'), TIMES);
    expect(measurement).toEqual({
      takenAt: '2026-12-01T10:00:00.000Z',
      finishedAt: '2026-12-01T10:00:01.000Z',
      phase: 'failed',
      value: { kind: 'vector', series: [{ labels: { host: 'h0' }, value: '0.5' }, { labels: { host: 'h1' }, value: '+Inf' }], seriesCount: 2 },
      detail: 'result[0] < 0.05 is false for [0.5, +Inf]',
    });
    expect(JSON.parse(JSON.stringify(measurement))).toEqual(measurement);
  });

  it('never passes a condition that does not parse (a policy stored before policy check refused it)', () => {
    expect(judgeMeasurement(prometheus('result[0] = 1'), vector('1'), TIMES)).toMatchObject({ phase: 'error', error: 'condition "result[0] = 1": use == to compare (column 11)' });
  });

  it('keeps a bounded number of series but evaluates them all', () => {
    const series: GateSample[] = Array.from({ length: MAX_STORED_SERIES + 5 }, (_, index) => ({ labels: { i: String(index) }, value: '1' }));
    const measurement = judgeMeasurement(prometheus(`result[${MAX_STORED_SERIES + 4}] == 1`), { outcome: 'query', result: { kind: 'vector', series } }, TIMES);
    expect(measurement.phase).toBe('successful');
    expect(measurement.value).toMatchObject({ kind: 'vector', seriesCount: MAX_STORED_SERIES + 5 });
    expect((measurement.value as { series: GateSample[] }).series).toHaveLength(MAX_STORED_SERIES);
  });

  it('passes a provider\'s own verdicts and errors through with their output', () => {
    const http = gate({ kind: 'http', url: 'http://service/health' });
    expect(judgeMeasurement(http, { outcome: 'failure', value: { kind: 'http', status: 503 }, detail: 'HTTP 503, expected 200', output: 'down' }, TIMES)).toMatchObject({ phase: 'failed', value: { kind: 'http', status: 503 }, output: 'down' });
    expect(judgeMeasurement(http, { outcome: 'error', error: 'timed out after 10s' }, TIMES)).toMatchObject({ phase: 'error', error: 'timed out after 10s', detail: 'timed out after 10s' });
  });

  it('reads Prometheus sample values, NaN and infinities included', () => {
    expect(['1', '-0.5', '1e-3', 'NaN', '+Inf', '-Inf'].map(prometheusNumber)).toEqual([1, -0.5, 0.001, NaN, Infinity, -Infinity]);
  });
});
