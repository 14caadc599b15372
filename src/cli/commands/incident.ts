/**
 * `fleetpatch incident list | show | open | close | timeline`: the emergency path's incidents over
 * the same service the API uses. Read commands have --json; `timeline --markdown` prints the
 * postmortem's timeline section. Opening and closing need a reason (timeline and audit log); a
 * close the scope refuses is exit 2 with every blocker named.
 */
import type { Command } from 'commander';
import { closeIncident, DEFAULT_EMERGENCY, incidentDetail, incidentLabel, incidentScope, incidentTimeline, openIncident, type EmergencySettings, type IncidentDetail } from '../../app/incident-service.js';
import { InputError } from '../../domain/errors.js';
import { formatPolicyDuration } from '../../domain/policy/policy-duration.js';
import { timelineToJson, timelineToMarkdown } from '../../domain/incidents/incident-timeline.js';
import type { ScopeCounts } from '../../domain/incidents/incident-scope.js';
import { parsePolicy } from '../../domain/policy/policy-document.js';
import type { Database } from '../../store/database.js';
import { listIncidents, type IncidentState, type StoredIncident } from '../../store/incident-store.js';
import { latestPolicyRevision } from '../../store/policy-store.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';
import { renderTable } from '../table.js';
import { parsePositiveInteger } from './findings.js';

const ACTOR = `cli:${process.env.USER ?? 'unknown'}`;
const STATES: readonly IncidentState[] = ['open', 'closed'];
/** Timeline entries `show` prints; `--json` and `timeline` have them all. */
const TIMELINE_TAIL = 20;

const staleOption = ['--stale-after <seconds>', 'a host not seen for this long counts as unknown (and blocks closing)', parsePositiveInteger, 3600] as const;

/** The emergency settings of the applied policy; the policy file's defaults without one. */
async function emergencyOf(database: Database): Promise<EmergencySettings> {
  const revision = await latestPolicyRevision(database.pool);
  return revision ? parsePolicy(revision.text, `policy revision ${revision.revision}`).emergency : DEFAULT_EMERGENCY;
}

function incidentId(text: string): number {
  if (!/^(INC-)?[1-9][0-9]{0,9}$/i.test(text)) throw new InputError(`not an incident id: ${JSON.stringify(text)}`, { field: 'ID' }, 'give the number (or INC-number) fleetpatch incident list shows');
  const id = Number(text.replace(/^INC-/i, ''));
  if (id > 2_147_483_647) throw new InputError(`not an incident id: ${text}`, { field: 'ID' });
  return id;
}

function reasonOf(text: string | undefined, field: string): string {
  if (text === undefined || text.trim() === '') throw new InputError('a reason is required', { field }, 'say why: it is kept in the timeline and the audit log');
  return text;
}

export function registerIncidentCommand(program: Command): void {
  const incident = program.command('incident').description('Incidents: the emergency path for an advisory that meets the policy\'s emergency triggers (or one declared by hand).');
  incident
    .command('list')
    .description('Incidents, newest first, with their live scope counted.')
    .option('--state <state>', `only this state: ${STATES.join(', ')}`)
    .option('--limit <n>', 'at most this many incidents', parsePositiveInteger, 100)
    .option(...staleOption)
    .option('--json', 'print a JSON array')
    .action(async (options: { state?: string; limit: number; staleAfter: number; json?: boolean }) => {
      if (options.state !== undefined && !STATES.includes(options.state as IncidentState)) throw new InputError(`unknown state: ${options.state}`, { field: '--state' }, `use one of ${STATES.join(', ')}`);
      const rows = await withDatabase(createProgress(!options.json), async (database) => {
        const incidents = await listIncidents(database.pool, { ...(options.state ? { state: options.state as IncidentState } : {}), limit: options.limit });
        const scoped: Array<StoredIncident & { label: string; scope: { total: ScopeCounts; closable: boolean } }> = [];
        for (const stored of incidents) {
          const { scope } = await incidentScope(database.pool, stored, { now: new Date(), staleAfterMs: options.staleAfter * 1000 });
          scoped.push({ ...stored, label: incidentLabel(stored.id), scope: { total: scope.total, closable: scope.closable } });
        }
        return scoped;
      });
      if (options.json) return print(rows);
      process.stdout.write(rows.length === 0 ? 'no incidents\n' : renderTable(rows, [
        { header: 'ID', value: (row) => row.label },
        { header: 'STATE', value: (row) => row.state },
        { header: 'TITLE', value: (row) => row.title, maxWidth: 48 },
        { header: 'SCOPE', value: (row) => countsText(row.scope.total), maxWidth: 80 },
        { header: 'OPENED (UTC)', value: (row) => utc(row.openedAt) },
        { header: 'BY', value: (row) => row.openedBy, maxWidth: 32 },
      ]));
    });
  incident
    .command('show')
    .description('One incident: its live scope per bucket and team, what blocks closing, the durations, the timeline and the updates.')
    .argument('<ID>', 'the incident (12 or INC-12)')
    .option(...staleOption)
    .option('--json', 'print JSON')
    .action(async (idText: string, options: { staleAfter: number; json?: boolean }) => {
      const id = incidentId(idText);
      const detail = await withDatabase(createProgress(!options.json), async (database) => incidentDetail(database.pool, id, { now: new Date(), staleAfterMs: options.staleAfter * 1000, emergency: await emergencyOf(database) }));
      if (options.json) {
        const timeline = timelineToJson({ incident: { id: detail.label, title: detail.incident.title }, events: detail.events, durations: detail.durations });
        return print({ ...detail, events: timeline.events, durations: timeline.durations });
      }
      process.stdout.write(formatDetail(detail));
    });
  incident
    .command('open')
    .description('Declare an incident for a stored advisory (id or CVE), whatever the emergency triggers say (audited).')
    .requiredOption('--advisory <id>', 'the advisory or CVE')
    .option('--reason <text>', 'why (kept in the timeline and the audit log; required)')
    .option('--commander <name>', 'the incident commander')
    .option('--json', 'print JSON')
    .action(async (options: { advisory: string; reason?: string; commander?: string; json?: boolean }) => {
      const reason = reasonOf(options.reason, '--reason');
      const id = await withDatabase(createProgress(!options.json), async (database) =>
        openIncident(database.pool, { advisory: options.advisory, reason, actor: ACTOR, now: new Date(), emergency: await emergencyOf(database), ...(options.commander ? { commander: options.commander } : {}) }));
      if (options.json) return print({ id, label: incidentLabel(id) });
      process.stdout.write(`opened ${incidentLabel(id)} for ${options.advisory}\n`);
    });
  incident
    .command('close')
    .description('Close an incident: only when every host in scope is patched and live, or excluded with a reason (audited).')
    .argument('<ID>', 'the incident (12 or INC-12)')
    .option('--reason <text>', 'why (kept in the timeline and the audit log; required)')
    .option(...staleOption)
    .option('--json', 'print JSON')
    .action(async (idText: string, options: { reason?: string; staleAfter: number; json?: boolean }) => {
      const id = incidentId(idText);
      const reason = reasonOf(options.reason, '--reason');
      const closed = await withDatabase(createProgress(!options.json), (database) => closeIncident(database.pool, { id, actor: ACTOR, reason, now: new Date(), staleAfterMs: options.staleAfter * 1000 }));
      if (options.json) return print(closed);
      process.stdout.write(`closed ${incidentLabel(id)}\n`);
    });
  incident
    .command('timeline')
    .description('The incident\'s timeline for the postmortem, with time to detect, to patched and to live.')
    .argument('<ID>', 'the incident (12 or INC-12)')
    .option('--markdown', 'print Markdown (the default)')
    .option('--json', 'print JSON (ISO timestamps)')
    .option(...staleOption)
    .action(async (idText: string, options: { markdown?: boolean; json?: boolean; staleAfter: number }) => {
      if (options.markdown && options.json) throw new InputError('give --markdown or --json, not both', { field: '--json' });
      const id = incidentId(idText);
      const timeline = await withDatabase(createProgress(false), async (database) => incidentTimeline(database.pool, id, { now: new Date(), staleAfterMs: options.staleAfter * 1000, emergency: await emergencyOf(database) }));
      if (options.json) return print(timelineToJson(timeline));
      process.stdout.write(timelineToMarkdown(timeline));
    });
}

function formatDetail(detail: IncidentDetail): string {
  const { incident, scope, durations } = detail;
  const lines = [`${detail.label}: ${incident.title}`, `state: ${incident.state}; opened ${utc(incident.openedAt)} by ${incident.openedBy}: ${incident.triggerReason}`];
  if (incident.closedAt) lines.push(`closed ${utc(incident.closedAt)} by ${incident.closedBy ?? ''}: ${incident.closeReason ?? ''}`);
  if (incident.commander) lines.push(`commander: ${incident.commander}`);
  lines.push(`advisories: ${incident.advisories.join(', ')}; status every ${formatPolicyDuration(incident.statusEveryMs)}`, '', `scope: ${countsText(scope.total)}`, '');
  const counts = (key: keyof ScopeCounts) => (row: { counts: ScopeCounts }) => String(row.counts[key]);
  const countColumns = [
    { header: 'HOSTS', value: counts('hosts'), align: 'right' as const },
    { header: 'VULNERABLE', value: counts('vulnerable'), align: 'right' as const },
    { header: 'PENDING REBOOT', value: counts('pendingReboot'), align: 'right' as const },
    { header: 'LIVE', value: counts('live'), align: 'right' as const },
    { header: 'EXCLUDED', value: counts('excluded'), align: 'right' as const },
    { header: 'UNKNOWN', value: counts('unknown'), align: 'right' as const },
  ];
  if (scope.byBucket.length > 0) {
    lines.push(renderTable(scope.byBucket, [{ header: 'BUCKET', value: (row) => row.bucket, maxWidth: 32 }, ...countColumns]).trimEnd(), '');
    lines.push(renderTable(scope.byTeam, [{ header: 'TEAM', value: (row) => row.team, maxWidth: 32 }, ...countColumns]).trimEnd(), '');
  }
  lines.push(scope.closable ? 'may close: every host in scope is live or excluded' : `cannot close yet: ${scope.closeBlockers.map((blocker) => blocker.text).join('; ')}`);
  const duration = (milliseconds: number | undefined, missing: string) => (milliseconds === undefined ? missing : formatPolicyDuration(milliseconds));
  lines.push(`time to detect ${duration(durations.timeToDetectMs, 'unknown')}, to patched ${duration(durations.timeToPatchedMs, 'not yet')}, to live ${duration(durations.timeToLiveMs, 'not yet')}`, '');
  const events = detail.events.slice(-TIMELINE_TAIL);
  lines.push(`timeline (${detail.events.length === events.length ? 'all' : `last ${events.length} of ${detail.events.length}`}; fleetpatch incident timeline ${incident.id} has every event):`);
  for (const event of events) lines.push(`  ${utc(event.at)}  ${event.kind}`);
  lines.push('', detail.updates.length === 0 ? 'no status updates yet' : `status updates: ${detail.updates.length}, the last ${utc(detail.updates.at(-1)!.postedAt)} by ${detail.updates.at(-1)!.author}`);
  return `${lines.join('\n')}\n`;
}

function countsText(counts: ScopeCounts): string {
  return `${counts.hosts} hosts: ${counts.vulnerable} vulnerable, ${counts.pendingReboot} pending reboot, ${counts.live} live, ${counts.excluded} excluded, ${counts.unknown} unknown`;
}

function utc(date: Date): string {
  return date.toISOString().slice(0, 16).replace('T', ' ');
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
