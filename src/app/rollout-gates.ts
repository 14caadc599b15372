/**
 * A rollout's gates, as the engine runs them: which gate runs are open now (post-wave gates while
 * a wave bakes, continuous gates while the rollout runs or bakes, post-host gates while a host is
 * monitored), taking the measurements that are due (outside the pass's transaction: a Prometheus
 * query must never hold a rollout's row lock), storing every one, and turning the stored ones
 * into the verdicts the state machine acts on. Argo's semantics come from `nextGateStep`.
 */
import type pg from 'pg';
import type { Gate } from '../domain/policy/policy-schema.js';
import type { GateVerdict as EngineVerdict } from '../domain/rollout/rollout-machine.js';
import type { Rollout, RolloutHost } from '../domain/rollout/rollout-model.js';
import { measureGate, nextGateStep, type GateMeasurement, type GateProviders } from '../gates/gate-runner.js';

type Queryable = pg.Pool | pg.PoolClient;

interface GateRunKey {
  gate: Gate;
  /** 0 for a continuous gate (one run over the whole rollout). */
  wave: number;
  host: string;
  startedAt: Date;
}

/** The gate runs open now for this rollout and its hosts. */
export function openGateRuns(rollout: Rollout & { gates: unknown[] }, hosts: readonly RolloutHost[]): GateRunKey[] {
  const gates = rollout.gates as Gate[];
  const runs: GateRunKey[] = [];
  for (const gate of gates) {
    if (gate.when === 'post-wave' && rollout.state === 'baking' && rollout.bakeUntil) {
      runs.push({ gate, wave: rollout.currentWave, host: '', startedAt: new Date(rollout.bakeUntil.getTime() - rollout.settings.soakMs) });
    } else if (gate.when === 'continuous' && (rollout.state === 'running' || rollout.state === 'baking')) {
      runs.push({ gate, wave: 0, host: '', startedAt: rollout.createdAt });
    } else if (gate.when === 'post-host') {
      for (const host of hosts) if (host.state === 'monitoring') runs.push({ gate, wave: host.wave, host: host.name, startedAt: host.stateSince });
    }
  }
  return runs;
}

async function storedMeasurements(db: Queryable, rolloutId: number, run: GateRunKey): Promise<GateMeasurement[]> {
  const rows = await db.query<{ detail: GateMeasurement }>(
    'SELECT detail FROM gate_measurements WHERE rollout_id = $1 AND gate = $2 AND wave = $3 AND host = $4 AND taken_at >= $5 ORDER BY taken_at, id',
    [rolloutId, run.gate.name, run.wave, run.host, run.startedAt],
  );
  return rows.rows.map((row) => row.detail);
}

/** A number to chart: a scalar, or the first sample of a vector. */
function numericValue(measurement: GateMeasurement): number | null {
  const value = measurement.value;
  const text = value?.kind === 'scalar' ? value.value : value?.kind === 'vector' ? value.series[0]?.value : undefined;
  const number = text === undefined ? NaN : Number(text);
  return Number.isFinite(number) ? number : null;
}

/**
 * Takes the measurements of the open runs that are due now and stores them; returns how many.
 *
 * @example await measureDueGates(pool, rollout, hosts, new Date(), defaultGateProviders())
 */
export async function measureDueGates(pool: pg.Pool, rollout: Rollout & { gates: unknown[] }, hosts: readonly RolloutHost[], now: Date, providers: GateProviders, clock: () => Date): Promise<number> {
  let taken = 0;
  for (const run of openGateRuns(rollout, hosts)) {
    const measurements = await storedMeasurements(pool, rollout.id, run);
    const step = nextGateStep(run.gate, { startedAt: run.startedAt, measurements }, now);
    if (step.verdict || step.nextMeasurementAt.getTime() > now.getTime()) continue;
    const measurement = await measureGate(run.gate, { bucket: rollout.bucket, rolloutId: rollout.id, ...(run.host ? { host: run.host } : {}) }, providers, clock);
    await pool.query('INSERT INTO gate_measurements (rollout_id, gate, wave, host, taken_at, phase, value, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [rollout.id, run.gate.name, run.wave, run.host, new Date(measurement.takenAt), measurement.phase, numericValue(measurement), JSON.stringify(measurement)]);
    taken++;
  }
  return taken;
}

const SEVERITY: Record<EngineVerdict['state'], number> = { passed: 0, running: 1, inconclusive: 2, error: 3, failed: 4 };

function verdictOf(gate: Gate, step: ReturnType<typeof nextGateStep>, continuous: boolean): EngineVerdict {
  // A continuous gate never succeeds: undecided, it lets the rollout go on.
  if (!step.verdict) return { state: continuous ? 'passed' : 'running', gate: gate.name };
  const { phase, reason } = step.verdict;
  const state = phase === 'successful' ? 'passed' : phase === 'failed' ? 'failed' : phase === 'inconclusive' ? 'inconclusive' : 'error';
  return { state, gate: gate.name, onFailure: gate.onFailure, detail: reason };
}

/** The worst of several verdicts: one failed gate decides, then errors, inconclusive, still running. */
function worst(verdicts: readonly EngineVerdict[]): EngineVerdict {
  return verdicts.reduce<EngineVerdict>((current, verdict) => (SEVERITY[verdict.state] > SEVERITY[current.state] ? verdict : current), { state: 'passed' });
}

/** The verdicts the state machine acts on, from the stored measurements only (no I/O beyond the database). */
export async function gateVerdicts(db: Queryable, rollout: Rollout & { gates: unknown[] }, hosts: readonly RolloutHost[], now: Date): Promise<{ rollout: EngineVerdict; hosts: Map<string, EngineVerdict> }> {
  const rolloutVerdicts: EngineVerdict[] = [];
  const hostVerdicts = new Map<string, EngineVerdict[]>();
  for (const run of openGateRuns(rollout, hosts)) {
    const step = nextGateStep(run.gate, { startedAt: run.startedAt, measurements: await storedMeasurements(db, rollout.id, run) }, now);
    const verdict = verdictOf(run.gate, step, run.gate.when === 'continuous');
    if (run.host) hostVerdicts.set(run.host, [...(hostVerdicts.get(run.host) ?? []), verdict]);
    else rolloutVerdicts.push(verdict);
  }
  return { rollout: worst(rolloutVerdicts), hosts: new Map([...hostVerdicts].map(([host, verdicts]) => [host, worst(verdicts)])) };
}
