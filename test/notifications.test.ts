// Notifications end to end on a real PostgreSQL and real loopback receivers: the outbox queued in
// the caller's transaction, the dispatcher's requests (signed webhooks, Slack, PagerDuty Events v2),
// retries on 5xx/429 and none on 400, one request for a storm, suppressed expected signals, and
// several dispatchers that never send a row twice. An injected clock steps over the backoff.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './cli.js';
import { enqueueNotification, NotificationDispatcher, type DispatcherOptions } from '../src/app/notification-dispatcher.js';
import type { NotificationEvent } from '../src/domain/notifications/notification-event.js';
import { slackMessage } from '../src/domain/notifications/notification-payloads.js';
import { notificationsSchema, type NotificationsPolicy } from '../src/domain/notifications/notification-schema.js';
import { claimDueNotifications, listNotifications } from '../src/store/notification-store.js';
import { withTransaction } from '../src/store/transaction.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

interface Answer { status: number; headers?: Record<string, string>; body?: string }
interface Received { headers: IncomingHttpHeaders; body: string; json: Record<string, unknown> }

interface Receiver {
  url: string;
  requests: Received[];
  /** Resolves with the request after the ones received so far. */
  nextRequest(): Promise<Received>;
  close(): Promise<void>;
}

/** A loopback HTTP server answering with `answers` in turn, the last one for ever after. */
async function startReceiver(answers: Answer[]): Promise<Receiver> {
  const requests: Received[] = [];
  const waiting: Array<(request: Received) => void> = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const received = { headers: request.headers, body, json: JSON.parse(body) as Record<string, unknown> };
      const answer = answers[Math.min(requests.length, answers.length - 1)]!;
      requests.push(received);
      response.writeHead(answer.status, answer.headers).end(answer.body ?? '');
      waiting.shift()?.(received);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    requests,
    nextRequest: () => new Promise((resolve) => waiting.push(resolve)),
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const ROUTING_KEY = 'R0UT1NGKEY0F32CHARACTERSXXXXXXX';
const WEBHOOK_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

let database: TestDatabase;
let receivers: Receiver[];
let clock: Date;
const advance = (milliseconds: number) => {
  clock = new Date(clock.getTime() + milliseconds);
};

beforeEach(async () => {
  database = await createTestDatabase();
  receivers = [];
  // The real time: webhook signatures are checked against it, within Standard Webhooks' 5 minutes.
  clock = new Date();
});

afterEach(async () => {
  await Promise.all(receivers.map((receiver) => receiver.close()));
  await database.drop();
});

async function receiver(...answers: Answer[]): Promise<Receiver> {
  const started = await startReceiver(answers);
  receivers.push(started);
  return started;
}

/** Every event to `kind`'s receiver named `to`, as `as`. */
function policyFor(to: 'pager' | 'chat' | 'hook', url: string, as: 'page' | 'ticket' | 'info' = 'page'): NotificationsPolicy {
  return notificationsSchema.parse({
    receivers: {
      pager: { kind: 'pagerduty', routingKeyEnv: 'TEST_PD_KEY', url },
      chat: { kind: 'slack', urlEnv: 'TEST_SLACK_URL' },
      hook: { kind: 'webhook', url, secretEnv: 'TEST_WEBHOOK_SECRET' },
    },
    routes: [{ receiver: to, as }],
  });
}

function dispatcher(url: string, options: DispatcherOptions = {}): NotificationDispatcher {
  const environment: Record<string, string> = { TEST_PD_KEY: ROUTING_KEY, TEST_SLACK_URL: url, TEST_WEBHOOK_SECRET: WEBHOOK_SECRET };
  return new NotificationDispatcher(database.pool, { now: () => clock, environment: (name) => environment[name], random: () => 0.5, ...options });
}

const rebootStuck = (overrides: Partial<NotificationEvent> = {}): NotificationEvent => ({
  kind: 'reboot-stuck', severity: 'critical', rolloutId: 7, host: 'db-1', bucket: 'databases', team: 'data-platform',
  summary: 'db-1 did not come back within 5m of its reboot', details: { timeout: '5m', bootId: 'b0a1' }, occurredAt: clock, ...overrides,
});

async function enqueue(policy: NotificationsPolicy, event: NotificationEvent) {
  return withTransaction(database.pool, (client) => enqueueNotification(client, policy, event));
}

describe('PagerDuty Events v2', () => {
  it('a reboot that never returned pages with its dedup key, and is sent again after a 500', async () => {
    const pagerDuty = await receiver({ status: 500, body: 'try later' }, { status: 202, body: '{"status":"success","message":"Event processed"}' });
    const policy = policyFor('pager', pagerDuty.url);
    const [queued] = await enqueue(policy, rebootStuck());
    expect(queued).toMatchObject({ receiver: 'pager', as: 'page', coalesced: false, suppressed: false });
    const sender = dispatcher(pagerDuty.url);

    expect(await sender.runOnce()).toEqual({ delivered: 0, retried: 1, failed: 0 });
    // Not due again until the backoff (30 s at the middle of its jitter) has passed.
    advance(29_000);
    expect(await sender.runOnce()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    advance(1_000);
    expect(await sender.runOnce()).toEqual({ delivered: 1, retried: 0, failed: 0 });

    expect(pagerDuty.requests).toHaveLength(2);
    for (const request of pagerDuty.requests) {
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.json).toMatchObject({
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: 'fleetpatch:rollout:7:host:db-1',
        payload: { summary: 'db-1 did not come back within 5m of its reboot', source: 'db-1', severity: 'critical', component: 'databases', group: 'data-platform', class: 'reboot-stuck', custom_details: { rollout_id: 7, bootId: 'b0a1' } },
      });
    }
    const [listed] = await listNotifications(database.pool, { limit: 10 });
    expect(listed).toMatchObject({ id: queued!.id, state: 'delivered', attempts: 2, lastStatus: 202, lastError: null, receiverKind: 'pagerduty', dedupKey: 'fleetpatch:rollout:7:host:db-1' });
    expect(listed!.attemptLog.map(({ attempt, statusCode, outcome, error }) => ({ attempt, statusCode, outcome, error }))).toEqual([
      { attempt: 1, statusCode: 500, outcome: 'retry', error: 'HTTP 500: try later' },
      { attempt: 2, statusCode: 202, outcome: 'delivered', error: null },
    ]);
    // The routing key is a secret: it is added when sending, never stored.
    expect(JSON.stringify(listed)).not.toContain(ROUTING_KEY);
  });

  it('does not retry a 400', async () => {
    const pagerDuty = await receiver({ status: 400, body: '{"status":"invalid event","errors":["Length of \'routing_key\' is incorrect"]}' });
    await enqueue(policyFor('pager', pagerDuty.url), rebootStuck());
    const sender = dispatcher(pagerDuty.url);
    expect(await sender.runOnce()).toEqual({ delivered: 0, retried: 0, failed: 1 });
    advance(2 * 3_600_000);
    expect(await sender.runOnce()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    expect(pagerDuty.requests).toHaveLength(1);
    const [listed] = await listNotifications(database.pool, { state: 'failed', limit: 10 });
    expect(listed).toMatchObject({ state: 'failed', attempts: 1, lastStatus: 400, nextAttemptAt: null });
    expect(listed!.lastError).toMatch(/^HTTP 400: .*routing_key.*\(refused by the receiver, not retried\)$/);
  });

  it('waits as long as a 429\'s Retry-After says', async () => {
    const pagerDuty = await receiver({ status: 429, headers: { 'retry-after': '120' } }, { status: 202 });
    await enqueue(policyFor('pager', pagerDuty.url), rebootStuck());
    const sender = dispatcher(pagerDuty.url);
    expect(await sender.runOnce()).toMatchObject({ retried: 1 });
    // Past the 30 s backoff, short of the 120 s asked for.
    advance(119_000);
    expect(await sender.runOnce()).toMatchObject({ delivered: 0 });
    advance(1_000);
    expect(await sender.runOnce()).toMatchObject({ delivered: 1 });
    expect(pagerDuty.requests).toHaveLength(2);
  });

  it('gives up after ten attempts over about an hour', async () => {
    const pagerDuty = await receiver({ status: 503 });
    await enqueue(policyFor('pager', pagerDuty.url), rebootStuck());
    const sender = dispatcher(pagerDuty.url);
    const started = clock.getTime();
    let report = await sender.runOnce();
    while (report.failed === 0) {
      advance(10_000);
      report = await sender.runOnce();
    }
    expect(pagerDuty.requests).toHaveLength(10);
    expect((clock.getTime() - started) / 60_000).toBeGreaterThan(45);
    expect((clock.getTime() - started) / 60_000).toBeLessThan(75);
    expect((await listNotifications(database.pool, { limit: 1 }))[0]).toMatchObject({ state: 'failed', attempts: 10 });
  });

  it('retries when the receiver cannot be reached', async () => {
    const gone = await receiver({ status: 202 });
    await gone.close();
    receivers = receivers.filter((entry) => entry !== gone);
    await enqueue(policyFor('pager', gone.url), rebootStuck());
    expect(await dispatcher(gone.url).runOnce()).toMatchObject({ retried: 1 });
    expect((await listNotifications(database.pool, { limit: 1 }))[0]).toMatchObject({ state: 'pending', lastStatus: null, lastError: 'ECONNREFUSED' });
  });

  it('sends a storm of one trouble as one request, and its resolve after it', async () => {
    const pagerDuty = await receiver({ status: 202 });
    const policy = policyFor('pager', pagerDuty.url);
    for (let index = 0; index < 50; index++) await enqueue(policy, rebootStuck({ summary: `db-1 still not back (${index})` }));
    // A rollout's own trouble, reported by every host's failure, is one key for the rollout.
    for (let index = 0; index < 50; index++) await enqueue(policy, rebootStuck({ kind: 'rollout-halted', host: undefined, summary: `halted: host-${index} failed` }));
    await enqueue(policy, rebootStuck({ resolves: true, summary: 'db-1 is back' }));
    const listed = await listNotifications(database.pool, { limit: 100 });
    expect(listed.map(({ kind, dedupKey, action, coalesced }) => ({ kind, dedupKey, action, coalesced })).reverse()).toEqual([
      { kind: 'reboot-stuck', dedupKey: 'fleetpatch:rollout:7:host:db-1', action: 'trigger', coalesced: 49 },
      { kind: 'rollout-halted', dedupKey: 'fleetpatch:rollout:7', action: 'trigger', coalesced: 49 },
      { kind: 'reboot-stuck', dedupKey: 'fleetpatch:rollout:7:host:db-1', action: 'resolve', coalesced: 0 },
    ]);
    const sender = dispatcher(pagerDuty.url);
    while ((await sender.runOnce()).delivered > 0);
    expect(pagerDuty.requests.map((request) => [request.json.dedup_key, request.json.event_action])).toEqual(expect.arrayContaining([
      ['fleetpatch:rollout:7:host:db-1', 'trigger'],
      ['fleetpatch:rollout:7', 'trigger'],
      ['fleetpatch:rollout:7:host:db-1', 'resolve'],
    ]));
    expect(pagerDuty.requests).toHaveLength(3);
    const hostRequests = pagerDuty.requests.filter((request) => request.json.dedup_key === 'fleetpatch:rollout:7:host:db-1');
    expect(hostRequests.map((request) => request.json.event_action)).toEqual(['trigger', 'resolve']);
    expect(pagerDuty.requests[0]!.json).toMatchObject({ payload: { summary: 'db-1 still not back (0)' } });
  });

  it('holds a resolve back while its trigger waits to be retried', async () => {
    const pagerDuty = await receiver({ status: 500 }, { status: 202 });
    const policy = policyFor('pager', pagerDuty.url);
    await enqueue(policy, rebootStuck());
    const sender = dispatcher(pagerDuty.url);
    expect(await sender.runOnce()).toMatchObject({ retried: 1 });
    await enqueue(policy, rebootStuck({ resolves: true }));
    // The resolve is due, but its trigger is not yet: sending the resolve first would leave the alert open.
    expect(await sender.runOnce()).toEqual({ delivered: 0, retried: 0, failed: 0 });
    advance(30_000);
    expect(await sender.runOnce()).toMatchObject({ delivered: 1 });
    expect(await sender.runOnce()).toMatchObject({ delivered: 1 });
    expect(pagerDuty.requests.map((request) => request.json.event_action)).toEqual(['trigger', 'trigger', 'resolve']);
  });
});

describe('webhooks and Slack', () => {
  it('signs webhooks as Standard Webhooks specifies, with one webhook-id across retries', async () => {
    const hook = await receiver({ status: 503 }, { status: 204 });
    const [queued] = await enqueue(policyFor('hook', hook.url, 'ticket'), rebootStuck());
    const sender = dispatcher(hook.url);
    await sender.runOnce();
    advance(30_000);
    expect(await sender.runOnce()).toMatchObject({ delivered: 1 });
    const verifier = new Webhook(WEBHOOK_SECRET);
    for (const request of hook.requests) {
      expect(verifier.verify(request.body, request.headers as Record<string, string>)).toMatchObject({
        type: 'fleetpatch.reboot-stuck',
        data: { kind: 'reboot-stuck', as: 'ticket', rolloutId: 7, host: 'db-1', dedupKey: 'fleetpatch:rollout:7:host:db-1', details: { bootId: 'b0a1' } },
      });
    }
    const { messageId } = (await listNotifications(database.pool, { limit: 1 }))[0]!;
    expect(hook.requests.map((request) => request.headers['webhook-id'])).toEqual([messageId, messageId]);
    expect(Number(hook.requests[1]!.headers['webhook-timestamp']) - Number(hook.requests[0]!.headers['webhook-timestamp'])).toBe(30);
    expect(queued).toMatchObject({ receiver: 'hook', as: 'ticket' });
    // A body changed on the way fails verification.
    expect(() => verifier.verify(hook.requests[1]!.body.replace('db-1', 'db-2'), hook.requests[1]!.headers as Record<string, string>)).toThrow();
  });

  it('posts Slack its incoming-webhook message, the URL read from the environment', async () => {
    const slack = await receiver({ status: 200, body: 'ok' });
    const event = rebootStuck({ kind: 'rollout-done', severity: 'info', host: undefined, summary: 'rollout 7 done: 12 hosts patched' });
    await enqueue(policyFor('chat', slack.url, 'info'), event);
    expect(await dispatcher(slack.url).runOnce()).toMatchObject({ delivered: 1 });
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]!.json).toEqual(slackMessage(event, 'info'));
    expect(slack.requests[0]!.json.text).toBe('INFO rollout-done, rollout 7: rollout 7 done: 12 hosts patched');
  });

  it('fails at once, saying why, when the receiver\'s variable is not set', async () => {
    const slack = await receiver({ status: 200 });
    await enqueue(policyFor('chat', slack.url), rebootStuck());
    expect(await dispatcher(slack.url, { environment: () => undefined }).runOnce()).toMatchObject({ failed: 1 });
    expect(slack.requests).toHaveLength(0);
    expect((await listNotifications(database.pool, { limit: 1 }))[0]!.lastError).toBe('the environment variable TEST_SLACK_URL is not set (the receiver cannot be addressed, not retried)');
  });
});

describe('the outbox', () => {
  it('records an expected signal as suppressed and sends it nowhere; a failure called expected is still sent', async () => {
    const pagerDuty = await receiver({ status: 202 });
    const policy = policyFor('pager', pagerDuty.url);
    const [silent] = await enqueue(policy, rebootStuck({ kind: 'host-silent', severity: 'warning', expected: true, summary: 'db-1 silent while it reboots in its window' }));
    const [stuck] = await enqueue(policy, rebootStuck({ expected: true }));
    expect(silent).toMatchObject({ suppressed: true });
    expect(stuck).toMatchObject({ suppressed: false });
    const sender = dispatcher(pagerDuty.url);
    while ((await sender.runOnce()).delivered > 0);
    expect(pagerDuty.requests.map((request) => request.json.payload)).toEqual([expect.objectContaining({ class: 'reboot-stuck' })]);
    const suppressed = await listNotifications(database.pool, { state: 'suppressed', limit: 10 });
    expect(suppressed).toEqual([expect.objectContaining({ id: silent!.id, kind: 'host-silent', state: 'suppressed', attempts: 0, attemptLog: [] })]);
    expect(suppressed[0]!.finishedAt).not.toBeNull();
  });

  it('queues in the caller\'s transaction: a rolled-back change sends nothing', async () => {
    const pagerDuty = await receiver({ status: 202 });
    await expect(withTransaction(database.pool, async (client) => {
      await enqueueNotification(client, policyFor('pager', pagerDuty.url), rebootStuck());
      throw new Error('the state change failed');
    })).rejects.toThrow('the state change failed');
    expect(await listNotifications(database.pool, { limit: 10 })).toEqual([]);
  });

  it('queues nothing for an event no route matches', async () => {
    const policy = notificationsSchema.parse({ receivers: { pager: { kind: 'pagerduty', routingKeyEnv: 'K' } }, routes: [{ match: { buckets: ['databases'] }, receiver: 'pager', as: 'page' }] });
    expect(await enqueue(policy, rebootStuck({ bucket: 'stateless' }))).toEqual([]);
    expect(await listNotifications(database.pool, { limit: 10 })).toEqual([]);
  });

  it('never sends a row twice from two dispatchers on one database', async () => {
    const hook = await receiver({ status: 200 });
    const policy = policyFor('hook', hook.url);
    for (let rollout = 1; rollout <= 40; rollout++) await enqueue(policy, rebootStuck({ rolloutId: rollout }));
    const drain = async (sender: NotificationDispatcher) => {
      while ((await sender.runOnce()).delivered > 0);
    };
    await Promise.all([drain(dispatcher(hook.url, { holder: 'replica-a', batchSize: 3 })), drain(dispatcher(hook.url, { holder: 'replica-b', batchSize: 3 }))]);
    expect(hook.requests).toHaveLength(40);
    expect(new Set(hook.requests.map((request) => request.headers['webhook-id'])).size).toBe(40);
    const listed = await listNotifications(database.pool, { limit: 100 });
    expect(listed.every((row) => row.state === 'delivered' && row.attempts === 1)).toBe(true);
  });

  it('takes over a killed dispatcher\'s rows once their lease expires', async () => {
    const pagerDuty = await receiver({ status: 202 });
    await enqueue(policyFor('pager', pagerDuty.url), rebootStuck());
    // A replica claims the row and dies before sending it.
    expect(await claimDueNotifications(database.pool, { holder: 'killed', now: clock, leaseMs: 120_000, limit: 10 })).toHaveLength(1);
    const survivor = dispatcher(pagerDuty.url, { holder: 'survivor' });
    expect(await survivor.runOnce()).toMatchObject({ delivered: 0 });
    advance(120_000);
    expect(await survivor.runOnce()).toMatchObject({ delivered: 1 });
    expect((await listNotifications(database.pool, { limit: 1 }))[0]!.attemptLog).toEqual([expect.objectContaining({ dispatcher: 'survivor', outcome: 'delivered' })]);
  });

  it('delivers on its own once started, and stops', async () => {
    const pagerDuty = await receiver({ status: 202 });
    const sender = dispatcher(pagerDuty.url, { now: () => new Date(), pollMs: 20 });
    sender.start();
    try {
      const arrived = pagerDuty.nextRequest();
      await enqueue(policyFor('pager', pagerDuty.url), rebootStuck());
      expect((await arrived).json).toMatchObject({ dedup_key: 'fleetpatch:rollout:7:host:db-1' });
    } finally {
      await sender.stop();
    }
    const listed = await listNotifications(database.pool, { limit: 1 });
    expect(listed[0]).toMatchObject({ state: 'delivered' });
  });

  it('looks at once when woken, without waiting for its next poll', async () => {
    const pagerDuty = await receiver({ status: 202 });
    const policy = policyFor('pager', pagerDuty.url);
    const sender = dispatcher(pagerDuty.url, { now: () => new Date(), pollMs: 3_600_000 });
    await enqueue(policy, rebootStuck({ rolloutId: 1 }));
    const first = pagerDuty.nextRequest();
    sender.start();
    try {
      // The first poll sends rollout 1's page; the next would be an hour later.
      expect((await first).json).toMatchObject({ dedup_key: 'fleetpatch:rollout:1:host:db-1' });
      await enqueue(policy, rebootStuck({ rolloutId: 2 }));
      const second = pagerDuty.nextRequest();
      sender.wake();
      expect((await second).json).toMatchObject({ dedup_key: 'fleetpatch:rollout:2:host:db-1' });
    } finally {
      await sender.stop();
    }
  });
});

/** `fleetpatch notifications …` against the test database. */
function notificationsCli(args: string[]): Promise<CliResult> {
  return runCli(['notifications', ...args], { DATABASE_URL: database.connectionString });
}

describe('fleetpatch notifications list', () => {
  it('shows each notification with its attempts, filtered by state, as a table or JSON', async () => {
    const pagerDuty = await receiver({ status: 500 }, { status: 202 });
    const policy = policyFor('pager', pagerDuty.url);
    await enqueue(policy, rebootStuck());
    await enqueue(policy, rebootStuck());
    await enqueue(policy, rebootStuck({ kind: 'host-silent', severity: 'warning', host: 'db-2', expected: true }));
    const sender = dispatcher(pagerDuty.url);
    await sender.runOnce();
    advance(30_000);
    await sender.runOnce();

    const table = await notificationsCli(['list']);
    expect(table).toMatchObject({ code: 0, stderr: '' });
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s*ID\s+CREATED\s+KIND\s+ABOUT\s+HOST\s+RECEIVER\s+AS\s+STATE\s+ATTEMPTS/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/host-silent\s+rollout 7\s+db-2\s+pager \(pagerduty\)\s+page\s+suppressed/);
    expect(lines[2]).toMatch(/reboot-stuck\s+rollout 7\s+db-1\s+pager \(pagerduty\)\s+page\s+delivered \+1 coalesced\s+500 202/);

    const json = await notificationsCli(['list', '--state', 'delivered', '--json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as Array<{ kind: string; attemptLog: Array<{ statusCode: number }>; payload: { dedup_key: string } }>;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ kind: 'reboot-stuck', state: 'delivered', coalesced: 1, payload: { dedup_key: 'fleetpatch:rollout:7:host:db-1' } });
    expect(rows[0]!.attemptLog.map((attempt) => attempt.statusCode)).toEqual([500, 202]);

    expect(await notificationsCli(['list', '--state', 'sent'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown state: sent') });
  });
});
