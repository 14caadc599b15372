/**
 * Debian version ordering exactly as `dpkg --compare-versions` does it (lib/dpkg/version.c):
 * epoch, then upstream version, then revision, each compared by `verrevcmp`, where `~` sorts
 * before everything (even the end of the string), letters before other characters, and digit runs
 * compare numerically (`1.0000-1` = `1.0-1`).
 *
 * What `compare` does with strings dpkg only warns about (`parseversion` returns a warning: an
 * upstream version not starting with a digit, characters outside `[A-Za-z0-9.+~:-]`): it compares
 * them, as `dpkg --compare-versions` does after printing the warning. Strings dpkg rejects outright
 * (bad or empty epoch, empty upstream or revision, embedded spaces) throw `InputError`. The empty
 * version is dpkg's "blank" version, earlier than every other one (`dpkg --compare-versions '' lt ~`).
 */
import { InputError } from '../errors.js';
import type { Ordering, VersionComparator } from './comparator.js';

/** The parts of a dpkg version. */
export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

const HYPHEN = 45;
const TILDE = 126;
const SPACE = 32;
const TAB = 9;
const INT_MAX = 2_147_483_647;
/** Returned by `verrevcmp` when it meets a non-ASCII character: the caller retries on UTF-8 bytes. */
const NEEDS_BYTES = 0x40000000;

/**
 * Splits `[epoch:]upstream[-revision]` like dpkg's `parseversion`; throws `InputError` for the
 * strings it rejects (its warnings are not errors).
 *
 * @example parseDpkgVersion('1:2.30-1+deb12u1') // { epoch: 1, upstream: '2.30', revision: '1+deb12u1' }
 */
export function parseDpkgVersion(version: string): DpkgVersion {
  const problem = syntaxError(version);
  if (problem !== undefined) throw new InputError(`invalid dpkg version ${JSON.stringify(version)}: ${problem}`);
  const text = trimBlanks(version);
  const colon = text.indexOf(':');
  const upstreamStart = colon + 1;
  const hyphen = text.lastIndexOf('-');
  return {
    epoch: colon === -1 ? 0 : parseEpoch(text, colon),
    upstream: text.slice(upstreamStart, hyphen >= upstreamStart ? hyphen : text.length),
    revision: hyphen >= upstreamStart ? text.slice(hyphen + 1) : '',
  };
}

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
}

/** dpkg trims spaces and tabs (`c_isblank`) around the version, nothing else. */
function trimBlanks(version: string): string {
  let start = 0;
  let end = version.length;
  while (start < end && isBlank(version.charCodeAt(start))) start++;
  while (end > start && isBlank(version.charCodeAt(end - 1))) end--;
  return start === 0 && end === version.length ? version : version.slice(start, end);
}

/**
 * The epoch as C's `strtol` reads it in `parseversion` (an optional sign, then digits up to the
 * colon); `syntaxError` has already rejected everything else.
 */
function parseEpoch(text: string, colon: number): number {
  let index = 0;
  let negative = false;
  const first = text.charCodeAt(0);
  if (first === 43 || first === HYPHEN) {
    negative = first === HYPHEN;
    index = 1;
  }
  let epoch = 0;
  for (; index < colon; index++) epoch = epoch * 10 + (text.charCodeAt(index) - 48);
  return negative ? -epoch : epoch;
}

/** dpkg's `parseversion` errors (not its warnings), or undefined when dpkg accepts the string. */
function syntaxError(version: string): string | undefined {
  const text = trimBlanks(version);
  if (text === '') return 'version string is empty';
  if (text.indexOf(' ') !== -1 || text.indexOf('\t') !== -1) return 'version string has embedded spaces';
  const colon = text.indexOf(':');
  let upstreamStart = 0;
  if (colon !== -1) {
    // C's strtol: an optional sign, then digits; no digits at all is the "empty" error.
    const first = text.charCodeAt(0);
    let index = first === 43 || first === HYPHEN ? 1 : 0;
    const digitsStart = index;
    let epoch = 0;
    while (index < text.length && isDigit(text.charCodeAt(index))) {
      epoch = epoch * 10 + (text.charCodeAt(index) - 48);
      index++;
    }
    if (index === digitsStart) return 'epoch in version is empty';
    if (index !== colon) return 'epoch in version is not number';
    if (first === HYPHEN && epoch !== 0) return 'epoch in version is negative';
    if (epoch > INT_MAX) return 'epoch in version is too big';
    if (colon === text.length - 1) return 'nothing after colon in version number';
    upstreamStart = colon + 1;
  }
  const hyphen = text.lastIndexOf('-');
  if (hyphen >= upstreamStart && hyphen === text.length - 1) return 'revision number is empty';
  if (hyphen === upstreamStart) return 'version number is empty';
  return undefined;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/**
 * dpkg's `order()`: `~` lowest, then the end of the string and digits, then letters, then every
 * other byte. dpkg reads bytes as (signed, on amd64) `char`, so a non-ASCII byte orders as its
 * unsigned value: after letters, before ASCII punctuation. In UTF-16 mode (`bytes` false) a
 * non-ASCII character asks the caller to retry on UTF-8 bytes.
 */
function order(code: number, bytes: boolean): number {
  if (isDigit(code)) return 0;
  if (isLetter(code)) return code;
  if (code === TILDE) return -1;
  if (code < 128) return code + 256;
  return bytes ? code : NEEDS_BYTES;
}

/**
 * dpkg's `verrevcmp` on `a[aStart, aEnd)` and `b[bStart, bEnd)`; returns a number whose sign is
 * the ordering, or `NEEDS_BYTES`.
 */
function verrevcmpRange(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number, bytes: boolean): number {
  let i = aStart;
  let j = bStart;
  while (i < aEnd || j < bEnd) {
    let firstDiff = 0;
    while ((i < aEnd && !isDigit(a.charCodeAt(i))) || (j < bEnd && !isDigit(b.charCodeAt(j)))) {
      const ac = i < aEnd ? order(a.charCodeAt(i), bytes) : 0;
      const bc = j < bEnd ? order(b.charCodeAt(j), bytes) : 0;
      if (ac === NEEDS_BYTES || bc === NEEDS_BYTES) return NEEDS_BYTES;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (i < aEnd && a.charCodeAt(i) === 48) i++;
    while (j < bEnd && b.charCodeAt(j) === 48) j++;
    while (i < aEnd && j < bEnd && isDigit(a.charCodeAt(i)) && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < aEnd && isDigit(a.charCodeAt(i))) return 1;
    if (j < bEnd && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

/**
 * dpkg's `verrevcmp` on one part (upstream version or revision).
 *
 * @example verrevcmp('1.0~rc1', '1.0') // negative
 */
export function verrevcmp(a: string, b: string): number {
  const order = verrevcmpRange(a, 0, a.length, b, 0, b.length, false);
  if (order !== NEEDS_BYTES) return order;
  const aBytes = utf8BinaryString(a);
  const bBytes = utf8BinaryString(b);
  return verrevcmpRange(aBytes, 0, aBytes.length, bBytes, 0, bBytes.length, true);
}

const encoder = new TextEncoder();

/** The UTF-8 bytes of `text`, one character per byte, as dpkg sees its arguments. */
function utf8BinaryString(text: string): string {
  let binary = '';
  for (const byte of encoder.encode(text)) binary += String.fromCharCode(byte);
  return binary;
}

function sign(value: number): Ordering {
  return value < 0 ? -1 : value > 0 ? 1 : 0;
}

/** Compares two trimmed, valid versions part by part without copying them. */
function compareValid(a: string, b: string, bytes: boolean): number {
  const aColon = a.indexOf(':');
  const bColon = b.indexOf(':');
  const aEpoch = aColon === -1 ? 0 : parseEpoch(a, aColon);
  const bEpoch = bColon === -1 ? 0 : parseEpoch(b, bColon);
  if (aEpoch !== bEpoch) return aEpoch < bEpoch ? -1 : 1;
  const aStart = aColon + 1;
  const bStart = bColon + 1;
  let aHyphen = a.lastIndexOf('-');
  let bHyphen = b.lastIndexOf('-');
  if (aHyphen < aStart) aHyphen = a.length;
  if (bHyphen < bStart) bHyphen = b.length;
  const upstream = verrevcmpRange(a, aStart, aHyphen, b, bStart, bHyphen, bytes);
  if (upstream !== 0) return upstream;
  return verrevcmpRange(a, aHyphen + 1, a.length, b, bHyphen + 1, b.length, bytes);
}

/**
 * Orders two Debian versions; see the file comment for warned-about and rejected strings.
 *
 * @example compareDpkg('1.0~rc1-1', '1.0-1') // -1
 * @example compareDpkg('1:1.0', '2.0') // 1
 */
export function compareDpkg(a: string, b: string): Ordering {
  // dpkg's blank version: `dpkg --compare-versions` reads '' (and '<unknown>') as "no version".
  const leftBlank = a === '' || a === '<unknown>';
  const rightBlank = b === '' || b === '<unknown>';
  if (leftBlank || rightBlank) return leftBlank === rightBlank ? 0 : leftBlank ? -1 : 1;
  if (syntaxError(a) !== undefined) parseDpkgVersion(a);
  if (syntaxError(b) !== undefined) parseDpkgVersion(b);
  const left = trimBlanks(a);
  const right = trimBlanks(b);
  const order = compareValid(left, right, false);
  if (order !== NEEDS_BYTES) return sign(order);
  return sign(compareValid(utf8BinaryString(left), utf8BinaryString(right), true));
}

export const dpkgComparator: VersionComparator = {
  scheme: 'dpkg',
  compare: compareDpkg,
  /**
   * True when dpkg's `parseversion` accepts the string without even a warning: what a package
   * may carry as `Version:`.
   */
  isValid(version) {
    if (syntaxError(version) !== undefined) return false;
    const { upstream, revision } = parseDpkgVersion(version);
    if (!isDigit(upstream.charCodeAt(0))) return false;
    for (let index = 0; index < upstream.length; index++) {
      const code = upstream.charCodeAt(index);
      if (!isDigit(code) && !isLetter(code) && '.-+~:'.indexOf(upstream[index]!) === -1) return false;
    }
    for (let index = 0; index < revision.length; index++) {
      const code = revision.charCodeAt(index);
      if (!isDigit(code) && !isLetter(code) && '.+~'.indexOf(revision[index]!) === -1) return false;
    }
    return true;
  },
};
