/**
 * Validates raw OSV records (schema 1.6, JSON or YAML-decoded) and converts them into the
 * `Advisory` model. Problems name the file and the JSON path (`affected[0].ranges[1].events[0]`).
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { Severity } from '../types.js';
import { SEVERITY_ORDER } from '../types.js';
import type { Advisory, AffectedRange, CvssScore, RangeEvent } from './advisory.js';
import { cvssBaseScore, severityOfScore } from './cvss.js';

const timestamp = z.union([z.string(), z.date()]).transform((value, context) => {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) {
    context.addIssue({ code: 'custom', message: `not an RFC 3339 timestamp: ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return date;
});

const eventKeys = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

const rangeEvent = z.record(z.string(), z.unknown()).transform((event, context): RangeEvent => {
  const keys = Object.keys(event);
  if (keys.length !== 1 || !(eventKeys as readonly string[]).includes(keys[0]!)) {
    context.addIssue({ code: 'custom', message: `an event has exactly one of ${eventKeys.join(', ')}; found ${keys.join(', ') || 'none'}` });
    return z.NEVER;
  }
  const key = keys[0] as (typeof eventKeys)[number];
  const value = event[key];
  if (typeof value !== 'string' || value === '') {
    context.addIssue({ code: 'custom', message: `${key} must be a non-empty version string` });
    return z.NEVER;
  }
  return { [key]: value } as RangeEvent;
});

const severityEntry = z.object({ type: z.string(), score: z.string() });

const osvSchema = z.object({
  schema_version: z.string().optional(),
  id: z.string().min(1),
  modified: timestamp,
  published: timestamp.optional(),
  withdrawn: timestamp.optional(),
  aliases: z.array(z.string()).nullish(),
  related: z.array(z.string()).nullish(),
  summary: z.string().nullish(),
  details: z.string().nullish(),
  severity: z.array(severityEntry).nullish(),
  affected: z
    .array(
      z.object({
        package: z.object({ ecosystem: z.string().min(1), name: z.string().min(1), purl: z.string().nullish() }).optional(),
        severity: z.array(severityEntry).nullish(),
        ranges: z
          .array(z.object({ type: z.enum(['ECOSYSTEM', 'SEMVER', 'GIT']), repo: z.string().nullish(), events: z.array(rangeEvent).min(1) }))
          .nullish(),
        versions: z.array(z.string()).nullish(),
        ecosystem_specific: z.record(z.string(), z.unknown()).nullish(),
        database_specific: z.record(z.string(), z.unknown()).nullish(),
      }),
    )
    .nullish(),
  references: z.array(z.object({ type: z.string(), url: z.string() })).nullish(),
  database_specific: z.record(z.string(), z.unknown()).nullish(),
});

type OsvRecord = z.infer<typeof osvSchema>;

/** Severity words used by distributions and GitHub, mapped onto fleetpatch's scale. */
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

/**
 * @example advisoryFromOsv(JSON.parse(text), { file: 'ALSA-2024:1234.json' })
 */
export function advisoryFromOsv(raw: unknown, source: { file: string }): Advisory {
  const result = osvSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.reduce<string>(
      (path, segment) => (typeof segment === 'number' ? `${path}[${segment}]` : path === '' ? String(segment) : `${path}.${String(segment)}`),
      '',
    );
    const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? ` (${(raw as { id: string }).id})` : '';
    throw new InputError(`invalid OSV record${id}: ${issue.message}`, { file: source.file, ...(field === '' ? {} : { field }) });
  }
  return toAdvisory(result.data, source.file);
}

function toAdvisory(record: OsvRecord, file: string): Advisory {
  const cvss = [...(record.severity ?? []), ...(record.affected ?? []).flatMap((entry) => entry.severity ?? [])]
    .filter((entry) => entry.type.startsWith('CVSS_'))
    .map((entry, index): CvssScore => {
      const type = entry.type as CvssScore['type'];
      if (type === 'CVSS_V2') return { type, vector: entry.score };
      return { type, vector: entry.score, baseScore: cvssBaseScore(entry.score, { file, field: `severity[${index}].score` }) };
    });
  const aliases = [...new Set(record.aliases ?? [])].sort((a, b) => Number(b.startsWith('CVE-')) - Number(a.startsWith('CVE-')));
  const advisory: Advisory = {
    id: record.id,
    aliases,
    related: [...new Set(record.related ?? [])],
    modified: record.modified,
    severity: worstSeverity(record, cvss),
    cvss,
    affected: (record.affected ?? [])
      .filter((entry) => entry.package !== undefined)
      .map((entry) => ({
        ecosystem: entry.package!.ecosystem,
        name: entry.package!.name,
        ranges: (entry.ranges ?? []).map((range): AffectedRange => ({ type: range.type, events: range.events })),
        versions: entry.versions ?? [],
      })),
    references: (record.references ?? []).map((reference) => reference.url),
  };
  if (record.published) advisory.published = record.published;
  if (record.withdrawn) advisory.withdrawn = record.withdrawn;
  const summary = record.summary ?? record.details?.split('\n')[0];
  if (summary) advisory.summary = summary;
  return advisory;
}

/** The worst of: each CVSS score's band, the summary prefix ("Important: …"), severity words in database_specific. */
function worstSeverity(record: OsvRecord, cvss: CvssScore[]): Severity {
  const candidates: Severity[] = cvss.flatMap((score) => (score.baseScore === undefined ? [] : [severityOfScore(score.baseScore)]));
  const prefix = /^(Critical|Important|Moderate|Low):/.exec(record.summary ?? '')?.[1];
  if (prefix) candidates.push(SEVERITY_WORDS[prefix.toLowerCase()]!);
  const words = [record.database_specific, ...(record.affected ?? []).flatMap((entry) => [entry.database_specific, entry.ecosystem_specific])]
    .map((specific) => specific?.severity)
    .filter((word): word is string => typeof word === 'string');
  for (const word of words) {
    const severity = SEVERITY_WORDS[word.toLowerCase()];
    if (severity) candidates.push(severity);
  }
  if (candidates.length === 0) return 'unknown';
  return candidates.reduce((worst, candidate) => (SEVERITY_ORDER.indexOf(candidate) < SEVERITY_ORDER.indexOf(worst) ? candidate : worst));
}
