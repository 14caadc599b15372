/**
 * Decides whether one version falls inside one OSV `affected[]` entry, with the OSV schema's
 * semantics: events sorted by version with `introduced: "0"` first, `fixed` exclusive,
 * `last_affected` inclusive, `limit` capping the range, and `versions[]` listing exact versions.
 */
import type { AffectedPackage, AffectedRange, RangeEvent } from '../advisories/advisory.js';

/** Compares the installed version with a version written in an advisory. */
export type CompareInstalled = (advisoryVersion: string) => number;

/** Compares two advisory versions with each other (for sorting events). */
export type CompareVersions = (a: string, b: string) => number;

export interface AffectedVerdict {
  affected: boolean;
  /** The `fixed` version that ends the affected interval, when the advisory names one. */
  fixedVersion?: string;
}

const NOT_AFFECTED: AffectedVerdict = { affected: false };

/** Order of events that share a version: an interval opened and closed at v does not include v. */
const EVENT_TIE_ORDER = { introduced: 0, last_affected: 1, fixed: 2, limit: 3 } as const;

type EventKind = keyof typeof EVENT_TIE_ORDER;

interface FlatEvent {
  kind: EventKind;
  version: string;
}

function flatten(event: RangeEvent): FlatEvent {
  if ('introduced' in event) return { kind: 'introduced', version: event.introduced };
  if ('fixed' in event) return { kind: 'fixed', version: event.fixed };
  if ('last_affected' in event) return { kind: 'last_affected', version: event.last_affected };
  return { kind: 'limit', version: event.limit };
}

function isZero(event: FlatEvent): boolean {
  return event.kind === 'introduced' && event.version === '0';
}

function sortEvents(events: RangeEvent[], compareVersions: CompareVersions): FlatEvent[] {
  return events.map(flatten).sort((a, b) => {
    if (isZero(a) !== isZero(b)) return isZero(a) ? -1 : 1;
    const byVersion = isZero(a) ? 0 : compareVersions(a.version, b.version);
    return byVersion !== 0 ? byVersion : EVENT_TIE_ORDER[a.kind] - EVENT_TIE_ORDER[b.kind];
  });
}

/**
 * Evaluates one range. Walks the sorted events and keeps the state of the last event at or below
 * the installed version; the first `fixed` above it is the fix to report.
 */
export function evaluateRange(
  range: AffectedRange,
  compareInstalled: CompareInstalled,
  compareVersions: CompareVersions,
): AffectedVerdict {
  const events = sortEvents(range.events, compareVersions);
  const limits = events.filter((event) => event.kind === 'limit');
  // A limit caps the whole range: at or above every limit nothing is affected.
  if (limits.length > 0 && limits.every((limit) => compareInstalled(limit.version) >= 0)) return NOT_AFFECTED;

  let affected = false;
  let index = 0;
  for (; index < events.length; index++) {
    const event = events[index]!;
    if (event.kind === 'limit') continue;
    if (isZero(event)) {
      affected = true;
      continue;
    }
    const order = compareInstalled(event.version);
    if (event.kind === 'introduced') {
      if (order < 0) break;
      affected = true;
    } else if (event.kind === 'fixed') {
      if (order < 0) break;
      affected = false;
    } else {
      // last_affected is inclusive: only a version above it leaves the interval.
      if (order <= 0) break;
      affected = false;
    }
  }
  if (!affected) return NOT_AFFECTED;
  const closing = events.slice(index).find((event) => event.kind === 'fixed' || event.kind === 'last_affected');
  return closing?.kind === 'fixed' ? { affected: true, fixedVersion: closing.version } : { affected: true };
}

/**
 * Evaluates a whole `affected[]` entry: any listed exact version, or any ECOSYSTEM/SEMVER range.
 * GIT ranges describe commits, not package versions, and are skipped without giving up on the
 * entry's other ranges and versions.
 */
export function evaluateAffected(
  affected: AffectedPackage,
  installedVersion: string,
  compareInstalled: CompareInstalled,
  compareVersions: CompareVersions,
): AffectedVerdict {
  if (affected.versions.some((listed) => listed === installedVersion || compareInstalled(listed) === 0)) {
    const fixed = affected.ranges
      .filter((range) => range.type !== 'GIT')
      .map((range) => evaluateRange(range, compareInstalled, compareVersions).fixedVersion)
      .find((version) => version !== undefined);
    return fixed === undefined ? { affected: true } : { affected: true, fixedVersion: fixed };
  }
  let verdict = NOT_AFFECTED;
  for (const range of affected.ranges) {
    if (range.type === 'GIT') continue;
    const rangeVerdict = evaluateRange(range, compareInstalled, compareVersions);
    if (rangeVerdict.affected && (!verdict.affected || verdict.fixedVersion === undefined)) verdict = rangeVerdict;
  }
  return verdict;
}
