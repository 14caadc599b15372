/**
 * The emergency path of an open incident, as the control plane runs it on every look (a server
 * timer; one replica per incident at a time, by its row lock): record how the scope moved, plan one
 * emergency rollout per affected bucket with that bucket's own strategy, and keep the status
 * cadence — the commander posts (the draft, or an edited one); a slot nobody met is posted
 * automatically and logged as missed. Relaxing windows, freezes or cooldowns is a person's
 * approved decision, recorded with the post-change review it owes. Every post goes through the
 * policy's notification routes.
 */
import type pg from 'pg';
import { InputError } from '../domain/errors.js';
import { textProblem } from '../domain/well-formed-text.js';
import type { IncidentScope } from '../domain/incidents/incident-scope.js';
import { draftStatusUpdate, statusCadence, type OperationalBlocker, type StatusDraft } from '../domain/incidents/incident-status.js';
import { scopeChangedEvent } from '../domain/incidents/incident-timeline.js';
import type { NotificationsPolicy } from '../domain/notifications/notification-schema.js';
import { nextOccurrences } from '../domain/policy/maintenance-window.js';
import type { Policy } from '../domain/policy/policy-schema.js';
import { admissionAt } from '../domain/rollout/admission.js';
import { TERMINAL_ROLLOUT_STATES, type Relaxation } from '../domain/rollout/rollout-model.js';
import { appendAudit } from '../store/audit-log.js';
import {
  appendIncidentEvent,
  approveIncidentRelaxation,
  getIncident,
  incidentEvents,
  incidentRelaxations,
  incidentRollouts,
  incidentUpdates,
  insertIncidentUpdate,
  lockIncident,
  lockOpenIncidentUnlessHeld,
  openIncidentIds,
  recordIncidentLook,
  recordRelaxationReview,
  type IncidentRollout,
  type StoredIncident,
} from '../store/incident-store.js';
import { withTransaction } from '../store/transaction.js';
import { EMERGENCY_ACTOR, IncidentConflict, incidentLabel, incidentScope, notifyIncident, UnknownIncident } from './incident-service.js';
import { createRollout, RolloutConflict, type DisruptionBlockers } from './rollout-service.js';

type Queryable = pg.Pool | pg.PoolClient;

/** A slot still counts as met by a post this long after it was due: the commander's time to edit the draft. */
export const STATUS_GRACE_MS = 5 * 60_000;
/** The post-change review a relaxation schedules falls due this long after the decision. */
export const REVIEW_AFTER_MS = 7 * 86_400_000;
/** Longest status update a commander may post. */
const UPDATE_LIMIT = 20_000;

export interface IncidentLookRequest {
  policy: Policy;
  policyRevision?: number;
  now: Date;
  staleAfterSeconds: number;
  /** A bucket this server cannot reach (no Kubernetes access, no SSH key) gets no rollout from here. */
  canRun?: (bucket: Policy['buckets'][number]) => boolean;
  disruptionBlockers?: () => Promise<DisruptionBlockers>;
}

export interface IncidentLookResult {
  rolloutsCreated: number[];
  updatesPosted: number;
}

/**
 * One look at every open incident.
 *
 * @example await advanceIncidents(pool, { policy, now: new Date(), staleAfterSeconds: 3600 }) // { rolloutsCreated: [41, 42, 43], updatesPosted: 0 }
 */
export async function advanceIncidents(pool: pg.Pool, request: IncidentLookRequest): Promise<IncidentLookResult> {
  const result: IncidentLookResult = { rolloutsCreated: [], updatesPosted: 0 };
  for (const id of await openIncidentIds(pool)) {
    const look = await withTransaction(pool, async (client) => {
      const incident = await lockOpenIncidentUnlessHeld(client, id);
      return incident ? lookAt(pool, client, incident, request) : undefined;
    });
    if (!look) continue;
    result.rolloutsCreated.push(...look.rolloutsCreated);
    result.updatesPosted += look.updatesPosted;
  }
  return result;
}

/** The look at one incident, holding its row lock (so another replica skips it) until the caller commits. */
async function lookAt(pool: pg.Pool, client: pg.PoolClient, incident: StoredIncident, request: IncidentLookRequest): Promise<IncidentLookResult> {
  const { now, policy } = request;
  const staleAfterMs = request.staleAfterSeconds * 1000;
  const { scope } = await incidentScope(client, incident, { now, staleAfterMs });
  const label = incidentLabel(incident.id);
  if (incident.scopeHosts === undefined) {
    await notifyIncident(client, policy.notifications, incident, scope, {
      kind: 'incident-opened', severity: 'critical', summary: `${label} opened: ${incident.title} (${scope.total.hosts} hosts in scope)`, details: { reason: incident.triggerReason }, at: now,
    });
  } else {
    const changed = scopeChangedEvent({ hosts: incident.scopeHosts.map((name) => ({ name })) }, scope);
    if (changed) await appendIncidentEvent(client, incident.id, changed);
  }

  const rolloutsCreated: number[] = [];
  const planNotes: Record<string, string> = {};
  const relaxations = new Map((await incidentRelaxations(client, incident.id)).map((relaxation) => [relaxation.bucket, relaxation.relaxes]));
  const existing = await incidentRollouts(client, incident.id);
  for (const bucketScope of scope.byBucket) {
    const bucket = policy.buckets.find((candidate) => candidate.name === bucketScope.bucket);
    const covered = new Set(existing.filter((rollout) => rollout.bucket === bucketScope.bucket).flatMap((rollout) => rollout.hosts));
    const waiting = scope.hosts.filter((host) => host.bucket === bucketScope.bucket && (host.status === 'vulnerable' || host.status === 'pending-reboot') && !covered.has(host.name));
    if (waiting.length === 0) continue;
    if (existing.some((rollout) => rollout.bucket === bucketScope.bucket && !TERMINAL_ROLLOUT_STATES.has(rollout.state))) continue;
    if (!bucket) {
      planNotes[bucketScope.bucket] = `bucket ${bucketScope.bucket} is not in the policy in force`;
      continue;
    }
    if (request.canRun?.(bucket) === false) {
      planNotes[bucket.name] = `this server cannot reach the ${bucket.executor.kind} executor of bucket ${bucket.name}`;
      continue;
    }
    try {
      const { id } = await createRollout(pool, {
        policy, bucket: bucket.name, advisoryId: incident.advisories[0]!, actor: EMERGENCY_ACTOR, reason: `${label}: ${incident.title}`, now,
        staleAfterSeconds: request.staleAfterSeconds, hosts: waiting.map((host) => host.name),
        emergency: { incidentId: incident.id, relaxations: relaxations.get(bucket.name) ?? [], rebootFor: new Set(waiting.filter((host) => host.status === 'pending-reboot').map((host) => host.name)) },
        ...(request.policyRevision !== undefined ? { policyRevision: request.policyRevision } : {}),
        ...(request.disruptionBlockers ? { disruptionBlockers: request.disruptionBlockers } : {}),
      });
      rolloutsCreated.push(id);
    } catch (error) {
      // A routine rollout holds the bucket, or nothing can fix it yet (no image carries the fix, the fix is in its cooldown): said, and looked at again.
      if (!(error instanceof InputError)) throw error;
      planNotes[bucket.name] = error instanceof RolloutConflict ? `${error.detail}; the emergency rollout starts once it ends` : error.message;
    }
  }
  // Every emergency rollout gets its timeline entry, also one made by a look that died before it committed.
  const events = await incidentEvents(client, incident.id);
  const recorded = new Set(events.flatMap((event) => (event.kind === 'rollout-started' ? [event.rolloutId] : [])));
  for (const rollout of await incidentRollouts(client, incident.id)) {
    if (!recorded.has(rollout.id)) await appendIncidentEvent(client, incident.id, { kind: 'rollout-started', at: now, rolloutId: rollout.id, bucket: rollout.bucket, strategy: rollout.strategy });
  }
  for (const [bucket, why] of Object.entries(planNotes)) {
    if (incident.planNotes[bucket] !== why) await appendIncidentEvent(client, incident.id, { kind: 'rollout-blocked', at: now, bucket, why });
  }
  await recordIncidentLook(client, incident.id, { scopeHosts: scope.hosts.map((host) => host.name), planNotes });

  // The cadence: a slot nobody met within its grace is logged as missed and the draft posted for it.
  const updates = await incidentUpdates(client, incident.id);
  // This look has recorded no missed slot yet: the events read above have them all.
  const reportedMissed = events.flatMap((event) => (event.kind === 'update-missed' ? [event.slotDueAt] : []));
  const cadence = statusCadence({ openedAt: incident.openedAt, everyMs: incident.statusEveryMs, graceMs: STATUS_GRACE_MS, postedAt: updates.map((update) => update.postedAt), reportedMissed, now });
  if (cadence.newlyMissed.length === 0) return { rolloutsCreated, updatesPosted: 0 };
  for (const slot of cadence.newlyMissed) await appendIncidentEvent(client, incident.id, { kind: 'update-missed', at: now, slotDueAt: slot });
  const draft = await draftFor(client, incident, scope, policy, now);
  await postUpdate(client, policy.notifications, incident, scope, draft, { author: 'fleetpatch', automatic: true, markdown: draft.markdown, now, missedSlot: cadence.newlyMissed.at(-1)! });
  return { rolloutsCreated, updatesPosted: 1 };
}

/** The draft of the next status update: the scope now against the last update's, the rollouts' trouble, each bucket's forecast. */
async function draftFor(db: Queryable, incident: StoredIncident, scope: IncidentScope, policy: Policy | undefined, now: Date): Promise<StatusDraft> {
  const updates = await incidentUpdates(db, incident.id);
  const last = updates.at(-1);
  const rollouts = await incidentRollouts(db, incident.id);
  const blockers: OperationalBlocker[] = rollouts.flatMap((rollout) => rollout.troubled.map((host): OperationalBlocker => ({
    host: host.host, bucket: rollout.bucket, kind: host.state === 'reboot-stuck' ? 'reboot-stuck' : host.state === 'draining' ? 'drain-stuck' : 'failed', detail: host.lastError ?? `${host.state} in rollout ${rollout.id}`,
  })));
  const forecasts = new Map<string, Date | undefined>();
  for (const bucket of scope.byBucket) forecasts.set(bucket.bucket, forecastOf(rollouts.filter((rollout) => rollout.bucket === bucket.bucket).at(-1), policy, now));
  const cadence = statusCadence({ openedAt: incident.openedAt, everyMs: incident.statusEveryMs, graceMs: STATUS_GRACE_MS, postedAt: [...updates.map((update) => update.postedAt), now], now });
  return draftStatusUpdate({
    incident: { id: incidentLabel(incident.id), title: incident.title },
    previous: last?.counts as Pick<IncidentScope, 'total' | 'byBucket' | 'byTeam'> | undefined,
    current: scope, blockers, forecasts, nextUpdateDueAt: incident.state === 'open' ? cadence.nextDueAt : undefined,
  });
}

/**
 * When a bucket's emergency rollout is expected to be done: from now (or its next window's start,
 * when windows are not relaxed and none is open), its remaining hosts at its in-flight limit, each
 * taking the rollout's expected host time. None without a running rollout.
 */
function forecastOf(rollout: IncidentRollout | undefined, policy: Policy | undefined, now: Date): Date | undefined {
  if (!rollout || !policy || TERMINAL_ROLLOUT_STATES.has(rollout.state) || rollout.expectedHostMs <= 0) return undefined;
  const bucket = policy.buckets.find((candidate) => candidate.name === rollout.bucket);
  if (!bucket) return undefined;
  const admission = admissionAt(policy, { bucket: bucket.name, team: bucket.owner, windows: bucket.windows, relaxations: rollout.relaxations }, now);
  const start = admission.open ? now : bucket.windows
    .flatMap((name) => (policy.windows[name] ? nextOccurrences(policy.windows[name], now, 1) : []))
    .map((occurrence) => occurrence.start)
    .sort((a, b) => a.getTime() - b.getTime())[0];
  if (!start) return undefined;
  return new Date(start.getTime() + Math.ceil(rollout.remaining / rollout.maxInFlight) * rollout.expectedHostMs);
}

async function postUpdate(client: pg.PoolClient, notifications: NotificationsPolicy | undefined, incident: StoredIncident, scope: IncidentScope, draft: StatusDraft, post: { author: string; automatic: boolean; markdown: string; now: Date; missedSlot?: Date }): Promise<number> {
  const counts = { total: scope.total, byBucket: scope.byBucket, byTeam: scope.byTeam };
  const update = await insertIncidentUpdate(client, {
    incidentId: incident.id, postedAt: post.now, author: post.author, automatic: post.automatic, markdown: post.markdown, counts, ...(post.missedSlot ? { missedSlot: post.missedSlot } : {}),
  });
  await appendIncidentEvent(client, incident.id, { kind: 'update-posted', at: post.now, by: post.author, automatic: post.automatic });
  const summary = `${incidentLabel(incident.id)} status${post.automatic ? ' (posted automatically: no update was posted in time)' : ''}: ${scope.total.live} of ${scope.total.hosts} hosts live, ${scope.total.pendingReboot} pending reboot, ${scope.total.vulnerable} vulnerable`;
  await notifyIncident(client, notifications, incident, scope, { kind: 'incident-update', severity: 'info', summary, details: { markdown: post.markdown, closable: draft.closable }, update, at: post.now });
  return update;
}

export interface IncidentRequest {
  id: number;
  actor: string;
  now: Date;
  staleAfterMs: number;
  policy?: Policy;
}

/** The status update fleetpatch proposes now, for the commander to post as is or edit. */
export async function draftIncidentUpdate(db: Queryable, request: Omit<IncidentRequest, 'actor'>): Promise<StatusDraft> {
  const incident = await openIncidentOf(db, request.id);
  const { scope } = await incidentScope(db, incident, request);
  return draftFor(db, incident, scope, request.policy, request.now);
}

/**
 * The commander posts a status update: the draft as it stands, or their edited Markdown. Posted
 * through the notification routes; the cadence's clock restarts from it.
 *
 * @example await postIncidentUpdate(pool, { id: 3, actor: 'cli:alice', now, staleAfterMs, policy, markdown: edited }) // 7
 */
export async function postIncidentUpdate(pool: pg.Pool, request: IncidentRequest & { markdown?: string }): Promise<{ update: number; markdown: string }> {
  if (request.markdown !== undefined) {
    const problem = request.markdown.trim() === '' || request.markdown.length > UPDATE_LIMIT ? `a status update holds 1 to ${UPDATE_LIMIT} characters, this one ${request.markdown.length}` : textProblem(request.markdown, true);
    if (problem) throw new InputError(problem, { field: 'markdown' });
  }
  return withTransaction(pool, async (client) => {
    const incident = await lockedOpenIncident(client, request.id);
    const { scope } = await incidentScope(client, incident, request);
    const draft = await draftFor(client, incident, scope, request.policy, request.now);
    const markdown = request.markdown ?? draft.markdown;
    const update = await postUpdate(client, request.policy?.notifications, incident, scope, draft, { author: request.actor, automatic: false, markdown, now: request.now });
    await appendAudit(client, { action: 'incident.update-posted', actor: request.actor, subject: `incident:${incident.id}`, details: { update, edited: request.markdown !== undefined && request.markdown !== draft.markdown } });
    return { update, markdown };
  });
}

/**
 * A person approves what a bucket's emergency rollout may skip: only what the policy's
 * `emergency.relaxes` allows, never gates or error budgets. The running emergency rollout of the
 * bucket skips them from its next pass; a post-change review falls due a week later.
 *
 * @example await approveRelaxation(pool, { id: 3, bucket: 'databases', relaxes: ['windows'], why: 'exploited in the wild', actor: 'cli:alice', now, staleAfterMs, policy })
 */
export async function approveRelaxation(pool: pg.Pool, request: IncidentRequest & { bucket: string; relaxes: Relaxation[]; why: string }): Promise<{ relaxes: Relaxation[]; reviewDueAt: Date }> {
  const reviewDueAt = new Date(request.now.getTime() + REVIEW_AFTER_MS);
  return withTransaction(pool, async (client) => {
    const incident = await lockedOpenIncident(client, request.id);
    const allowed = request.policy?.emergency.relaxes ?? [];
    const refused = request.relaxes.filter((relaxation) => !allowed.includes(relaxation));
    if (request.relaxes.length === 0 || refused.length > 0) {
      throw new InputError(request.relaxes.length === 0 ? 'name what to relax' : `the policy's emergency path may not relax ${refused.join(', ')}`, { field: 'relaxes' }, `emergency.relaxes allows ${allowed.join(', ') || 'nothing'}; gates and error budgets are never relaxed`);
    }
    if (!request.policy?.buckets.some((bucket) => bucket.name === request.bucket)) throw new InputError(`no bucket named ${JSON.stringify(request.bucket)} in the policy in force`, { field: 'bucket' });
    const relaxes = await approveIncidentRelaxation(client, incident.id, { bucket: request.bucket, relaxes: request.relaxes, approvedBy: request.actor, approvedAt: request.now, why: request.why, reviewDueAt });
    await appendIncidentEvent(client, incident.id, { kind: 'decision', at: request.now, decision: 'relaxation-approved', bucket: request.bucket, relaxes: request.relaxes, by: request.actor, why: request.why, reviewDueAt });
    await appendAudit(client, { action: 'incident.relaxation-approved', actor: request.actor, subject: `incident:${incident.id}`, reason: request.why, details: { bucket: request.bucket, relaxes: request.relaxes, reviewDueAt: reviewDueAt.toISOString() } });
    return { relaxes, reviewDueAt };
  });
}

/** The post-change review of a bucket's relaxation is done (after the incident closed, too). */
export async function completeRelaxationReview(pool: pg.Pool, request: Omit<IncidentRequest, 'staleAfterMs'> & { bucket: string; notes: string }): Promise<void> {
  await withTransaction(pool, async (client) => {
    const incident = await lockIncident(client, request.id);
    if (!incident) throw new UnknownIncident(request.id);
    if (!(await recordRelaxationReview(client, incident.id, request.bucket, { at: request.now, by: request.actor, notes: request.notes }))) {
      throw new IncidentConflict(`${incidentLabel(incident.id)} owes no post-change review for ${request.bucket}: nothing was relaxed there, or it was reviewed`, 'bucket');
    }
    await appendIncidentEvent(client, incident.id, { kind: 'review-completed', at: request.now, bucket: request.bucket, by: request.actor, notes: request.notes });
    await appendAudit(client, { action: 'incident.review-completed', actor: request.actor, subject: `incident:${incident.id}`, reason: request.notes, details: { bucket: request.bucket } });
  });
}

async function openIncidentOf(db: Queryable, id: number): Promise<StoredIncident> {
  const incident = await getIncident(db, id);
  if (!incident) throw new UnknownIncident(id);
  if (incident.state !== 'open') throw new IncidentConflict(`${incidentLabel(id)} is closed`);
  return incident;
}

async function lockedOpenIncident(client: pg.PoolClient, id: number): Promise<StoredIncident> {
  const incident = await lockIncident(client, id);
  if (!incident) throw new UnknownIncident(id);
  if (incident.state !== 'open') throw new IncidentConflict(`${incidentLabel(id)} is closed`);
  return incident;
}
