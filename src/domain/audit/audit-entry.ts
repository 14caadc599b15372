/**
 * One audit log entry: who (actor) did what (action) to what (subject), when (at), why (reason),
 * with the particulars (details). Its canonical JSON is the exact text the log hashes and stores.
 */
import { z } from 'zod';
import { canonicalJson, type JsonValue } from './canonical-json.js';

/** The entry format; bumped only if a field's meaning changes (old entries keep their version). */
export const AUDIT_ENTRY_VERSION = 1;

/**
 * What a state change records. `actor` is `<kind>:<name>` as the access layer names principals:
 * `token:<token name>`, `host:<host name>`, `cli:<login>`, `system:<what>`. `subject` is
 * `<kind>:<id>`, e.g. `api-token:12`, `host:db-7`, `risk-acceptance:3`. Actions are dotted, noun
 * first: `api-token.created`, `host.retired`.
 */
export interface AuditEvent {
  action: string;
  actor: string;
  subject: string;
  reason?: string;
  details?: Record<string, JsonValue>;
}

/** An event as the log holds it: its position (1-based) and the database's time of recording. */
export interface AuditEntry extends AuditEvent {
  v: typeof AUDIT_ENTRY_VERSION;
  seq: number;
  /** ISO 8601 UTC with milliseconds, e.g. 2027-01-31T09:00:00.000Z. */
  at: string;
}

const ACTION = /^[a-z][a-z0-9-]*(?:\.[a-z][a-z0-9-]*)+$/;
const NAMED = /^[a-z][a-z0-9-]*:.+$/s;

/** Rules for an event; the same schema re-reads stored entries, so old entries stay readable. */
export const auditEventSchema = z.strictObject({
  action: z.string().max(128).regex(ACTION, 'an action is dotted lower-case words, e.g. api-token.created'),
  actor: z.string().max(512).regex(NAMED, 'an actor is <kind>:<name>, e.g. cli:alice'),
  subject: z.string().max(1024).regex(NAMED, 'a subject is <kind>:<id>, e.g. host:db-7'),
  reason: z.string().max(4096).optional(),
  details: z.record(z.string(), z.json()).optional(),
});

const auditEntrySchema = auditEventSchema.extend({
  v: z.literal(AUDIT_ENTRY_VERSION),
  seq: z.number().int().positive(),
  at: z.iso.datetime({ precision: 3 }),
});

/**
 * The canonical JSON of an entry, checked against the schema first (a TypeError says what is wrong).
 *
 * @example auditEntryText({ v: 1, seq: 1, at: '2027-01-31T09:00:00.000Z', action: 'api-token.revoked', actor: 'cli:alice', subject: 'api-token:3' })
 *   // '{"action":"api-token.revoked","actor":"cli:alice","at":"2027-01-31T09:00:00.000Z","seq":1,"subject":"api-token:3","v":1}'
 */
export function auditEntryText(entry: AuditEntry): string {
  const checked = auditEntrySchema.safeParse(entry);
  if (!checked.success) throw new TypeError(`not a valid audit entry: ${describeIssues(checked.error)}`);
  return canonicalJson(entry as unknown as JsonValue);
}

/**
 * Reads a stored entry back: the entry, or why the text is not one (not JSON, not canonical, or not
 * the schema). Canonical means re-serialising gives the same text, so nothing was edited by hand.
 *
 * @example parseAuditEntry('{"seq":1}') // { problem: 'not a valid entry: …' }
 */
export function parseAuditEntry(text: string): { entry: AuditEntry } | { problem: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: 'its stored text is not JSON' };
  }
  const checked = auditEntrySchema.safeParse(parsed);
  if (!checked.success) return { problem: `its stored text is not a valid entry (${describeIssues(checked.error)})` };
  if (canonicalJson(parsed as JsonValue) !== text) return { problem: 'its stored text is not in canonical form (it was rewritten)' };
  return { entry: checked.data as AuditEntry };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : 'entry'}: ${issue.message}`).join('; ');
}
