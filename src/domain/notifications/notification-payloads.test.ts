import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import type { NotificationEvent } from './notification-event.js';
import { pagerDutyEvent, slackMessage, standardWebhookHeaders, webhookBody, webhookSecretBytes } from './notification-payloads.js';

const stuck: NotificationEvent = {
  kind: 'reboot-stuck', severity: 'warning', rolloutId: 7, host: 'db-1', bucket: 'databases', team: 'data-platform',
  summary: 'db-1 did not come back within 5m of its reboot', details: { timeout: '5m' }, occurredAt: new Date('2027-01-05T22:10:00Z'),
};
const hmac = (key: Uint8Array, content: string) => createHmac('sha256', key).update(content).digest('base64');
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('pagerDutyEvent', () => {
  it('triggers with the dedup key and the payload PagerDuty requires', () => {
    expect(pagerDutyEvent(stuck, 'page')).toEqual({
      event_action: 'trigger',
      dedup_key: 'fleetpatch:rollout:7:host:db-1',
      client: 'fleetpatch',
      payload: {
        summary: stuck.summary, source: 'db-1', severity: 'error', timestamp: '2027-01-05T22:10:00.000Z', component: 'databases', group: 'data-platform', class: 'reboot-stuck',
        custom_details: { timeout: '5m', kind: 'reboot-stuck', rollout_id: 7, host: 'db-1', bucket: 'databases', team: 'data-platform', as: 'page' },
      },
    });
  });
  it('sets urgency by the route\'s mode', () => {
    expect(pagerDutyEvent({ ...stuck, severity: 'critical' }, 'page').payload?.severity).toBe('critical');
    expect(pagerDutyEvent({ ...stuck, severity: 'critical' }, 'ticket').payload?.severity).toBe('warning');
    expect(pagerDutyEvent({ ...stuck, severity: 'critical' }, 'info').payload?.severity).toBe('info');
  });
  it('resolves with the same key', () => {
    expect(pagerDutyEvent({ ...stuck, resolves: true }, 'page')).toEqual({ event_action: 'resolve', dedup_key: 'fleetpatch:rollout:7:host:db-1', client: 'fleetpatch' });
  });
  it('cuts the summary to 1024 characters and names the rollout when no host is involved', () => {
    const long = pagerDutyEvent({ ...stuck, host: undefined, summary: '🔥'.repeat(2000) } as NotificationEvent, 'page');
    expect([...long.payload!.summary]).toHaveLength(1024);
    expect(long.payload!.source).toBe('fleetpatch rollout 7');
    expect(long.dedup_key).toBe('fleetpatch:rollout:7');
  });
});

describe('slackMessage', () => {
  it('has a fallback text and blocks, with markup in the summary escaped', () => {
    const message = slackMessage({ ...stuck, summary: '<!channel> & friends' }, 'page');
    expect(message.text).toBe('PAGE reboot-stuck, rollout 7, host db-1: &lt;!channel&gt; &amp; friends');
    expect(message.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'PAGE reboot-stuck, rollout 7, host db-1' } });
    expect(message.blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: '&lt;!channel&gt; &amp; friends' } });
    expect(message.blocks[2]).toMatchObject({ type: 'context', elements: expect.arrayContaining([{ type: 'mrkdwn', text: '*bucket* databases' }]) });
  });
  it('keeps within Slack\'s block limits', () => {
    const message = slackMessage({ ...stuck, summary: 'x'.repeat(5000), host: 'h'.repeat(200) }, 'info');
    expect(((message.blocks[0]!.text as { text: string }).text)).toHaveLength(150);
    expect(((message.blocks[1]!.text as { text: string }).text)).toHaveLength(3000);
  });
});

describe('Standard Webhooks', () => {
  it('signs id.timestamp.body so the reference implementation verifies it', () => {
    const body = JSON.stringify(webhookBody(stuck, 'page'));
    const timestamp = new Date();
    const headers = standardWebhookHeaders({ id: 'msg_1', timestamp, body, secret: SECRET }, hmac);
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(headers['webhook-signature']).toBe(new Webhook(SECRET).sign('msg_1', timestamp, body));
    expect(new Webhook(SECRET).verify(body, headers)).toMatchObject({ type: 'fleetpatch.reboot-stuck', data: { dedupKey: 'fleetpatch:rollout:7:host:db-1', as: 'page' } });
  });
  it('refuses a secret that is not whsec_ and 24 to 64 base64 bytes', () => {
    expect(webhookSecretBytes(SECRET)).toHaveLength(24);
    expect(() => webhookSecretBytes('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toThrow(/whsec_/);
    expect(() => webhookSecretBytes('whsec_c2hvcnQ=')).toThrow(/24 to 64 bytes, this one 5/);
    expect(() => webhookSecretBytes('whsec_not base64!')).toThrow(/base64/);
  });
});
