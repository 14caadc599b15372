/** `fleetpatch notifications list`: every notification queued for a receiver, with its delivery attempts. */
import type { Command } from 'commander';
import { InputError } from '../../domain/errors.js';
import { listNotifications, type NotificationListing, type NotificationState } from '../../store/notification-store.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';
import { renderTable } from '../table.js';
import { parsePositiveInteger } from './findings.js';

const STATES: readonly NotificationState[] = ['pending', 'delivered', 'failed', 'suppressed'];

export function registerNotificationsCommand(program: Command): void {
  const notifications = program.command('notifications').description('Notifications to PagerDuty, Slack and webhooks: what was sent where, and how each attempt went.');
  notifications
    .command('list')
    .description('List notifications, newest first, with their attempts.')
    .option('--state <state>', `only this state: ${STATES.join(', ')}`)
    .option('--limit <n>', 'at most this many notifications', parsePositiveInteger, 50)
    .option('--json', 'print a JSON array (payloads and every attempt included)')
    .action(async (options: { state?: string; limit: number; json?: boolean }) => {
      if (options.state !== undefined && !STATES.includes(options.state as NotificationState)) {
        throw new InputError(`unknown state: ${options.state}`, { field: '--state' }, `use one of ${STATES.join(', ')}`);
      }
      const rows = await withDatabase(createProgress(!options.json), (database) =>
        listNotifications(database.pool, { ...(options.state ? { state: options.state as NotificationState } : {}), limit: options.limit }));
      if (options.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      process.stdout.write(rows.length === 0 ? 'no notifications\n' : renderTable(rows, [
        { header: 'ID', value: (row: NotificationListing) => String(row.id), align: 'right' },
        { header: 'CREATED', value: (row) => row.createdAt.slice(0, 19).replace('T', ' ') },
        { header: 'KIND', value: (row) => `${row.kind}${row.action === 'resolve' ? ' (resolve)' : ''}` },
        { header: 'ABOUT', value: (row) => (row.incidentId !== null ? `INC-${row.incidentId}` : `rollout ${row.rolloutId}`) },
        { header: 'HOST', value: (row) => row.host ?? '', maxWidth: 32 },
        { header: 'RECEIVER', value: (row) => `${row.receiver} (${row.receiverKind})`, maxWidth: 40 },
        { header: 'AS', value: (row) => row.as },
        { header: 'STATE', value: (row) => `${row.state}${row.coalesced > 0 ? ` +${row.coalesced} coalesced` : ''}` },
        { header: 'ATTEMPTS', value: attemptSummary, maxWidth: 40 },
        { header: 'NEXT', value: (row) => row.nextAttemptAt?.slice(0, 19).replace('T', ' ') ?? '' },
        { header: 'LAST ERROR', value: (row) => row.lastError ?? '', maxWidth: 60 },
      ]));
    });
}

/** Each attempt's answer in order, `500 202` or `ECONNREFUSED 202`. */
function attemptSummary(row: NotificationListing): string {
  return row.attemptLog.map((attempt) => (attempt.statusCode === null ? (attempt.error ?? 'error').split(' ')[0]! : String(attempt.statusCode))).join(' ');
}
