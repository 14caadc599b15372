/**
 * The edge the gates measure through: one provider per check kind (Prometheus, HTTP, command),
 * each behind this interface and all run through one contract suite (test/gate-providers.test.ts).
 * A provider never throws for what it measured: an unreachable endpoint, a timeout or an abort is
 * an `error` outcome, so a gate is never passed by accident.
 */
import type { RawMeasurement } from '../domain/gates/gate-measurement.js';
import type { Gate } from '../domain/policy/policy-schema.js';

export type GateCheck = Gate['check'];
export type GateCheckKind = GateCheck['kind'];

/** Whom a measurement is about; `host` only for pre-host and post-host gates. */
export interface GateContext {
  host?: string;
  bucket: string;
  rolloutId: number;
  /** Aborting ends the measurement at once (an `error` outcome); a command's process group is killed. */
  signal?: AbortSignal;
}

export interface MeasureContext extends GateContext {
  /** The instant measured: a Prometheus query's `time`. */
  at: Date;
}

export interface GateProvider<K extends GateCheckKind = GateCheckKind> {
  readonly kind: K;
  measure(check: Extract<GateCheck, { kind: K }>, context: MeasureContext): Promise<RawMeasurement>;
}

export type GateProviders = { [K in GateCheckKind]: GateProvider<K> };

/**
 * A signal that fires on the caller's abort or after `timeoutMs`, and words for whichever fired.
 *
 * @example const deadline = measurementDeadline(context.signal, check.timeout); await fetch(url, { signal: deadline.signal })
 */
export function measurementDeadline(signal: AbortSignal | undefined, timeoutMs: number): { signal: AbortSignal; reason: () => string } {
  const timeout = AbortSignal.timeout(timeoutMs);
  return {
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    reason: () => (signal?.aborted ? 'aborted: the rollout stopped measuring' : `no answer within ${formatSeconds(timeoutMs)}`),
  };
}

function formatSeconds(milliseconds: number): string {
  return `${Number((milliseconds / 1000).toFixed(3))}s`;
}
