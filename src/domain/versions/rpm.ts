/**
 * RPM version ordering, as rpm's `rpmvercmp` and `rpmVersionCompare` do it: EVR compared part by
 * part; within a part, alternating runs of digits and letters, other characters only separate,
 * `~` sorts before everything (pre-releases) and `^` after the end but before anything else
 * (post-release snapshots).
 */
import type { Ordering, VersionComparator } from './comparator.js';

export interface RpmEvr {
  /** Undefined when the string carried no epoch. */
  epoch?: string;
  version: string;
  /** Undefined when the string carried no release. */
  release?: string;
}

/**
 * Splits `[epoch:]version[-release]` the way rpm's `rpmverParse` does: the epoch is the leading
 * digits when a colon follows them (an empty epoch is 0), the release what follows the last hyphen.
 *
 * @example parseEvr('1:2.3-4.el9') // { epoch: '1', version: '2.3', release: '4.el9' }
 */
export function parseEvr(evr: string): RpmEvr {
  let digits = 0;
  while (digits < evr.length && isDigit(evr.charCodeAt(digits))) digits++;
  const hasEpoch = evr.charCodeAt(digits) === 58; // ':'
  const rest = hasEpoch ? evr.slice(digits + 1) : evr;
  const hyphen = rest.lastIndexOf('-');
  const parsed: RpmEvr = hyphen === -1 ? { version: rest } : { version: rest.slice(0, hyphen), release: rest.slice(hyphen + 1) };
  if (hasEpoch) parsed.epoch = digits === 0 ? '0' : evr.slice(0, digits);
  return parsed;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isAlpha(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

function isAlnum(code: number): boolean {
  return isDigit(code) || isAlpha(code);
}

const TILDE = 126;
const CARET = 94;

/**
 * rpm's `rpmvercmp` on one part (version or release).
 *
 * @example rpmvercmp('1.0~rc1', '1.0') // -1
 * @example rpmvercmp('1.0^git1', '1.0') // 1
 */
export function rpmvercmp(a: string, b: string): Ordering {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a.charCodeAt(i)) && a.charCodeAt(i) !== TILDE && a.charCodeAt(i) !== CARET) i++;
    while (j < b.length && !isAlnum(b.charCodeAt(j)) && b.charCodeAt(j) !== TILDE && b.charCodeAt(j) !== CARET) j++;

    const aTilde = i < a.length && a.charCodeAt(i) === TILDE;
    const bTilde = j < b.length && b.charCodeAt(j) === TILDE;
    if (aTilde || bTilde) {
      if (!aTilde) return 1;
      if (!bTilde) return -1;
      i++;
      j++;
      continue;
    }

    const aCaret = i < a.length && a.charCodeAt(i) === CARET;
    const bCaret = j < b.length && b.charCodeAt(j) === CARET;
    if (aCaret || bCaret) {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (!aCaret) return 1;
      if (!bCaret) return -1;
      i++;
      j++;
      continue;
    }

    if (!(i < a.length && j < b.length)) break;

    const startA = i;
    const startB = j;
    const numeric = isDigit(a.charCodeAt(i));
    const inSegment = numeric ? isDigit : isAlpha;
    while (i < a.length && inSegment(a.charCodeAt(i))) i++;
    while (j < b.length && inSegment(b.charCodeAt(j))) j++;

    // A segment of the other kind on one side: numeric beats alphabetic.
    if (j === startB) return numeric ? 1 : -1;

    let segmentA = a.slice(startA, i);
    let segmentB = b.slice(startB, j);
    if (numeric) {
      segmentA = segmentA.replace(/^0+/, '');
      segmentB = segmentB.replace(/^0+/, '');
      if (segmentA.length !== segmentB.length) return segmentA.length > segmentB.length ? 1 : -1;
    }
    if (segmentA !== segmentB) return segmentA < segmentB ? -1 : 1;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/**
 * Full EVR comparison, as `rpm.vercmp()` in rpm 4.18: a missing epoch counts as 0, and a missing
 * release sorts before any release, even an empty one (`1.0` < `1.0-0`).
 *
 * @example compareEvr('1:1.0-1', '2.0-1') // 1
 */
export function compareEvr(a: string, b: string): Ordering {
  if (a === b) return 0;
  const left = parseEvr(a);
  const right = parseEvr(b);
  const epoch = rpmvercmp(left.epoch ?? '0', right.epoch ?? '0');
  if (epoch !== 0) return epoch;
  const version = rpmvercmp(left.version, right.version);
  if (version !== 0) return version;
  if (left.release === undefined || right.release === undefined) {
    return left.release === right.release ? 0 : left.release === undefined ? -1 : 1;
  }
  return rpmvercmp(left.release, right.release);
}

export const rpmComparator: VersionComparator = {
  scheme: 'rpm',
  compare: compareEvr,
  /** rpm accepts any non-empty EVR without whitespace. */
  isValid(version) {
    return version !== '' && !/\s/.test(version);
  },
};
