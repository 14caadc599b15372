/**
 * Rollouts as operators see them: create one for a bucket (optionally only the fix of one
 * advisory), and pause, resume, abort, approve, retry a host or skip a host. Every change is
 * written with its timeline entry and an audit entry in one transaction, and asks the engine for
 * a pass at once.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type pg from 'pg';
import { InputError } from '../domain/errors.js';
import { planFleet } from '../domain/planning/planner.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { nextOccurrences, occurrenceAt, type WindowOccurrence } from '../domain/policy/maintenance-window.js';
import { admissionAt } from '../domain/rollout/admission.js';
import { draftRollout, type RolloutDraft } from '../domain/rollout/rollout-draft.js';
import { RUNNABLE_STRATEGIES } from '../domain/rollout/strategies/index.js';
import { canRetry, canSkip, FAILED_HOST_STATES, TERMINAL_ROLLOUT_STATES, type HostState, type Relaxation, type RolloutOrigin } from '../domain/rollout/rollout-model.js';
import { appendAudit } from '../store/audit-log.js';
import { loadPlanHosts } from '../store/plan-queries.js';
import { hostDurationP95, LEARNED_DURATION_SAMPLES } from '../store/rollout-history.js';
import { gateMeasurements, getRollout, insertRollout, lockRollout, recordOperatorEvent, rolloutEvents, rolloutHostViews, updateRolloutHost, updateRolloutState, type GateMeasurementRow, type RolloutEventRow, type RolloutHostView, type StoredRollout } from '../store/rollout-store.js';
import { withTransaction } from '../store/transaction.js';

export interface CreateRolloutRequest {
  policy: Policy;
  bucket: string;
  advisoryId?: string;
  actor: string;
  reason?: string;
  now: Date;
  staleAfterSeconds: number;
  /** The revision the policy came from; none for a policy file that was never applied. */
  policyRevision?: number;
  /** Only the bucket's hosts with all these labels, and (when given) only these hosts. */
  labels?: Record<string, string>;
  hosts?: string[];
  /** A rolling reboot's cluster: the PodDisruptionBudgets that allow no disruption now, with the nodes their pods run on. */
  disruptionBlockers?: () => Promise<DisruptionBlockers>;
  /** An incident's emergency rollout (give `advisoryId` too): what it may skip, and the hosts that only need their reboot. */
  emergency?: { incidentId: number; relaxations: readonly Relaxation[]; rebootFor?: ReadonlySet<string> };
}

export type DisruptionBlockers = Array<{ budget: string; nodes: string[] }>;

/** Budgets that would block draining the draft's nodes, in words; an unreachable cluster is a warning too. */
async function drainWarnings(draft: RolloutDraft, blockers: (() => Promise<DisruptionBlockers>) | undefined): Promise<string[]> {
  if (draft.settings.strategy?.kind !== 'rolling-reboot' || !blockers) return [];
  const nodes = new Set(draft.waves.flatMap((wave) => wave.hosts));
  try {
    return (await blockers()).flatMap(({ budget, nodes: covered }) => {
      const affected = covered.filter((node) => nodes.has(node));
      return affected.length === 0 ? [] : [`PodDisruptionBudget ${budget} allows no disruption now: draining ${affected.join(', ')} will wait for it, and the rollout pauses and pages once a drain is stuck`];
    });
  } catch (error) {
    return [`the cluster's PodDisruptionBudgets could not be read (${error instanceof Error ? error.message : String(error)}): drains may block`];
  }
}

/** The rollout `create` would store: read the bucket's hosts, plan them, draft the rollout. */
export async function draftStoredRollout(pool: pg.Pool, request: CreateRolloutRequest): Promise<RolloutDraft> {
  const bucket = request.policy.buckets.find((candidate) => candidate.name === request.bucket);
  if (!bucket) throw new InputError(`no bucket named ${JSON.stringify(request.bucket)} in the policy in force`, { field: 'bucket' }, `the buckets are ${request.policy.buckets.map((candidate) => candidate.name).join(', ')}`);
  const only = request.hosts ? new Set(request.hosts) : undefined;
  const hosts = (await loadPlanHosts(pool, { bucket: request.bucket })).filter((host) =>
    (!only || only.has(host.name)) && Object.entries(request.labels ?? {}).every(([key, value]) => host.labels[key] === value));
  const plan = planFleet(request.policy, hosts, { now: request.now, staleAfterMs: request.staleAfterSeconds * 1000, ...(request.emergency?.relaxations.includes('cooldowns') ? { ignoreCooldowns: true } : {}) });
  const canaries = new Set(hosts.filter((host) => host.labels.canary === 'true').map((host) => host.name));
  // The time a host needs: the bucket's own p95 once enough hosts were measured, the policy's seed before.
  const learned = await hostDurationP95(pool, bucket.name);
  const hostDurationMs = learned && learned.samples >= LEARNED_DURATION_SAMPLES && learned.p95Ms > 0 ? learned.p95Ms : undefined;
  const labels = new Map(hosts.map((host) => [host.name, host.labels]));
  const draft = draftRollout(bucket, plan.hosts, {
    staleAfterMs: request.staleAfterSeconds * 1000, canaries, labels,
    ...(hostDurationMs !== undefined ? { hostDurationMs } : {}), ...(request.advisoryId ? { advisoryId: request.advisoryId } : {}), ...(request.emergency?.rebootFor ? { rebootFor: request.emergency.rebootFor } : {}),
  });
  return { ...draft, warnings: [...draft.warnings, ...(await drainWarnings(draft, request.disruptionBlockers))] };
}

/** The bucket's rollouts that have not ended: a second one would fight over the same hosts. */
async function activeRolloutOf(db: pg.Pool | pg.PoolClient, bucket: string): Promise<number | undefined> {
  const active = await db.query<{ id: number }>('SELECT id FROM rollouts WHERE bucket = $1 AND state <> ALL($2::text[]) ORDER BY id LIMIT 1', [bucket, [...TERMINAL_ROLLOUT_STATES]]);
  return active.rows[0]?.id;
}

/**
 * Starts the rollouts the policy's schedule asks for now: for each scheduled in-place bucket
 * inside an occurrence of one of its windows, with hosts to patch and no rollout of its own still
 * under way, one rollout for that occurrence (at most one ever, whichever replica is first).
 * Returns the ids created.
 *
 * @example await scheduleRollouts(pool, { policy, policyRevision: 7, now: new Date(), staleAfterSeconds: 3600 }) // [12]
 */
export async function scheduleRollouts(pool: pg.Pool, request: { policy: Policy; policyRevision?: number; now: Date; staleAfterSeconds: number; canRun?: (bucket: Policy['buckets'][number]) => boolean }): Promise<number[]> {
  const created: number[] = [];
  // Buckets share windows: each window's occurrence now is worked out once (a 500-bucket policy
  // has a handful of windows), and freezes only for the buckets inside one.
  const occurrences = new Map<string, WindowOccurrence | undefined>();
  const occurrenceNow = (name: string) => {
    if (!occurrences.has(name)) {
      const window = request.policy.windows[name];
      const occurrence = window ? occurrenceAt(window, request.now) : undefined;
      occurrences.set(name, occurrence && request.now < occurrence.admissionEnd ? occurrence : undefined);
    }
    return occurrences.get(name);
  };
  let sliceStart = performance.now();
  for (const bucket of request.policy.buckets) {
    // Working out 500 buckets' windows and freezes is CPU on the event loop that serves check-ins: give it back every few milliseconds.
    if (performance.now() - sliceStart > SCHEDULE_SLICE_MS) {
      await yieldToEventLoop();
      sliceStart = performance.now();
    }
    // A bucket this server cannot reach (no Kubernetes access for a rolling reboot, no SSH key) is not started by the schedule.
    if (!bucket.scheduled || !RUNNABLE_STRATEGIES.has(bucket.strategy.kind) || request.canRun?.(bucket) === false) continue;
    // A manual window is made (and announced) its notice days ahead; the others when the window opens.
    const notice = bucket.strategy.kind === 'manual' ? bucket.strategy.noticeDays * DAY_MS : 0;
    const opening = notice > 0
      ? upcomingOccurrence(request.policy, bucket.windows, request.now, notice)
      : bucket.windows.map((name) => ({ name, occurrence: occurrenceNow(name) })).find((candidate) => candidate.occurrence !== undefined);
    if (!opening?.occurrence) continue;
    if (notice === 0 && !admissionAt(request.policy, { bucket: bucket.name, team: bucket.owner, windows: bucket.windows }, request.now).open) continue;
    const made = await pool.query('SELECT 1 FROM rollouts WHERE bucket = $1 AND window_name = $2 AND occurrence_start = $3', [bucket.name, opening.name, opening.occurrence.start]);
    if (made.rowCount || (await activeRolloutOf(pool, bucket.name)) !== undefined) continue;
    let draft: RolloutDraft;
    try {
      draft = await draftStoredRollout(pool, { policy: request.policy, bucket: bucket.name, actor: 'policy:schedule', now: request.now, staleAfterSeconds: request.staleAfterSeconds });
    } catch (error) {
      // Nothing to patch in this bucket now: the next occurrence looks again.
      if (error instanceof InputError) continue;
      throw error;
    }
    const reason = notice > 0 ? `window ${opening.name} opens at ${opening.occurrence.start.toISOString()}: announced ${bucket.strategy.kind === 'manual' ? bucket.strategy.noticeDays : 0} days ahead` : `window ${opening.name} opened at ${opening.occurrence.start.toISOString()}`;
    const id = await storeDraft(pool, draft, { actor: 'policy:schedule', now: request.now, origin: 'schedule', windowName: opening.name, occurrenceStart: opening.occurrence.start, ...(request.policyRevision !== undefined ? { policyRevision: request.policyRevision } : {}), reason });
    if (id !== undefined) created.push(id);
  }
  return created;
}

const DAY_MS = 86_400_000;
/** How long the schedule's look at the buckets holds the event loop before it yields. */
const SCHEDULE_SLICE_MS = 4;

/** The earliest occurrence of `windows` that is open now or opens within `lead`, with its window's name. */
function upcomingOccurrence(policy: Policy, windows: readonly string[], now: Date, lead: number): { name: string; occurrence: WindowOccurrence } | undefined {
  let earliest: { name: string; occurrence: WindowOccurrence } | undefined;
  for (const name of windows) {
    const window = policy.windows[name];
    const [occurrence] = window ? nextOccurrences(window, now, 1) : [];
    if (!occurrence || now >= occurrence.admissionEnd || occurrence.start.getTime() - lead > now.getTime()) continue;
    if (!earliest || occurrence.start < earliest.occurrence.start) earliest = { name, occurrence };
  }
  return earliest;
}

/**
 * @example const { id } = await createRollout(pool, { policy, bucket: 'databases', actor: 'cli:alice', now: new Date(), staleAfterSeconds: 3600 })
 */
export async function createRollout(pool: pg.Pool, request: CreateRolloutRequest): Promise<{ id: number; draft: RolloutDraft }> {
  const active = await activeRolloutOf(pool, request.bucket);
  if (active !== undefined) throw new RolloutConflict(`rollout ${active} of bucket ${request.bucket} is still under way; abort it or let it end first`, 'id');
  const draft = await draftStoredRollout(pool, request);
  // A manual window made by hand is planned for its bucket's next window, and announced now.
  const planned = draft.settings.strategy?.kind === 'manual' && !request.emergency?.relaxations.includes('windows') ? upcomingOccurrence(request.policy, draft.windows, request.now, Number.POSITIVE_INFINITY) : undefined;
  const origin = request.emergency ? { origin: 'emergency' as const, incidentId: request.emergency.incidentId, relaxations: [...request.emergency.relaxations] } : { origin: 'operator' as const };
  const id = await storeDraft(pool, draft, { actor: request.actor, now: request.now, ...origin, ...(planned ? { occurrenceStart: planned.occurrence.start } : {}), ...(request.policyRevision !== undefined ? { policyRevision: request.policyRevision } : {}), ...(request.reason ? { reason: request.reason } : {}) });
  if (id === undefined) throw new Error('rollout was not stored');
  return { id, draft };
}

/** Stores a drafted rollout with its audit entry; undefined when the schedule's occurrence already has one. */
async function storeDraft(pool: pg.Pool, draft: RolloutDraft, origin: { actor: string; now: Date; origin: RolloutOrigin; incidentId?: number; relaxations?: Relaxation[]; windowName?: string; occurrenceStart?: Date; policyRevision?: number; reason?: string }): Promise<number | undefined> {
  return withTransaction(pool, async (client) => {
    const created = await insertRollout(client, {
      bucket: draft.bucket,
      team: draft.team,
      waveCount: draft.waves.length,
      snapshot: draft.snapshot,
      settings: draft.settings,
      gates: draft.gates,
      windows: draft.windows,
      origin: origin.origin,
      ...(origin.incidentId !== undefined ? { incidentId: origin.incidentId, relaxations: origin.relaxations ?? [] } : {}),
      ...(draft.advisoryId ? { advisoryId: draft.advisoryId } : {}),
      ...(origin.windowName ? { windowName: origin.windowName } : {}),
      ...(origin.occurrenceStart ? { occurrenceStart: origin.occurrenceStart } : {}),
      ...(origin.policyRevision !== undefined ? { policyRevision: origin.policyRevision } : {}),
      createdBy: origin.actor,
      hosts: draft.waves.flatMap((wave) => wave.hosts.map((host) => ({ host, wave: wave.wave }))),
    }, origin.now);
    if (created === undefined) return undefined;
    await appendAudit(client, {
      action: 'rollout.created',
      actor: origin.actor,
      subject: `rollout:${created}`,
      ...(origin.reason ? { reason: origin.reason } : {}),
      details: { bucket: draft.bucket, origin: origin.origin, ...(origin.incidentId !== undefined ? { incident: origin.incidentId, relaxations: origin.relaxations ?? [] } : {}), hosts: draft.waves.reduce((sum, wave) => sum + wave.hosts.length, 0), waves: draft.waves.length, snapshot: draft.snapshot.map((target) => `${target.name}=${target.version}`), ...(draft.advisoryId ? { advisory: draft.advisoryId } : {}) },
    });
    return created;
  });
}

export type RolloutAction = 'pause' | 'resume' | 'abort' | 'approve';
export type HostAction = 'retry' | 'skip';

/** Refused: the rollout (or host) is not in a state the action applies to. `detail` is the reason without the field. */
export class RolloutConflict extends InputError {
  constructor(readonly detail: string, readonly field: 'id' | 'host' | 'step' = 'id') {
    super(detail, { field });
  }
}

/** No such rollout, or no such host in it. */
export class UnknownRollout extends InputError {
  constructor(readonly detail: string, readonly field: 'id' | 'host' = 'id') {
    super(detail, { field });
  }
}

export interface OperatorRequest {
  id: number;
  actor: string;
  reason: string;
  now: Date;
}

async function changeRollout(pool: pg.Pool, request: OperatorRequest, action: string, change: (rollout: StoredRollout, client: pg.PoolClient) => Promise<{ to: StoredRollout['state']; detail?: string }>): Promise<StoredRollout['state']> {
  return withTransaction(pool, async (client) => {
    const rollout = await lockRollout(client, request.id);
    if (!rollout) throw new UnknownRollout(`no rollout ${request.id}`, 'id');
    const { to, detail } = await change(rollout, client);
    await recordOperatorEvent(client, rollout.id, { kind: action, from: rollout.state, to, actor: request.actor, detail: detail ?? request.reason }, request.now);
    await appendAudit(client, { action: `rollout.${action}`, actor: request.actor, subject: `rollout:${rollout.id}`, reason: request.reason, details: { from: rollout.state, to } });
    return to;
  });
}

/**
 * @example await operateRollout(pool, 'pause', { id: 3, actor: 'cli:alice', reason: 'incident INC-42', now: new Date() }) // 'paused'
 */
export async function operateRollout(pool: pg.Pool, action: RolloutAction, request: OperatorRequest): Promise<StoredRollout['state']> {
  return changeRollout(pool, request, action, async (rollout, client) => {
    const refuse = (why: string) => new RolloutConflict(`rollout ${rollout.id} is ${rollout.state}${rollout.pauseReason ? ` (${rollout.pauseReason})` : ''}: ${why}`, 'id');
    if (TERMINAL_ROLLOUT_STATES.has(rollout.state)) throw refuse(`it has ended; nothing to ${action}`);
    switch (action) {
      case 'pause':
        if (rollout.state === 'paused' && rollout.pauseReason === 'operator') throw refuse('already paused by an operator');
        await updateRolloutState(client, rollout.id, { state: 'paused', pauseReason: 'operator', reason: `${request.actor}: ${request.reason}`, currentWave: rollout.currentWave }, request.now);
        return { to: 'paused' };
      case 'resume':
        if (rollout.state !== 'paused' && rollout.state !== 'halted') throw refuse('only a paused or halted rollout resumes');
        if (rollout.pauseReason === 'approval') throw refuse('the next wave waits for approval: use approve');
        await updateRolloutState(client, rollout.id, { state: rollout.currentWave === 0 ? 'created' : 'running', currentWave: rollout.currentWave }, request.now);
        return { to: rollout.currentWave === 0 ? 'created' : 'running' };
      case 'approve':
        if (rollout.state !== 'paused' || rollout.pauseReason !== 'approval') throw refuse('no wave waits for approval');
        await updateRolloutState(client, rollout.id, { state: 'running', currentWave: rollout.currentWave + 1 }, request.now);
        return { to: 'running', detail: `wave ${rollout.currentWave + 1} approved: ${request.reason}` };
      case 'abort': {
        // Hosts not yet admitted are skipped; hosts in flight finish the step they are in.
        const skipped = await client.query('UPDATE rollout_hosts SET state = \'skipped\', state_since = $2, last_error = $3 WHERE rollout_id = $1 AND state = \'pending\'', [rollout.id, request.now, `rollout aborted by ${request.actor}`]);
        await updateRolloutState(client, rollout.id, { state: 'canceled', reason: `${request.actor}: ${request.reason}` }, request.now);
        return { to: 'canceled', detail: `${request.reason}; ${skipped.rowCount ?? 0} hosts not started were skipped` };
      }
    }
  });
}

/**
 * `retry`: a failed (or skipped, or agent-less) host starts over with its next attempt; its slot
 * is given back. `skip`: a host not in the middle of a step is left out, and its slot is freed.
 */
export async function operateRolloutHost(pool: pg.Pool, action: HostAction, host: string, request: OperatorRequest): Promise<HostState> {
  return withTransaction(pool, async (client) => {
    const rollout = await lockRollout(client, request.id);
    if (!rollout) throw new UnknownRollout(`no rollout ${request.id}`, 'id');
    if (TERMINAL_ROLLOUT_STATES.has(rollout.state)) throw new RolloutConflict(`rollout ${rollout.id} is ${rollout.state}; its hosts can no longer change`, 'id');
    const row = await client.query<{ state: HostState; attempt: number }>('SELECT state, attempt FROM rollout_hosts WHERE rollout_id = $1 AND host = $2 FOR UPDATE', [rollout.id, host]);
    const current = row.rows[0];
    if (!current) throw new UnknownRollout(`host ${JSON.stringify(host)} is not in rollout ${rollout.id}`, 'host');
    let to: HostState;
    if (action === 'retry') {
      if (!canRetry(current.state)) throw new RolloutConflict(`${host} is ${current.state}; only a failed, timed-out, stuck, rolled-back, skipped or agent-less host is retried`, 'host');
      to = 'pending';
      await updateRolloutHost(client, rollout.id, host, { state: to, attempt: current.attempt + 1, slotHeld: false, lastError: null }, request.now);
    } else {
      if (!canSkip(current.state)) throw new RolloutConflict(`${host} is ${current.state}, in the middle of a step; skip it once the step ends, or abort the rollout`, 'host');
      to = 'skipped';
      await updateRolloutHost(client, rollout.id, host, { state: to, slotHeld: false, lastError: `skipped by ${request.actor}: ${request.reason}` }, request.now);
    }
    await recordOperatorEvent(client, rollout.id, { host, kind: action, from: current.state, to, actor: request.actor, detail: request.reason }, request.now);
    await appendAudit(client, { action: `rollout.host.${action}`, actor: request.actor, subject: `rollout:${rollout.id}/host:${host}`, reason: request.reason, details: { from: current.state, to, attempt: current.attempt + (action === 'retry' ? 1 : 0) } });
    await client.query('UPDATE rollouts SET next_pass_at = LEAST(next_pass_at, $2) WHERE id = $1', [rollout.id, request.now]);
    return to;
  });
}

/**
 * A manual window's checklist, confirmed by a person one step at a time and in order: each
 * confirmation is a timeline event and an audit entry naming the step. Once the last is
 * confirmed, the host's versions are judged from its check-ins like any host's.
 *
 * @example await confirmChecklistStep(pool, 'colo-3', 2, { id: 9, actor: 'cli:alice', reason: 'traffic drained at the LB', now })
 */
export async function confirmChecklistStep(pool: pg.Pool, host: string, step: number, request: OperatorRequest): Promise<{ confirmed: number; of: number; item: string }> {
  return withTransaction(pool, async (client) => {
    const rollout = await lockRollout(client, request.id);
    if (!rollout) throw new UnknownRollout(`no rollout ${request.id}`, 'id');
    const strategy = rollout.settings.strategy;
    if (strategy?.kind !== 'manual') throw new RolloutConflict(`rollout ${rollout.id} is a ${strategy?.kind ?? 'in-place'} rollout; only a manual window has a checklist`, 'id');
    const row = await client.query<{ state: HostState; memo: Record<string, unknown> }>('SELECT state, memo FROM rollout_hosts WHERE rollout_id = $1 AND host = $2 FOR UPDATE', [rollout.id, host]);
    const current = row.rows[0];
    if (!current) throw new UnknownRollout(`host ${JSON.stringify(host)} is not in rollout ${rollout.id}`, 'host');
    if (current.state !== 'awaiting-operator') throw new RolloutConflict(`${host} is ${current.state}; checklist steps are confirmed while it awaits its operator, in its window`, 'host');
    const confirmed = typeof current.memo.confirmed === 'number' ? current.memo.confirmed : 0;
    if (step !== confirmed + 1) throw new RolloutConflict(step <= confirmed ? `step ${step} of ${host} is confirmed already` : `step ${confirmed + 1} of ${host} comes first: "${strategy.checklist[confirmed]}"`, 'step');
    const item = strategy.checklist[step - 1];
    if (item === undefined) throw new RolloutConflict(`the checklist has ${strategy.checklist.length} steps`, 'step');
    await client.query("UPDATE rollout_hosts SET memo = memo || jsonb_build_object('confirmed', $3::integer) WHERE rollout_id = $1 AND host = $2", [rollout.id, host, step]);
    await client.query('INSERT INTO rollout_news (rollout_id, host) VALUES ($1, $2)', [rollout.id, host]);
    await recordOperatorEvent(client, rollout.id, { host, kind: 'confirm', actor: request.actor, detail: `step ${step} of ${strategy.checklist.length}: ${item} (${request.reason})` }, request.now);
    await appendAudit(client, { action: 'rollout.host.confirm', actor: request.actor, subject: `rollout:${rollout.id}/host:${host}`, reason: request.reason, details: { step, of: strategy.checklist.length, item } });
    await client.query('UPDATE rollouts SET next_pass_at = LEAST(next_pass_at, $2) WHERE id = $1', [rollout.id, request.now]);
    return { confirmed: step, of: strategy.checklist.length, item };
  });
}

export interface RolloutDetail extends StoredRollout {
  /** The error budget minus the hosts that count against it; below 0 the rollout halts. */
  budgetLeft: number;
  failedHosts: number;
  waves: Array<{ wave: number; hosts: number; states: Record<string, number> }>;
  hosts: Array<RolloutHostView & { actions: HostAction[]; checklist?: ChecklistProgress }>;
  events: Array<RolloutEventRow & { rolloutId: number }>;
  measurements: GateMeasurementRow[];
}

/** A manual window's host: the checklist confirmed so far and the step an operator confirms next (`POST …/checklist/{next}`). */
export interface ChecklistProgress {
  confirmed: number;
  of: number;
  next?: { step: number; item: string };
}

function checklistOf(rollout: StoredRollout, host: RolloutHostView): ChecklistProgress | undefined {
  const strategy = rollout.settings.strategy;
  if (strategy?.kind !== 'manual') return undefined;
  const confirmed = typeof host.memo.confirmed === 'number' ? host.memo.confirmed : 0;
  const item = host.state === 'awaiting-operator' ? strategy.checklist[confirmed] : undefined;
  return { confirmed, of: strategy.checklist.length, ...(item !== undefined ? { next: { step: confirmed + 1, item } } : {}) };
}

/** One rollout as `rollout show`, the API and the dashboard present it; undefined when there is none. */
export async function rolloutDetail(pool: pg.Pool, id: number): Promise<RolloutDetail | undefined> {
  const rollout = await getRollout(pool, id);
  if (!rollout) return undefined;
  const [hosts, events, measurements] = await Promise.all([rolloutHostViews(pool, id), rolloutEvents(pool, { rolloutId: id, limit: 2_000 }), gateMeasurements(pool, id)]);
  const waves = Array.from({ length: rollout.waveCount }, (_unused, index) => ({ wave: index + 1, hosts: 0, states: {} as Record<string, number> }));
  for (const host of hosts) {
    const wave = waves[host.wave - 1]!;
    wave.hosts++;
    wave.states[host.state] = (wave.states[host.state] ?? 0) + 1;
  }
  const failedHosts = hosts.filter((host) => FAILED_HOST_STATES.has(host.state)).length;
  const ended = TERMINAL_ROLLOUT_STATES.has(rollout.state);
  return {
    ...rollout,
    budgetLeft: rollout.settings.errorBudget - failedHosts,
    failedHosts,
    waves,
    hosts: hosts.map((host) => {
      const checklist = checklistOf(rollout, host);
      return { ...host, actions: ended ? [] : (['retry', 'skip'] as const).filter((action) => (action === 'retry' ? canRetry(host.state) : canSkip(host.state))), ...(checklist ? { checklist } : {}) };
    }),
    events,
    measurements,
  };
}
