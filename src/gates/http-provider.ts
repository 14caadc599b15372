/**
 * HTTP gates: GET the URL (`$host` and `$bucket` replaced, URL-encoded); the expected status
 * passes, any other fails, no answer within the timeout or no connection is an error. Redirects are
 * not followed: the status is the URL's own. The body's tail is kept with the measurement.
 */
import { MAX_GATE_OUTPUT_BYTES, type RawMeasurement } from '../domain/gates/gate-measurement.js';
import { substitutePlaceholders } from '../domain/gates/gate-placeholders.js';
import { measurementDeadline, type GateCheck, type GateProvider, type MeasureContext } from './gate-provider.js';
import { readTail } from '../protocol/output-tail.js';
import { describeFetchError } from './prometheus-provider.js';

export class HttpGateProvider implements GateProvider<'http'> {
  readonly kind = 'http' as const;

  async measure(check: Extract<GateCheck, { kind: 'http' }>, context: MeasureContext): Promise<RawMeasurement> {
    let url: string;
    try {
      url = substitutePlaceholders(check.url, context, encodeURIComponent);
    } catch (error) {
      return { outcome: 'error', error: (error as Error).message };
    }
    const deadline = measurementDeadline(context.signal, check.timeout);
    let status: number;
    let output: string;
    try {
      const response = await fetch(url, { headers: { ...check.headers }, redirect: 'manual', signal: deadline.signal });
      status = response.status;
      output = (await readTail(response.body, MAX_GATE_OUTPUT_BYTES)).text();
    } catch (error) {
      return { outcome: 'error', error: `GET ${url}: ${deadline.signal.aborted ? deadline.reason() : describeFetchError(error)}` };
    }
    const value = { kind: 'http' as const, status };
    if (status === check.expectStatus) return { outcome: 'success', value, detail: `GET ${url}: HTTP ${status}`, output };
    return { outcome: 'failure', value, detail: `GET ${url}: HTTP ${status}, expected ${check.expectStatus}`, output };
  }
}
