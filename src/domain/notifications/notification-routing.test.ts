import { describe, expect, it } from 'vitest';
import { notificationsSchema } from './notification-schema.js';
import { routeEvent } from './notification-routing.js';

const notifications = notificationsSchema.parse({
  receivers: {
    'on-call': { kind: 'pagerduty', routingKeyEnv: 'PD_KEY' },
    chat: { kind: 'slack', urlEnv: 'SLACK_URL' },
    audit: { kind: 'webhook', url: 'https://siem.example/hook', secretEnv: 'HOOK_SECRET' },
  },
  routes: [
    { match: { buckets: ['databases'], kinds: ['reboot-stuck', 'gate-failed'] }, receiver: 'on-call', as: 'page', continue: true },
    { match: {}, receiver: 'audit', as: 'info', continue: true },
    { match: { severities: ['critical', 'error'] }, receiver: 'chat', as: 'ticket' },
    { match: { teams: ['web'] }, receiver: 'chat', as: 'info' },
    { match: {}, receiver: 'on-call', as: 'info' },
  ],
});

const event = { kind: 'reboot-stuck', bucket: 'databases', team: 'data-platform', severity: 'critical' } as const;

describe('routeEvent', () => {
  it('goes on past a match that says continue and stops at the first that does not', () => {
    expect(routeEvent(notifications, event)).toEqual([
      { receiver: 'on-call', as: 'page' },
      { receiver: 'audit', as: 'info' },
      { receiver: 'chat', as: 'ticket' },
    ]);
  });
  it('needs every listed condition', () => {
    expect(routeEvent(notifications, { ...event, bucket: 'stateless', team: 'web', severity: 'warning' })).toEqual([
      { receiver: 'audit', as: 'info' },
      { receiver: 'chat', as: 'info' },
    ]);
  });
  it('delivers to a receiver once, as loudly as the first route that named it', () => {
    expect(routeEvent(notifications, { ...event, kind: 'rollout-done', severity: 'info' })).toEqual([
      { receiver: 'audit', as: 'info' },
      { receiver: 'on-call', as: 'info' },
    ]);
    expect(routeEvent(notifications, { ...event, team: 'web', severity: 'info' }).filter((delivery) => delivery.receiver === 'on-call')).toEqual([{ receiver: 'on-call', as: 'page' }]);
  });
  it('sends nowhere without routes', () => {
    expect(routeEvent(notificationsSchema.parse({}), event)).toEqual([]);
  });
});
