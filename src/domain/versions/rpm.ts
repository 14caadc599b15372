/**
 * RPM version ordering exactly as rpm 4.18's `rpmvercmp` and `rpm.vercmp()` (rpmverCmp) do it:
 * `[epoch:]version[-release]` compared part by part; within a part, alternating runs of digits and
 * letters, every other character only separates, `~` sorts before everything (pre-releases) and
 * `^` after the end but before anything else (post-release snapshots).
 */
import { InputError } from '../errors.js';
import type { Ordering, VersionComparator } from './comparator.js';

export interface RpmEvr {
  /** Undefined when the string carried no epoch. */
  epoch?: string;
  version: string;
  /** Undefined when the string carried no release. */
  release?: string;
}

const TILDE = 126;
const CARET = 94;
const COLON = 58;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isAlpha(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** rpm's `risalnum` is ASCII-only: any other character (even a non-ASCII letter) separates. */
function isSeparator(code: number): boolean {
  return !isDigit(code) && !isAlpha(code) && code !== TILDE && code !== CARET;
}

/** Index of the colon ending a leading run of digits (rpm's epoch), or -1 when there is none. */
function epochColon(evr: string): number {
  let index = 0;
  while (index < evr.length && isDigit(evr.charCodeAt(index))) index++;
  return index < evr.length && evr.charCodeAt(index) === COLON ? index : -1;
}

/**
 * Splits `[epoch:]version[-release]` the way rpm's `parseEVR` does: the epoch is the leading
 * digits when a colon follows them (an empty epoch is 0), the release what follows the last hyphen.
 *
 * @example parseEvr('1:2.3-4.el9') // { epoch: '1', version: '2.3', release: '4.el9' }
 */
export function parseEvr(evr: string): RpmEvr {
  const colon = epochColon(evr);
  const hyphen = evr.lastIndexOf('-');
  const versionStart = colon + 1;
  const parsed: RpmEvr = { version: hyphen === -1 ? evr.slice(versionStart) : evr.slice(versionStart, hyphen) };
  if (hyphen !== -1) parsed.release = evr.slice(hyphen + 1);
  if (colon !== -1) parsed.epoch = colon === 0 ? '0' : evr.slice(0, colon);
  return parsed;
}

/** `rpmvercmp` on `a[aStart, aEnd)` and `b[bStart, bEnd)`, without copying either. */
function rpmvercmpRange(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): Ordering {
  let i = aStart;
  let j = bStart;
  while (i < aEnd || j < bEnd) {
    while (i < aEnd && isSeparator(a.charCodeAt(i))) i++;
    while (j < bEnd && isSeparator(b.charCodeAt(j))) j++;
    const aCode = i < aEnd ? a.charCodeAt(i) : 0;
    const bCode = j < bEnd ? b.charCodeAt(j) : 0;

    // `~` sorts before everything, even the end of the part.
    if (aCode === TILDE || bCode === TILDE) {
      if (aCode !== TILDE) return 1;
      if (bCode !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    // `^` sorts like `~`, except that the end of the part sorts before it.
    if (aCode === CARET || bCode === CARET) {
      if (i >= aEnd) return -1;
      if (j >= bEnd) return 1;
      if (aCode !== CARET) return 1;
      if (bCode !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (i >= aEnd || j >= bEnd) break;

    let aSegmentEnd = i;
    let bSegmentEnd = j;
    if (isDigit(aCode)) {
      while (aSegmentEnd < aEnd && isDigit(a.charCodeAt(aSegmentEnd))) aSegmentEnd++;
      while (bSegmentEnd < bEnd && isDigit(b.charCodeAt(bSegmentEnd))) bSegmentEnd++;
      // Numeric segments beat alphabetic ones.
      if (bSegmentEnd === j) return 1;
      while (i < aSegmentEnd && a.charCodeAt(i) === 48) i++;
      while (j < bSegmentEnd && b.charCodeAt(j) === 48) j++;
      const aLength = aSegmentEnd - i;
      const bLength = bSegmentEnd - j;
      if (aLength !== bLength) return aLength > bLength ? 1 : -1;
    } else {
      while (aSegmentEnd < aEnd && isAlpha(a.charCodeAt(aSegmentEnd))) aSegmentEnd++;
      while (bSegmentEnd < bEnd && isAlpha(b.charCodeAt(bSegmentEnd))) bSegmentEnd++;
      if (bSegmentEnd === j) return -1;
    }
    // strcmp of the two segments (for numbers of equal length, numeric order).
    while (i < aSegmentEnd && j < bSegmentEnd) {
      const difference = a.charCodeAt(i) - b.charCodeAt(j);
      if (difference !== 0) return difference < 0 ? -1 : 1;
      i++;
      j++;
    }
    if (i < aSegmentEnd) return 1;
    if (j < bSegmentEnd) return -1;
  }
  if (i >= aEnd && j >= bEnd) return 0;
  return i >= aEnd ? -1 : 1;
}

/**
 * rpm's `rpmvercmp` on one part (epoch, version or release).
 *
 * @example rpmvercmp('1.0~rc1', '1.0') // -1
 * @example rpmvercmp('1.0^git1', '1.0') // 1
 * @example rpmvercmp('10.0001', '10.1') // 0
 */
export function rpmvercmp(a: string, b: string): Ordering {
  return rpmvercmpRange(a, 0, a.length, b, 0, b.length);
}

/**
 * Full EVR comparison as `rpm.vercmp()` in rpm 4.18: a missing epoch counts as 0, and a missing
 * release sorts before any release, even an empty one (`1.0` < `1.0-`). With `borrowEpoch`, `a`
 * takes `b`'s epoch (see `compareRpmWithUnknownEpoch`).
 */
function compareEvrWith(a: string, b: string, borrowEpoch: boolean): Ordering {
  if (a === '' || b === '') throw new InputError('invalid rpm version: the empty string (rpm.vercmp rejects it)');
  const aColon = epochColon(a);
  const bColon = epochColon(b);
  if (!borrowEpoch) {
    // A missing or empty epoch is "0".
    const epoch = rpmvercmpRange(aColon <= 0 ? '0' : a, 0, aColon <= 0 ? 1 : aColon, bColon <= 0 ? '0' : b, 0, bColon <= 0 ? 1 : bColon);
    if (epoch !== 0) return epoch;
  }
  const aHyphen = a.lastIndexOf('-');
  const bHyphen = b.lastIndexOf('-');
  const aVersionEnd = aHyphen === -1 ? a.length : aHyphen;
  const bVersionEnd = bHyphen === -1 ? b.length : bHyphen;
  const version = rpmvercmpRange(a, aColon + 1, aVersionEnd, b, bColon + 1, bVersionEnd);
  if (version !== 0) return version;
  if (aHyphen === -1 || bHyphen === -1) return aHyphen === bHyphen ? 0 : aHyphen === -1 ? -1 : 1;
  return rpmvercmpRange(a, aHyphen + 1, a.length, b, bHyphen + 1, b.length);
}

/**
 * Full EVR comparison, as `rpm.vercmp()` in rpm 4.18 (`[epoch:]version[-release]`; missing epoch
 * is 0; a missing release sorts before any release). Throws `InputError` for the empty string,
 * which rpm rejects.
 *
 * @example compareEvr('1:1.0-1', '2.0-1') // 1
 * @example compareEvr('1.0-1.el9', '1.0-1.el9_2') // -1
 */
export function compareEvr(a: string, b: string): Ordering {
  return compareEvrWith(a, b, false);
}

/**
 * Compares an installed version whose epoch is unknown (plain `rpm -qa` drops it) with another
 * EVR, by borrowing the other side's epoch: grype's `auto` rule. Assuming 0 instead would call
 * every package that has an epoch older than any epoch-carrying fix (~66 false findings on the
 * AlmaLinux 9.2 sample inventory). An epoch written on `installedVersion` is ignored, since the
 * caller says it is not to be trusted.
 *
 * @example compareRpmWithUnknownEpoch('3.0.7-6.el9_2', '1:3.0.7-16.el9_2') // -1 (compared as 1:3.0.7-6.el9_2)
 * @example compareRpmWithUnknownEpoch('3.0.7-6.el9_2', '1:3.0.7-6.el9_2') // 0
 */
export function compareRpmWithUnknownEpoch(installedVersion: string, otherVersion: string): Ordering {
  return compareEvrWith(installedVersion, otherVersion, true);
}

/** rpmbuild's `ALLOWED_CHARS_VERREL` beside ASCII letters and digits (build/parsePreamble.c). */
const RPM_PART = /^[A-Za-z0-9._+~^%{}]*$/;
const RPM_EPOCH_MAX = 4_294_967_295;

/**
 * Why `evr` (`[epoch:]version[-release]`) is not a version rpmbuild would give a package, or
 * `undefined`. rpmbuild's rules: an unsigned 32-bit epoch, a non-empty version and release made of
 * ASCII letters, digits and `._+~^%{}`, never `..`. One rule of fleetpatch's own on top: each part
 * holds a letter or a digit, since `rpmvercmp` finds nothing to compare in `~` or `_` alone.
 *
 * @example rpmVersionProblem('1:3.0.7-6.el9_2') // undefined
 * @example rpmVersionProblem('1:') // 'the version after the epoch is empty'
 */
export function rpmVersionProblem(evr: string): string | undefined {
  if (evr === '') return 'the version is empty';
  const colon = evr.indexOf(':');
  let versionStart = 0;
  if (colon !== -1) {
    const epochText = evr.slice(0, colon);
    if (epochText === '') return 'the epoch before ":" is empty';
    if (!/^\d+$/.test(epochText)) return `the epoch ${JSON.stringify(epochText.slice(0, 40))} is not an unsigned number`;
    if (epochText.length > 10 || Number(epochText) > RPM_EPOCH_MAX) return `the epoch ${epochText.length > 40 ? `(${epochText.length} digits)` : epochText} is larger than 4294967295`;
    versionStart = colon + 1;
    if (versionStart === evr.length) return 'the version after the epoch is empty';
  }
  const hyphen = evr.lastIndexOf('-');
  const parts: Array<[string, string]> = hyphen < versionStart ? [['version', evr.slice(versionStart)]] : [['version', evr.slice(versionStart, hyphen)], ['release', evr.slice(hyphen + 1)]];
  for (const [name, part] of parts) {
    if (part === '') return `the ${name} is empty`;
    if (!RPM_PART.test(part)) {
      const illegal = [...part].find((character) => !RPM_PART.test(character))!;
      return `the ${name} holds ${JSON.stringify(illegal)}, which rpm does not allow (letters, digits and ._+~^%{} only)`;
    }
    if (part.includes('..')) return `the ${name} holds "..", which rpm does not allow`;
    if (!/[A-Za-z0-9]/.test(part)) return `the ${name} ${JSON.stringify(part)} holds no letter or digit`;
  }
  return undefined;
}

export const rpmComparator: VersionComparator = {
  scheme: 'rpm',
  compare: compareEvr,
  /**
   * `rpm.vercmp` accepts any non-empty string; rpm refuses whitespace in a package's version and
   * release, so a string carrying any is not a version either.
   */
  isValid(version) {
    if (version === '') return false;
    for (let index = 0; index < version.length; index++) {
      const code = version.charCodeAt(index);
      if (code === 32 || (code >= 9 && code <= 13)) return false;
    }
    return true;
  },
};
