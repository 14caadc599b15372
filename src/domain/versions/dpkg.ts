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
const COLON = 58;
const PLUS = 43;
const TILDE = 126;
const SPACE = 32;
const TAB = 9;
const INT_MAX = 2_147_483_647;
/** Returned by `verrevcmp` when it meets a non-ASCII character: the caller retries on UTF-8 bytes. */
const NEEDS_BYTES = 0x40000000;

/**
 * Where the parts of the last version `locate` read are; module-level so that comparing millions of
 * versions allocates nothing.
 */
let epoch = 0;
let start = 0;
let upstreamStart = 0;
let hyphen = 0;
let end = 0;

/**
 * Reads one version in a single pass, the way dpkg's `parseversion` does: trims spaces and tabs,
 * finds the epoch (C `strtol` up to the first colon: optional sign, digits) and the last hyphen.
 * Returns dpkg's error message for strings it rejects (not for those it only warns about), else
 * undefined, leaving the offsets in `start`, `upstreamStart`, `hyphen` (= `end` when there is no
 * revision) and `end`.
 */
function locate(version: string): string | undefined {
  start = 0;
  end = version.length;
  while (start < end && isBlank(version.charCodeAt(start))) start++;
  while (end > start && isBlank(version.charCodeAt(end - 1))) end--;
  if (start === end) return 'version string is empty';
  let colon = -1;
  hyphen = -1;
  for (let index = start; index < end; index++) {
    const code = version.charCodeAt(index);
    if (code === HYPHEN) hyphen = index;
    else if (code === COLON) {
      if (colon === -1) colon = index;
    } else if (isBlank(code)) return 'version string has embedded spaces';
  }
  epoch = 0;
  upstreamStart = start;
  if (colon !== -1) {
    const first = version.charCodeAt(start);
    let index = first === PLUS || first === HYPHEN ? start + 1 : start;
    const digitsStart = index;
    while (index < end && isDigit(version.charCodeAt(index))) {
      epoch = epoch * 10 + (version.charCodeAt(index) - 48);
      index++;
    }
    if (index === digitsStart) return 'epoch in version is empty';
    if (index !== colon) return 'epoch in version is not number';
    if (first === HYPHEN && epoch !== 0) return 'epoch in version is negative';
    if (epoch > INT_MAX) return 'epoch in version is too big';
    if (colon === end - 1) return 'nothing after colon in version number';
    upstreamStart = colon + 1;
  }
  if (hyphen < upstreamStart) hyphen = end;
  else if (hyphen === end - 1) return 'revision number is empty';
  if (hyphen === upstreamStart) return 'version number is empty';
  return undefined;
}

/**
 * Splits `[epoch:]upstream[-revision]` like dpkg's `parseversion`; throws `InputError` for the
 * strings it rejects (its warnings are not errors).
 *
 * @example parseDpkgVersion('1:2.30-1+deb12u1') // { epoch: 1, upstream: '2.30', revision: '1+deb12u1' }
 */
export function parseDpkgVersion(version: string): DpkgVersion {
  const problem = locate(version);
  if (problem !== undefined) throw new InputError(`invalid dpkg version ${JSON.stringify(version)}: ${problem}`);
  return { epoch, upstream: version.slice(upstreamStart, hyphen), revision: hyphen < end ? version.slice(hyphen + 1, end) : '' };
}

/**
 * Why dpkg's `parseversion` rejects `version` (its own error text, as `dpkg --compare-versions`
 * prints it), or `undefined`. Strings dpkg only warns about (an upstream version not starting with
 * a digit, characters outside `[A-Za-z0-9.+~:-]`) are not problems here: dpkg still installs them.
 *
 * @example dpkgVersionProblem('x:1.0-1') // 'epoch in version is empty'
 */
export function dpkgVersionProblem(version: string): string | undefined {
  return locate(version);
}

function isBlank(code: number): boolean {
  return code === SPACE || code === TAB;
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

/** Compares two versions dpkg accepts, part by part, without copying them. */
function compareLocated(a: string, b: string, bytes: boolean): number {
  locateOrThrow(a);
  const aEpoch = epoch;
  const aUpstreamStart = upstreamStart;
  const aHyphen = hyphen;
  const aEnd = end;
  locateOrThrow(b);
  if (aEpoch !== epoch) return aEpoch < epoch ? -1 : 1;
  const upstream = verrevcmpRange(a, aUpstreamStart, aHyphen, b, upstreamStart, hyphen, bytes);
  if (upstream !== 0) return upstream;
  return verrevcmpRange(a, Math.min(aHyphen + 1, aEnd), aEnd, b, Math.min(hyphen + 1, end), end, bytes);
}

function locateOrThrow(version: string): void {
  if (locate(version) !== undefined) parseDpkgVersion(version);
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
  const order = compareLocated(a, b, false);
  if (order !== NEEDS_BYTES) return sign(order);
  return sign(compareLocated(utf8BinaryString(a), utf8BinaryString(b), true));
}

export const dpkgComparator: VersionComparator = {
  scheme: 'dpkg',
  compare: compareDpkg,
  /**
   * True when dpkg's `parseversion` accepts the string without even a warning: what a package
   * may carry as `Version:`.
   */
  isValid(version) {
    if (locate(version) !== undefined) return false;
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
