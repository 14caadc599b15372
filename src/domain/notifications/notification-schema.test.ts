import { describe, expect, it } from 'vitest';
import { notificationsSchema } from './notification-schema.js';

describe('notificationsSchema', () => {
  it('defaults to no receivers and no routes, PagerDuty to its public endpoint', () => {
    expect(notificationsSchema.parse({})).toEqual({ receivers: {}, routes: [] });
    expect(notificationsSchema.parse({ receivers: { pd: { kind: 'pagerduty', routingKeyEnv: 'PD_KEY' } } }).receivers.pd)
      .toEqual({ kind: 'pagerduty', routingKeyEnv: 'PD_KEY', url: 'https://events.pagerduty.com/v2/enqueue' });
  });
  it('takes environment variable names, not secrets', () => {
    expect(notificationsSchema.safeParse({ receivers: { chat: { kind: 'slack', urlEnv: 'https://hooks.slack.com/services/T/B/X' } } }).success).toBe(false);
    expect(notificationsSchema.safeParse({ receivers: { chat: { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X' } } }).success).toBe(false);
  });
  it('refuses unknown keys, kinds and modes', () => {
    expect(notificationsSchema.safeParse({ routes: [{ receiver: 'pd', as: 'page', matches: {} }] }).success).toBe(false);
    expect(notificationsSchema.safeParse({ routes: [{ receiver: 'pd', as: 'page', match: { kinds: ['reboot-late'] } }] }).success).toBe(false);
    expect(notificationsSchema.safeParse({ routes: [{ receiver: 'pd', as: 'shout' }] }).success).toBe(false);
    expect(notificationsSchema.safeParse({ receivers: { hook: { kind: 'webhook', url: 'ftp://example.org/x', secretEnv: 'S' } } }).success).toBe(false);
  });
});
