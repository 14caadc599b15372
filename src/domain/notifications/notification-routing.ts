/**
 * Which receivers hear an event and how loudly: the routes are tried in order, the first that
 * matches is the last one tried unless it says `continue` (Alertmanager's rule, so people who know
 * it are not surprised). An event no route matches is sent nowhere.
 */
import type { NotificationEvent, NotificationMode } from './notification-event.js';
import type { NotificationRoute, NotificationsPolicy } from './notification-schema.js';

export interface RoutedDelivery {
  receiver: string;
  as: NotificationMode;
}

/**
 * @example routeEvent(policy.notifications, { kind: 'reboot-stuck', bucket: 'databases', … }) // [{ receiver: 'on-call', as: 'page' }]
 */
export function routeEvent(notifications: Pick<NotificationsPolicy, 'routes'>, event: Pick<NotificationEvent, 'kind' | 'bucket' | 'team' | 'buckets' | 'teams' | 'severity'>): RoutedDelivery[] {
  const deliveries: RoutedDelivery[] = [];
  for (const route of notifications.routes) {
    if (!matches(route.match, event)) continue;
    // Two routes naming one receiver deliver once, as loudly as the first said.
    if (!deliveries.some((delivery) => delivery.receiver === route.receiver)) deliveries.push({ receiver: route.receiver, as: route.as });
    if (!route.continue) break;
  }
  return deliveries;
}

function matches(match: NotificationRoute['match'], event: Pick<NotificationEvent, 'kind' | 'bucket' | 'team' | 'buckets' | 'teams' | 'severity'>): boolean {
  const buckets = event.buckets ?? [event.bucket];
  const teams = event.teams ?? [event.team];
  return (match.kinds === undefined || match.kinds.includes(event.kind))
    && (match.buckets === undefined || buckets.some((bucket) => match.buckets!.includes(bucket)))
    && (match.teams === undefined || teams.some((team) => match.teams!.includes(team)))
    && (match.severities === undefined || match.severities.includes(event.severity));
}
