/**
 * What the rollout engine calls: `measureGate` takes one measurement of a gate (the provider of its
 * check kind, then the judgement into a phase) and `nextGateStep` says, from the measurements so
 * far, whether the gate has a verdict or when to measure next. The engine stores every measurement
 * as returned (plain JSON) and shows them.
 */
import { judgeMeasurement, type GateMeasurement, type RawMeasurement } from '../domain/gates/gate-measurement.js';
import type { Gate } from '../domain/policy/policy-schema.js';
import { CommandGateProvider } from './command-provider.js';
import type { GateContext, GateProvider, GateProviders } from './gate-provider.js';
import { HttpGateProvider } from './http-provider.js';
import { PrometheusGateProvider } from './prometheus-provider.js';

export { nextGateStep, type GateRun, type GateStep, type GateTiming, type GateVerdict } from '../domain/gates/gate-run.js';
export type { GateMeasurement, GateValue, MeasurementPhase } from '../domain/gates/gate-measurement.js';
export type { GateContext, GateProviders } from './gate-provider.js';

/** The real providers: Prometheus over its HTTP API, HTTP checks, commands under `sh -c`. */
export function defaultGateProviders(): GateProviders {
  return { prometheus: new PrometheusGateProvider(), http: new HttpGateProvider(), command: new CommandGateProvider() };
}

/**
 * One measurement of the gate for a host (pre-host, post-host) or a wave or rollout (post-wave,
 * continuous). Never throws: whatever goes wrong is an `error` measurement, which never passes.
 *
 * @example await measureGate(gate, { host: 'db-1', bucket: 'databases', rolloutId: 7 })
 */
export async function measureGate(gate: Gate, context: GateContext, providers: GateProviders = defaultGateProviders(), clock: () => Date = () => new Date()): Promise<GateMeasurement> {
  const takenAt = clock();
  let raw: RawMeasurement;
  try {
    raw = await (providers[gate.check.kind] as GateProvider).measure(gate.check, { ...context, at: takenAt });
  } catch (error) {
    raw = { outcome: 'error', error: `the ${gate.check.kind} check failed unexpectedly: ${(error as Error).message}` };
  }
  return judgeMeasurement(gate, raw, { takenAt, finishedAt: clock() });
}
