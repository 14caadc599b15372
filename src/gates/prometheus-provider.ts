/**
 * Prometheus gates: one instant query, `GET <url>/api/v1/query?query=…&time=…`, against the HTTP
 * API (https://prometheus.io/docs/prometheus/latest/querying/api/). `$host` and `$bucket` in the
 * query are replaced by the values escaped for a PromQL string literal, so write them inside
 * quotes: `error_ratio{host="$host"}`. A vector or a scalar is handed to the conditions; an
 * `error` status (a syntax error, a timeout inside Prometheus), a range vector, a string, an
 * answer that is not the API's JSON, or no answer at all is an error, never a pass.
 */
import { z } from 'zod';
import type { GateSample, RawMeasurement } from '../domain/gates/gate-measurement.js';
import { escapePromqlString, substitutePlaceholders } from '../domain/gates/gate-placeholders.js';
import { measurementDeadline, type GateCheck, type GateProvider, type MeasureContext } from './gate-provider.js';
import { readTail } from '../protocol/output-tail.js';

/** A vector of many thousand series is still far below this; beyond it the query is not a gate's. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

const sampleValue = z.tuple([z.number(), z.string()]);
const answerSchema = z.union([
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({ resultType: z.literal('vector'), result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: sampleValue })) }),
      z.object({ resultType: z.literal('scalar'), result: sampleValue }),
      z.object({ resultType: z.literal('matrix'), result: z.array(z.unknown()) }),
      z.object({ resultType: z.literal('string'), result: sampleValue }),
    ]),
    warnings: z.array(z.string()).optional(),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

export class PrometheusGateProvider implements GateProvider<'prometheus'> {
  readonly kind = 'prometheus' as const;

  async measure(check: Extract<GateCheck, { kind: 'prometheus' }>, context: MeasureContext): Promise<RawMeasurement> {
    let query: string;
    try {
      query = substitutePlaceholders(check.query, context, escapePromqlString);
    } catch (error) {
      return { outcome: 'error', error: (error as Error).message };
    }
    const url = new URL(`${check.url.replace(/\/+$/, '')}/api/v1/query`);
    url.searchParams.set('query', query);
    url.searchParams.set('time', (context.at.getTime() / 1000).toFixed(3));
    // Prometheus stops evaluating at its own timeout and says so, which explains more than our abort.
    url.searchParams.set('timeout', `${check.timeout}ms`);
    const deadline = measurementDeadline(context.signal, check.timeout);
    let status: number;
    let body: string;
    try {
      const response = await fetch(url, { headers: { accept: 'application/json', ...check.headers }, signal: deadline.signal });
      status = response.status;
      const tail = await readTail(response.body, MAX_ANSWER_BYTES);
      if (tail.total > MAX_ANSWER_BYTES) return { outcome: 'error', error: `the answer is larger than ${MAX_ANSWER_BYTES} bytes: aggregate in the query` };
      body = tail.text();
    } catch (error) {
      if (deadline.signal.aborted) return { outcome: 'error', error: `query ${query}: ${deadline.reason()}` };
      return { outcome: 'error', error: `query ${query} at ${check.url}: ${describeFetchError(error)}` };
    }
    let answer: z.infer<typeof answerSchema>;
    try {
      answer = answerSchema.parse(JSON.parse(body));
    } catch {
      return { outcome: 'error', error: `HTTP ${status} from ${check.url} is not a Prometheus API answer: ${body.slice(0, 200)}` };
    }
    if (answer.status === 'error') return { outcome: 'error', error: `query ${query}: ${answer.errorType}: ${answer.error}` };
    const detail = answer.warnings?.length ? `Prometheus warned: ${answer.warnings.join('; ')}` : undefined;
    const { data } = answer;
    switch (data.resultType) {
      case 'vector': {
        const series: GateSample[] = data.result.map((sample) => ({ labels: sample.metric, value: sample.value[1] }));
        return { outcome: 'query', result: { kind: 'vector', series }, ...(detail ? { detail } : {}) };
      }
      case 'scalar':
        return { outcome: 'query', result: { kind: 'scalar', value: data.result[1] }, ...(detail ? { detail } : {}) };
      case 'matrix':
        return { outcome: 'error', error: `query ${query} returned a range vector: a gate reads an instant vector (drop the [range], or wrap it in a function such as rate())` };
      case 'string':
        return { outcome: 'error', error: `query ${query} returned a string, not a number` };
    }
  }
}

/** undici's `fetch failed` hides the reason in `cause` (ECONNREFUSED, ENOTFOUND, …). */
export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message ?? cause?.code ?? (error as Error).message;
}
