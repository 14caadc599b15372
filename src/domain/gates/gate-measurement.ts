/**
 * One measurement of a gate, as the engine stores and shows it: what a provider saw (its raw
 * measurement) judged into a phase, Argo Rollouts' way. A Prometheus result meets the conditions:
 * the failure condition wins, then the success condition; with only a success condition a miss is
 * a failure; with both, matching neither is inconclusive. An empty vector the conditions need
 * (they index it) is no data, judged by the gate's `noData`; a query or transport error is an
 * error. HTTP and command checks decide for themselves (status, exit code).
 */
import type { Gate } from '../policy/policy-schema.js';
import { Condition, ConditionEvaluationError, type ConditionInput } from './gate-condition.js';

export const MEASUREMENT_PHASES = ['successful', 'failed', 'inconclusive', 'error'] as const;
export type MeasurementPhase = (typeof MEASUREMENT_PHASES)[number];

/** Bounded so a chatty check cannot fill the database: the tail is what explains a failure. */
export const MAX_GATE_OUTPUT_BYTES = 65_536;
/** Series of a vector kept with a measurement (all are evaluated; `seriesCount` says how many there were). */
export const MAX_STORED_SERIES = 20;

/** A sample as Prometheus writes it: the value a string, so NaN and ±Inf survive JSON. */
export interface GateSample {
  labels: Record<string, string>;
  value: string;
}

/** What a check saw, kept with the measurement. */
export type GateValue =
  | { kind: 'scalar'; value: string }
  | { kind: 'vector'; series: GateSample[]; seriesCount: number }
  | { kind: 'http'; status: number }
  | { kind: 'exit'; code: number | null; signal?: string };

/** What a provider reports; `judgeMeasurement` turns it into a measurement. */
export type RawMeasurement =
  | { outcome: 'query'; result: { kind: 'scalar'; value: string } | { kind: 'vector'; series: GateSample[] }; detail?: string }
  | { outcome: 'success' | 'failure'; value: GateValue; detail: string; output?: string }
  | { outcome: 'error'; error: string; value?: GateValue; output?: string };

/**
 * Plain JSON: the engine stores every one as it is and shows it.
 * `takenAt` is the instant measured (a Prometheus query's `time`), `finishedAt` when the answer came.
 */
export interface GateMeasurement {
  takenAt: string;
  finishedAt: string;
  phase: MeasurementPhase;
  value?: GateValue;
  /** Why the measurement could not be taken (phase `error`). */
  error?: string;
  /** Why this phase, in words: `result[0] < 0.05 is false for [0.5]`, `HTTP 503, expected 200`. */
  detail: string;
  /** The tail of a command's output or an HTTP body, at most MAX_GATE_OUTPUT_BYTES. */
  output?: string;
}

/**
 * @example judgeMeasurement(gate, { outcome: 'query', result: { kind: 'vector', series: [{ labels: {}, value: '0.01' }] } }, { takenAt, finishedAt }).phase // 'successful'
 */
export function judgeMeasurement(gate: Pick<Gate, 'check' | 'noData'>, raw: RawMeasurement, times: { takenAt: Date; finishedAt: Date }): GateMeasurement {
  const stamp = { takenAt: times.takenAt.toISOString(), finishedAt: times.finishedAt.toISOString() };
  const extras = (value: GateValue | undefined, output: string | undefined) => ({ ...(value ? { value } : {}), ...(output !== undefined ? { output } : {}) });
  switch (raw.outcome) {
    case 'error':
      return { ...stamp, phase: 'error', error: raw.error, detail: raw.error, ...extras(raw.value, raw.output) };
    case 'success':
    case 'failure':
      return { ...stamp, phase: raw.outcome === 'success' ? 'successful' : 'failed', detail: raw.detail, ...extras(raw.value, raw.output) };
    case 'query': {
      const value: GateValue = raw.result.kind === 'scalar' ? raw.result : { kind: 'vector', series: raw.result.series.slice(0, MAX_STORED_SERIES), seriesCount: raw.result.series.length };
      const { phase, detail, error } = judgeQuery(gate, raw.result.kind === 'scalar' ? prometheusNumber(raw.result.value) : raw.result.series.map((sample) => prometheusNumber(sample.value)));
      const prefix = raw.detail ? `${raw.detail}; ` : '';
      return { ...stamp, phase, detail: `${prefix}${detail}`, value, ...(error ? { error } : {}) };
    }
  }
}

function judgeQuery(gate: Pick<Gate, 'check' | 'noData'>, input: ConditionInput): { phase: MeasurementPhase; detail: string; error?: string } {
  if (gate.check.kind !== 'prometheus') return { phase: 'error', detail: 'a query result for a check that is not a query', error: 'a query result for a check that is not a query' };
  const shown = typeof input === 'number' ? formatNumber(input) : `[${input.slice(0, MAX_STORED_SERIES).map(formatNumber).join(', ')}${input.length > MAX_STORED_SERIES ? ', …' : ''}]`;
  const outcomes: Array<{ text: string; holds: boolean | 'no data' }> = [];
  for (const text of [gate.check.successCondition, gate.check.failureCondition]) {
    if (text === undefined) continue;
    let condition: Condition;
    try {
      condition = Condition.parse(text);
    } catch (error) {
      // policy check refuses these; a policy stored before that check existed still never passes.
      return { phase: 'error', detail: (error as Error).message, error: (error as Error).message };
    }
    try {
      outcomes.push({ text, holds: condition.evaluate(input) });
    } catch (error) {
      if (!(error instanceof ConditionEvaluationError)) throw error;
      if (!error.noData) return { phase: 'error', detail: `${text}: ${error.message}`, error: `${text}: ${error.message}` };
      outcomes.push({ text, holds: 'no data' });
    }
  }
  const [success, failure] = outcomes;
  const said = (outcome: { text: string; holds: boolean | 'no data' }) => `${outcome.text} is ${outcome.holds} for ${shown}`;
  if (failure?.holds === true) return { phase: 'failed', detail: `failure condition ${said(failure)}` };
  if (outcomes.some((outcome) => outcome.holds === 'no data')) {
    return { phase: gate.noData === 'fail' ? 'failed' : 'inconclusive', detail: `no data: the query returned no samples (noData: ${gate.noData})` };
  }
  if (success!.holds === true) return { phase: 'successful', detail: said(success!) };
  if (!failure) return { phase: 'failed', detail: said(success!) };
  return { phase: 'inconclusive', detail: `neither condition holds for ${shown}: ${success!.text}, ${failure.text}` };
}

/** A sample value as Prometheus writes it (`0.5`, `NaN`, `+Inf`, `-Inf`). */
export function prometheusNumber(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return text === 'NaN' ? NaN : Number(text);
}

function formatNumber(value: number): string {
  return Number.isNaN(value) ? 'NaN' : value === Infinity ? '+Inf' : value === -Infinity ? '-Inf' : String(value);
}
