/**
 * The engine's events as notifications: written to the outbox in the pass's own transaction (so a
 * page exists exactly when the transition that caused it was committed), routed by the policy in
 * force. Events that are only the timeline's (a wave started, a rollout resumed) are not sent.
 */
import type pg from 'pg';
import { NOTIFICATION_KINDS, type NotificationKind } from '../domain/notifications/notification-event.js';
import type { NotificationsPolicy } from '../domain/notifications/notification-schema.js';
import type { Advance } from '../domain/rollout/rollout-machine.js';
import type { Rollout } from '../domain/rollout/rollout-model.js';
import { enqueueNotification } from './notification-dispatcher.js';

const SENT: ReadonlySet<string> = new Set(NOTIFICATION_KINDS);

/** @example await notifyPass(client, policy.notifications, rollout, pass, now) // 1 (a reboot-stuck page) */
export async function notifyPass(client: pg.ClientBase, notifications: NotificationsPolicy | undefined, rollout: Pick<Rollout, 'id' | 'bucket' | 'team' | 'currentWave'>, pass: Pick<Advance, 'events'>, now: Date): Promise<number> {
  if (!notifications) return 0;
  let queued = 0;
  for (const event of pass.events) {
    if (!SENT.has(event.kind)) continue;
    const deliveries = await enqueueNotification(client, notifications, {
      kind: event.kind as NotificationKind,
      severity: event.severity,
      rolloutId: rollout.id,
      ...(event.host ? { host: event.host } : {}),
      bucket: rollout.bucket,
      team: event.team ?? rollout.team,
      summary: event.summary,
      details: { wave: rollout.currentWave },
      ...(event.expected ? { expected: true } : {}),
      occurredAt: now,
    });
    queued += deliveries.length;
  }
  return queued;
}
