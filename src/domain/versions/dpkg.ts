/**
 * Debian version ordering, as `dpkg --compare-versions` does it (lib/dpkg/version.c): epoch,
 * then upstream version, then revision, each compared by `verrevcmp`, where `~` sorts before
 * everything (even the end of the string) and letters sort before other characters.
 */
import { InputError } from '../errors.js';
import type { Ordering, VersionComparator } from './comparator.js';

interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

/**
 * Splits `[epoch:]upstream[-revision]`. Like dpkg, a missing epoch is 0 and a missing revision is
 * empty; the revision starts after the last hyphen.
 */
export function parseDpkgVersion(version: string): DpkgVersion {
  const trimmed = version.trim();
  const colon = trimmed.indexOf(':');
  let epoch = 0;
  let rest = trimmed;
  if (colon !== -1) {
    const epochText = trimmed.slice(0, colon);
    if (!/^\d+$/.test(epochText)) throw new InputError(`invalid dpkg version ${JSON.stringify(version)}: epoch is not a number`);
    epoch = Number(epochText);
    rest = trimmed.slice(colon + 1);
  }
  const hyphen = rest.lastIndexOf('-');
  return hyphen === -1 ? { epoch, upstream: rest, revision: '' } : { epoch, upstream: rest.slice(0, hyphen), revision: rest.slice(hyphen + 1) };
}

const TILDE = 126;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** dpkg's `order()`: `~` lowest, then end of string / digits, then letters, then everything else. */
function order(code: number): number {
  if (isDigit(code)) return 0;
  if (isLetter(code)) return code;
  if (code === TILDE) return -1;
  if (!Number.isNaN(code)) return code + 256;
  return 0;
}

/** dpkg's `verrevcmp`, on one part (upstream or revision). */
export function verrevcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a.charCodeAt(i))) || (j < b.length && !isDigit(b.charCodeAt(j)))) {
      const ac = i < a.length ? order(a.charCodeAt(i)) : 0;
      const bc = j < b.length ? order(b.charCodeAt(j)) : 0;
      if (ac !== bc) return ac - bc;
      i++;
      j++;
    }
    while (i < a.length && a.charCodeAt(i) === 48) i++;
    while (j < b.length && b.charCodeAt(j) === 48) j++;
    while (i < a.length && isDigit(a.charCodeAt(i)) && j < b.length && isDigit(b.charCodeAt(j))) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (i < a.length && isDigit(a.charCodeAt(i))) return 1;
    if (j < b.length && isDigit(b.charCodeAt(j))) return -1;
    if (firstDiff !== 0) return firstDiff;
  }
  return 0;
}

function sign(value: number): Ordering {
  return value < 0 ? -1 : value > 0 ? 1 : 0;
}

/**
 * @example dpkgComparator.compare('1.0~rc1-1', '1.0-1') // -1
 * @example dpkgComparator.compare('1:1.0', '2.0') // 1
 */
export const dpkgComparator: VersionComparator = {
  scheme: 'dpkg',
  compare(a, b) {
    if (a === b) return 0;
    const left = parseDpkgVersion(a);
    const right = parseDpkgVersion(b);
    if (left.epoch !== right.epoch) return left.epoch < right.epoch ? -1 : 1;
    const upstream = verrevcmp(left.upstream, right.upstream);
    if (upstream !== 0) return sign(upstream);
    return sign(verrevcmp(left.revision, right.revision));
  },
  /** dpkg's parseversion errors (not its warnings): empty, bad epoch, empty upstream or revision, embedded spaces. */
  isValid(version) {
    const trimmed = version.trim();
    if (trimmed === '' || /\s/.test(trimmed)) return false;
    const colon = trimmed.indexOf(':');
    if (colon !== -1 && !/^\d+$/.test(trimmed.slice(0, colon))) return false;
    const rest = colon === -1 ? trimmed : trimmed.slice(colon + 1);
    const hyphen = rest.lastIndexOf('-');
    if (rest === '' || hyphen === 0 || hyphen === rest.length - 1) return false;
    return true;
  },
};
