/**
 * Notifications from the rollout engine to people: `enqueueNotification` routes an event and
 * queues one outbox row per receiver inside the engine's own transaction; a
 * `NotificationDispatcher` on every server replica claims due rows, sends them and records each
 * attempt, backing off on 408/429/5xx and network errors. Sending happens on the dispatcher's own
 * timer, so a slow or absent receiver never holds up the engine.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { deliveryVerdict, type AttemptResult, type DeliveryVerdict } from '../domain/notifications/delivery-retry.js';
import { dedupKey, isSuppressed, type NotificationEvent, type NotificationMode } from '../domain/notifications/notification-event.js';
import { pagerDutyEvent, slackMessage, standardWebhookHeaders, webhookBody } from '../domain/notifications/notification-payloads.js';
import { routeEvent } from '../domain/notifications/notification-routing.js';
import type { NotificationsPolicy, Receiver } from '../domain/notifications/notification-schema.js';
import { claimDueNotifications, queueNotification, recordAttempt, type ClaimedNotification } from '../store/notification-store.js';

export interface QueuedDelivery {
  receiver: string;
  as: NotificationMode;
  id: number;
  /** Folded into a pending row of the same kind, receiver and dedup key. */
  coalesced: boolean;
  /** An expected signal: recorded, not sent. */
  suppressed: boolean;
}

/**
 * Routes `event` and queues a row per receiver in the caller's open transaction on `client`, so
 * the notification commits with the state change it reports. Expected signals get a `suppressed`
 * row (listed, never sent); failures and resolves are never suppressed.
 *
 * @example await withTransaction(pool, async (client) => { …mark the host reboot-stuck…; await enqueueNotification(client, policy.notifications, event); })
 */
export async function enqueueNotification(client: pg.ClientBase, notifications: NotificationsPolicy, event: NotificationEvent): Promise<QueuedDelivery[]> {
  const suppressed = isSuppressed(event);
  const queued: QueuedDelivery[] = [];
  for (const { receiver: name, as } of routeEvent(notifications, event)) {
    // The policy check refuses a route to an undefined receiver; a route to one is skipped, not thrown, so it cannot undo the caller's change.
    const target = notifications.receivers[name];
    if (!target) continue;
    const { id, coalesced } = await queueNotification(client, {
      kind: event.kind,
      ...(event.incident ? { incidentId: event.incident.id } : { rolloutId: event.rolloutId! }),
      ...(event.host === undefined ? {} : { host: event.host }),
      receiver: name,
      target,
      mode: as,
      dedupKey: dedupKey(event),
      action: event.resolves ? 'resolve' : 'trigger',
      payload: payloadFor(target, event, as),
      state: suppressed ? 'suppressed' : 'pending',
      occurredAt: event.occurredAt,
    });
    queued.push({ receiver: name, as, id, coalesced, suppressed });
  }
  return queued;
}

function payloadFor(target: Receiver, event: NotificationEvent, as: NotificationMode): object {
  switch (target.kind) {
    case 'pagerduty': return pagerDutyEvent(event, as);
    case 'slack': return slackMessage(event, as);
    case 'webhook': return webhookBody(event, as);
  }
}

/** The HTTP function: `fetch`, or another with its signature. */
export type HttpSend = (url: string, init: { method: 'POST'; headers: Record<string, string>; body: string; signal: AbortSignal; redirect: 'manual' }) => Promise<Response>;

export interface DispatcherOptions {
  /** Names this dispatcher in leases and the attempt log; unique per process by default. */
  holder?: string;
  now?: () => Date;
  send?: HttpSend;
  /** Where receivers' secrets are read (process.env by default). */
  environment?: (name: string) => string | undefined;
  random?: () => number;
  /** How often due rows are looked for when idle. */
  pollMs?: number;
  batchSize?: number;
  /** How long a claimed row is this dispatcher's; well over the request timeout. */
  leaseMs?: number;
  requestTimeoutMs?: number;
  log?: (message: string) => void;
}

export interface DispatchReport {
  delivered: number;
  retried: number;
  failed: number;
}

/** Characters of a refusing receiver's answer kept in the log (Slack says why in the body: `invalid_payload`). */
const ANSWER_EXCERPT = 300;

export class NotificationDispatcher {
  private readonly holder: string;
  private readonly now: () => Date;
  private readonly send: HttpSend;
  private readonly environment: (name: string) => string | undefined;
  private readonly random: () => number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly requestTimeoutMs: number;
  private readonly log: (message: string) => void;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private stopped = true;
  /** A poll is under way; a wake then asks for another right after it, never a second loop. */
  private polling = false;
  private wokenWhilePolling = false;

  constructor(private readonly pool: pg.Pool, options: DispatcherOptions = {}) {
    this.holder = options.holder ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.now = options.now ?? (() => new Date());
    this.send = options.send ?? fetch;
    this.environment = options.environment ?? ((name) => process.env[name]);
    this.random = options.random ?? Math.random;
    this.pollMs = options.pollMs ?? 2_000;
    this.batchSize = options.batchSize ?? 10;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.log = options.log ?? (() => undefined);
  }

  /** Polls for due rows until `stop`; a full batch is followed by the next at once. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Looks for due rows now (after the engine committed one, say) instead of at the next poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.polling) {
      this.wokenWhilePolling = true;
      return;
    }
    clearTimeout(this.timer);
    this.schedule(0);
  }

  /** Stops polling and waits for the attempts in flight to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Claims one batch of due rows, sends them concurrently and records each attempt.
   *
   * @example const report = await dispatcher.runOnce(); // { delivered: 1, retried: 0, failed: 0 }
   */
  async runOnce(): Promise<DispatchReport> {
    const claimed = await claimDueNotifications(this.pool, { holder: this.holder, now: this.now(), leaseMs: this.leaseMs, limit: this.batchSize });
    const verdicts = await Promise.all(claimed.map((row) => this.deliver(row)));
    return {
      delivered: verdicts.filter((verdict) => verdict.state === 'delivered').length,
      retried: verdicts.filter((verdict) => verdict.state === 'retry').length,
      failed: verdicts.filter((verdict) => verdict.state === 'failed').length,
    };
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      this.polling = true;
      const run = this.runOnce().then(
        (report) => report.delivered + report.retried + report.failed >= this.batchSize,
        (error: unknown) => {
          this.log(`sending notifications failed (tried again in ${this.pollMs} ms): ${error instanceof Error ? error.message : String(error)}`);
          return false;
        },
      );
      this.running = run;
      void run.then((fullBatch) => {
        const again = fullBatch || this.wokenWhilePolling;
        this.polling = false;
        this.wokenWhilePolling = false;
        if (!this.stopped) this.schedule(again ? 0 : this.pollMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async deliver(row: ClaimedNotification): Promise<DeliveryVerdict> {
    const startedAt = this.now();
    const clock = performance.now();
    let status: number | undefined;
    let answer: string | undefined;
    let verdict: DeliveryVerdict;
    try {
      const request = this.request(row, startedAt);
      let result: AttemptResult;
      try {
        const response = await this.send(request.url, { method: 'POST', headers: request.headers, body: request.body, signal: AbortSignal.timeout(this.requestTimeoutMs), redirect: 'manual' });
        const text = await response.text().catch(() => '');
        status = response.status;
        result = { status, retryAfter: response.headers.get('retry-after') ?? undefined };
        if (!response.ok) answer = `HTTP ${status}${text ? `: ${text.slice(0, ANSWER_EXCERPT)}` : ''}`;
      } catch (error) {
        result = { error: networkError(error) };
        answer = result.error;
      }
      verdict = deliveryVerdict(result, row.attempts + 1, this.now(), this.random);
    } catch (error) {
      // A receiver that cannot be addressed (its variable unset, a malformed secret) is not fixed by waiting.
      answer = (error as Error).message;
      verdict = { state: 'failed', reason: 'the receiver cannot be addressed, not retried' };
    }
    const error = verdict.state === 'failed' ? `${answer ?? 'no answer'} (${verdict.reason})` : answer;
    const applied = await recordAttempt(this.pool, {
      id: row.id,
      holder: this.holder,
      attempt: { startedAt, durationMs: performance.now() - clock, ...(status === undefined ? {} : { statusCode: status }), ...(error ? { error } : {}) },
      verdict,
      now: this.now(),
    });
    if (!applied) this.log(`notification ${row.id} to ${row.receiver}: the lease ran out during the attempt; another dispatcher has the row`);
    if (verdict.state === 'failed') this.log(`notification ${row.id} to ${row.receiver} failed: ${error}`);
    return verdict;
  }

  /** The request for a row, secrets read from the environment now. */
  private request(row: ClaimedNotification, now: Date): { url: string; headers: Record<string, string>; body: string } {
    const json = { 'content-type': 'application/json' };
    const target = row.target;
    switch (target.kind) {
      case 'pagerduty':
        return { url: target.url, headers: json, body: JSON.stringify({ routing_key: this.secret(target.routingKeyEnv), ...row.payload }) };
      case 'slack':
        return { url: this.secret(target.urlEnv), headers: json, body: JSON.stringify(row.payload) };
      case 'webhook': {
        const body = JSON.stringify(row.payload);
        const signed = standardWebhookHeaders({ id: row.messageId, timestamp: now, body, secret: this.secret(target.secretEnv) }, (key, content) => createHmac('sha256', key).update(content).digest('base64'));
        return { url: target.url, headers: { ...json, ...signed }, body };
      }
    }
  }

  private secret(variable: string): string {
    const value = this.environment(variable);
    if (!value) throw new Error(`the environment variable ${variable} is not set`);
    return value;
  }
}

/** fetch's "fetch failed" hides the reason in its cause (ECONNREFUSED, a timeout). */
function networkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError') return 'no answer in time';
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? error.message;
}
