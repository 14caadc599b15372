/**
 * Validates raw OSV records (schema 1.6, JSON or YAML-decoded) and converts them into the
 * `Advisory` model. Problems name the file and the JSON path (`affected[0].ranges[1].events[0]`).
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { Severity } from '../types.js';
import { SEVERITY_ORDER } from '../types.js';
import type { Advisory, AffectedRange, CvssScore, RangeEvent } from './advisory.js';
import { dateTimeProblem, instantProblem, printableText, textProblem, wellFormedString } from '../well-formed-text.js';
import { cvssMajorVersion, scoreCvssVector, severityOfScore } from './cvss.js';
import { jsonPath } from './json-path.js';

// YAML 1.1 loaders may already have turned timestamps into Date objects; accept those as well. Both
// forms are held to years 1..9999, which PostgreSQL stores (a year 0 was an internal error).
const timestamp = z.unknown().transform((value, context) => {
  const problem = value instanceof Date ? instantProblem(value) : typeof value === 'string' ? dateTimeProblem(value) : value === undefined ? 'required' : `not an RFC 3339 timestamp: ${JSON.stringify(value)}`;
  if (problem !== undefined) {
    context.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return value instanceof Date ? value : new Date(value as string);
});

/** Identifiers, names, versions, URLs: one line of well-formed text. */
const text = wellFormedString();

/** A JSON path kept as a chain to the parent, so walking deep values copies nothing. */
interface PathLink {
  segment: PropertyKey;
  parent: PathLink | undefined;
}

function pathOf(link: PathLink | undefined): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at = link; at !== undefined; at = at.parent) path.push(at.segment);
  return path.reverse();
}

/**
 * The free-form `database_specific` / `ecosystem_specific` objects: any JSON, but every key and
 * string in it is well-formed text (strings may span lines). Walked with a stack, not recursion, so
 * a deeply nested value cannot overflow the call stack.
 */
const specific = z
  .record(z.string(), z.unknown())
  .superRefine((value, context) => {
    const pending: Array<{ value: unknown; link: PathLink | undefined }> = [{ value, link: undefined }];
    while (pending.length > 0) {
      const { value: current, link } = pending.pop()!;
      if (typeof current === 'string') {
        const problem = textProblem(current, true);
        if (problem !== undefined) context.addIssue({ code: 'custom', path: pathOf(link), message: problem });
      } else if (Array.isArray(current)) {
        current.forEach((item, index) => pending.push({ value: item, link: { segment: index, parent: link } }));
      } else if (typeof current === 'object' && current !== null) {
        for (const [key, item] of Object.entries(current)) {
          const child = { segment: key, parent: link };
          const problem = textProblem(key);
          if (problem !== undefined) context.addIssue({ code: 'custom', path: pathOf(child), message: `key ${problem}` });
          pending.push({ value: item, link: child });
        }
      }
    }
  })
  .nullish();

const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

// Checked by hand rather than as a zod record: ranges hold most of a record's values, and this is
// the hot path of an import (71,329 AlmaLinux affected entries).
const rangeEvent = z.unknown().transform((event, context): RangeEvent => {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    context.addIssue({ code: 'custom', message: `an event is an object with one of ${EVENT_KEYS.join(', ')}` });
    return z.NEVER;
  }
  const keys = Object.keys(event);
  if (keys.length !== 1 || !(EVENT_KEYS as readonly string[]).includes(keys[0]!)) {
    context.addIssue({ code: 'custom', message: `an event has exactly one of ${EVENT_KEYS.join(', ')}; found ${keys.join(', ') || 'none'}` });
    return z.NEVER;
  }
  const key = keys[0] as (typeof EVENT_KEYS)[number];
  const value = (event as Record<string, unknown>)[key];
  if (typeof value !== 'string' || value === '') {
    context.addIssue({ code: 'custom', message: `${key} must be a non-empty version string` });
    return z.NEVER;
  }
  const problem = textProblem(value);
  if (problem !== undefined) {
    context.addIssue({ code: 'custom', path: [key], message: problem });
    return z.NEVER;
  }
  return { [key]: value } as RangeEvent;
});

const osvRange = z
  .object({ type: z.enum(['ECOSYSTEM', 'SEMVER', 'GIT']), repo: text.nullish(), events: z.array(rangeEvent).min(1), database_specific: specific })
  .superRefine((range, context) => {
    // The three rules the OSV JSON schema states beyond field types.
    if (range.type === 'GIT' && !range.repo) context.addIssue({ code: 'custom', path: ['repo'], message: 'a GIT range needs the repository URL in repo' });
    if (!range.events.some((event) => 'introduced' in event)) context.addIssue({ code: 'custom', path: ['events'], message: 'a range needs an introduced event' });
    if (range.events.some((event) => 'fixed' in event) && range.events.some((event) => 'last_affected' in event)) {
      context.addIssue({ code: 'custom', path: ['events'], message: 'a range has either fixed or last_affected events, not both' });
    }
  });

// `type` stays a free string: a severity type newer than this code is ignored, not a reason to refuse the record.
const severityEntry = z.object({ type: wellFormedString({ min: 1 }), score: text });

export const osvRecordSchema = z.object({
  schema_version: text.optional(),
  id: wellFormedString({ min: 1 }),
  modified: timestamp,
  published: timestamp.optional(),
  withdrawn: timestamp.optional(),
  aliases: z.array(text).nullish(),
  related: z.array(text).nullish(),
  summary: wellFormedString({ multiline: true }).nullish(),
  details: wellFormedString({ multiline: true }).nullish(),
  severity: z.array(severityEntry).nullish(),
  affected: z
    .array(
      z.object({
        package: z.object({ ecosystem: wellFormedString({ min: 1 }), name: wellFormedString({ min: 1 }), purl: text.nullish() }).optional(),
        severity: z.array(severityEntry).nullish(),
        ranges: z.array(osvRange).nullish(),
        versions: z.array(text).nullish(),
        ecosystem_specific: specific,
        database_specific: specific,
      }),
    )
    .nullish(),
  references: z.array(z.object({ type: text, url: text })).nullish(),
  database_specific: specific,
});

type OsvRecord = z.infer<typeof osvRecordSchema>;

/**
 * The outcome of reading one record: an advisory (with warnings about parts that were ignored, such
 * as an unscorable CVSS vector) or every validation error found in it.
 */
export type OsvReading = { advisory: Advisory; warnings: InputError[] } | { errors: InputError[] };

/** Severity words used by Red Hat-family errata, GitHub (GHSA) and Ubuntu priorities, on fleetpatch's scale. */
const SEVERITY_WORDS: Record<string, Severity> = {
  critical: 'critical',
  important: 'high',
  high: 'high',
  moderate: 'medium',
  medium: 'medium',
  low: 'low',
  negligible: 'low',
  unimportant: 'low',
  none: 'none',
};

/** Red Hat-family errata (AlmaLinux, Rocky) put the severity word in front of the summary. */
const SUMMARY_SEVERITY_PREFIX = /^(Critical|Important|Moderate|Low|None):/;

/** At most this many problems are listed per record: a record broken everywhere needs one look, not a thousand lines. */
const MAX_ERRORS_PER_RECORD = 10;

/**
 * Validates a decoded OSV record and converts it. Never throws for bad input: every problem comes
 * back as an `InputError` naming `source.file` and the JSON path.
 *
 * @example readOsvRecord(JSON.parse(text), { file: 'ALSA-2024:1234.json' })
 */
export function readOsvRecord(raw: unknown, source: { file: string }): OsvReading {
  const result = osvRecordSchema.safeParse(raw);
  if (!result.success) {
    const rawId = typeof raw === 'object' && raw !== null ? (raw as { id?: unknown }).id : undefined;
    // An id that is itself bad text is shown escaped, so the message cannot carry a NUL or an escape sequence.
    const id = typeof rawId === 'string' ? ` (${textProblem(rawId) === undefined ? rawId : JSON.stringify(rawId)})` : '';
    const errors = result.error.issues.slice(0, MAX_ERRORS_PER_RECORD).map((issue) => {
      // A path into a value nested thousands deep is shortened to its ends.
      const fullField = jsonPath(issue.path);
      const field = fullField.length > 200 ? `${fullField.slice(0, 100)}…${fullField.slice(-100)}` : fullField;
      // Messages may quote the record (a key, a value); what is unprintable is escaped.
      return new InputError(`invalid OSV record${id}: ${printableText(issue.message)}`, { file: source.file, ...(field === '' ? {} : { field: printableText(field) }) });
    });
    return { errors };
  }
  const warnings: InputError[] = [];
  return { advisory: toAdvisory(result.data, source.file, warnings), warnings };
}

/**
 * Validates and converts one record, throwing its first problem. Use `readOsvRecord` to collect them all.
 *
 * @example advisoryFromOsv(JSON.parse(text), { file: 'ALSA-2024:1234.json' }).severity // 'high'
 */
export function advisoryFromOsv(raw: unknown, source: { file: string }): Advisory {
  const reading = readOsvRecord(raw, source);
  if ('errors' in reading) throw reading.errors[0]!;
  return reading.advisory;
}

function toAdvisory(record: OsvRecord, file: string, warnings: InputError[]): Advisory {
  const scored: Array<{ entries: OsvRecord['severity']; path: string }> = [
    { entries: record.severity, path: 'severity' },
    ...(record.affected ?? []).map((entry, index) => ({ entries: entry.severity, path: `affected[${index}].severity` })),
  ];
  const cvss: CvssScore[] = [];
  const severityWords: string[] = [];
  for (const { entries, path } of scored) {
    (entries ?? []).forEach((entry, index) => {
      const field = `${path}[${index}].score`;
      if (entry.type === 'Ubuntu') severityWords.push(entry.score);
      else if (entry.type === 'CVSS_V2') cvss.push({ type: 'CVSS_V2', vector: entry.score });
      else if (entry.type === 'CVSS_V3' || entry.type === 'CVSS_V4') cvss.push(scoreVector(entry.type, entry.score, { file, field }, warnings));
    });
  }
  const aliases = [...new Set(record.aliases ?? [])];
  const advisory: Advisory = {
    id: record.id,
    aliases: [...aliases.filter(isCveId), ...aliases.filter((alias) => !isCveId(alias))],
    related: [...new Set(record.related ?? [])],
    modified: record.modified,
    severity: worstSeverity(record, cvss, severityWords),
    cvss,
    affected: (record.affected ?? []).flatMap((entry) =>
      entry.package === undefined
        ? []
        : [
            {
              ecosystem: entry.package.ecosystem,
              name: entry.package.name,
              ranges: (entry.ranges ?? []).map((range): AffectedRange => ({ type: range.type, events: range.events })),
              versions: entry.versions ?? [],
            },
          ],
    ),
    references: (record.references ?? []).map((reference) => reference.url),
  };
  if (record.published) advisory.published = record.published;
  if (record.withdrawn) advisory.withdrawn = record.withdrawn;
  const summary = record.summary ?? record.details?.split('\n')[0];
  if (summary) advisory.summary = summary;
  return advisory;
}

function isCveId(id: string): boolean {
  return id.startsWith('CVE-');
}

/**
 * A vector that cannot be scored keeps the record (losing a whole advisory over one bad score would
 * hide a fix) but is reported as a warning and contributes no severity.
 */
function scoreVector(type: 'CVSS_V3' | 'CVSS_V4', vector: string, where: { file: string; field: string }, warnings: InputError[]): CvssScore {
  const declared = type === 'CVSS_V3' ? 3 : 4;
  if (cvssMajorVersion(vector) !== declared) {
    warnings.push(new InputError(`${type} severity holds a vector of another version: ${JSON.stringify(vector)}; not scored`, where));
    return { type, vector };
  }
  const result = scoreCvssVector(vector);
  if ('baseScore' in result) return { type, vector, baseScore: result.baseScore };
  warnings.push(new InputError(`${result.problem}; not scored`, where));
  return { type, vector };
}

/** The worst of: each CVSS score's band, the summary prefix ("Important: …"), and the ecosystem's severity words. */
function worstSeverity(record: OsvRecord, cvss: CvssScore[], severityWords: string[]): Severity {
  const candidates: Severity[] = cvss.flatMap((score) => (score.baseScore === undefined ? [] : [severityOfScore(score.baseScore)]));
  const prefix = SUMMARY_SEVERITY_PREFIX.exec(record.summary ?? '')?.[1];
  const specificWords = [record.database_specific, ...(record.affected ?? []).flatMap((entry) => [entry.database_specific, entry.ecosystem_specific])]
    .map((specificFields) => specificFields?.severity)
    .filter((word): word is string => typeof word === 'string');
  for (const word of [...(prefix ? [prefix] : []), ...severityWords, ...specificWords]) {
    const severity = SEVERITY_WORDS[word.trim().toLowerCase()];
    if (severity) candidates.push(severity);
  }
  if (candidates.length === 0) return 'unknown';
  return candidates.reduce((worst, candidate) => (SEVERITY_ORDER.indexOf(candidate) < SEVERITY_ORDER.indexOf(worst) ? candidate : worst));
}
