/**
 * Alpine package version ordering, as apk-tools compares `digit{.digit}{letter}{_suffix{N}}{~hash}{-rN}`:
 * numbers compare numerically (a component after a dot with leading zeros compares as a decimal
 * fraction), pre-release suffixes `_alpha _beta _pre _rc` sort before the bare version and
 * post-release suffixes `_cvs _svn _git _hg _p` after it, then the `-rN` package revision.
 *
 * Legacy versions that apk-tools 3.x rejects (`5.7.1p1`, a letter followed by digits) still occur
 * in real secdb data; `compare` orders them the way apk-tools 2.x did, token by token up to the
 * first invalid character, so old advisories keep matching. `isValid` follows apk-tools 3.x.
 */
import type { Ordering, VersionComparator } from './comparator.js';

const enum Token {
  DigitOrZero = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNumber = 4,
  CommitHash = 5,
  RevisionNumber = 6,
  End = 7,
  Invalid = 8,
}

const PRE_SUFFIXES = ['alpha', 'beta', 'pre', 'rc'];
const POST_SUFFIXES = ['cvs', 'svn', 'git', 'hg', 'p'];

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isLower(code: number): boolean {
  return code >= 97 && code <= 122;
}

function isHex(code: number): boolean {
  return isDigit(code) || (code >= 97 && code <= 102);
}

type TokenValue = number | string;

/**
 * Orders two token values. A number after a dot that starts with `0` is a decimal fraction
 * (`8.2.0015` < `8.2.002`), so such components compare as text; other numbers numerically.
 */
function compareTokenValues(a: TokenValue, b: TokenValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = String(a);
  const right = String(b);
  if (left.startsWith('0') || right.startsWith('0') || !/^\d+$/.test(left) || !/^\d+$/.test(right)) {
    return left < right ? -1 : left > right ? 1 : 0;
  }
  return left.length !== right.length ? left.length - right.length : left < right ? -1 : left > right ? 1 : 0;
}

/** A cursor over one version string, yielding (token type, value) pairs as apk-tools does. */
class VersionTokens {
  position = 0;
  token: Token = Token.Digit;

  constructor(private readonly text: string) {}

  /**
   * Reads the value of the current token and advances to the next token's type. Numbers after a
   * dot come back as their digit text (see `compareTokenValues`); commit hashes as their text.
   */
  next(): TokenValue {
    const text = this.text;
    if (this.position >= text.length) {
      this.token = Token.End;
      return 0;
    }
    let value: TokenValue = 0;
    switch (this.token) {
      case Token.DigitOrZero: {
        const start = this.position;
        while (this.position < text.length && isDigit(text.charCodeAt(this.position))) this.position++;
        value = text.slice(start, this.position);
        break;
      }
      case Token.Digit:
      case Token.SuffixNumber:
      case Token.RevisionNumber:
        while (this.position < text.length && isDigit(text.charCodeAt(this.position))) {
          value = value * 10 + (text.charCodeAt(this.position) - 48);
          this.position++;
        }
        break;
      case Token.Letter:
        value = text.charCodeAt(this.position);
        this.position++;
        break;
      case Token.Suffix: {
        const pre = PRE_SUFFIXES.findIndex((suffix) => text.startsWith(suffix, this.position));
        if (pre !== -1) {
          value = pre - PRE_SUFFIXES.length;
          this.position += PRE_SUFFIXES[pre]!.length;
          break;
        }
        const post = POST_SUFFIXES.findIndex((suffix) => text.startsWith(suffix, this.position));
        if (post !== -1) {
          value = post;
          this.position += POST_SUFFIXES[post]!.length;
          break;
        }
        this.token = Token.Invalid;
        return -1;
      }
      case Token.CommitHash: {
        const start = this.position;
        while (this.position < text.length && isHex(text.charCodeAt(this.position))) this.position++;
        value = text.slice(start, this.position);
        break;
      }
      default:
        this.token = Token.Invalid;
        return -1;
    }
    if (this.position >= text.length) this.token = Token.End;
    else this.advanceType();
    return value;
  }

  private advanceType(): void {
    const text = this.text;
    const code = text.charCodeAt(this.position);
    const previous = this.token;
    let next: Token = Token.Invalid;
    if ((previous === Token.Digit || previous === Token.DigitOrZero) && isLower(code)) next = Token.Letter;
    else if (previous === Token.Letter && isDigit(code)) next = Token.Digit;
    else if (previous === Token.Suffix && isDigit(code)) next = Token.SuffixNumber;
    else {
      if (code === 46) next = Token.DigitOrZero; // '.'
      else if (code === 95) next = Token.Suffix; // '_'
      else if (code === 126) next = Token.CommitHash; // '~'
      else if (code === 45 && text.charCodeAt(this.position + 1) === 114) {
        // '-r'
        next = Token.RevisionNumber;
        this.position++;
      }
      this.position++;
    }
    if (next < previous) {
      const allowed =
        (next === Token.DigitOrZero && previous === Token.Digit) ||
        (next === Token.Suffix && previous === Token.SuffixNumber) ||
        (next === Token.Digit && previous === Token.Letter);
      if (!allowed) next = Token.Invalid;
    }
    this.token = next;
  }
}

/**
 * @example apkComparator.compare('1.2.3_rc1-r0', '1.2.3-r0') // -1
 * @example apkComparator.compare('1.2.3_p1-r0', '1.2.3-r1') // 1
 */
export function compareApk(a: string, b: string): Ordering {
  if (a === b) return 0;
  const left = new VersionTokens(a);
  const right = new VersionTokens(b);
  let order = 0;
  while (left.token === right.token && left.token !== Token.End && left.token !== Token.Invalid && order === 0) {
    order = compareTokenValues(left.next(), right.next());
  }
  if (order < 0) return -1;
  if (order > 0) return 1;
  if (left.token === right.token) return 0;
  // Equal so far: the longer version is greater, unless what it has more of is a pre-release suffix.
  if (left.token === Token.Suffix && suffixValue(a, left.position) < 0) return -1;
  if (right.token === Token.Suffix && suffixValue(b, right.position) < 0) return 1;
  if (left.token > right.token) return -1;
  if (right.token > left.token) return 1;
  return 0;
}

/** Value of the suffix starting at `position`: negative for pre-release suffixes. */
function suffixValue(text: string, position: number): number {
  const tokens = new VersionTokens(text);
  tokens.position = position;
  tokens.token = Token.Suffix;
  return Number(tokens.next());
}

export const apkComparator: VersionComparator = {
  scheme: 'apk',
  compare: compareApk,
  isValid: isValidApkVersion,
};

/**
 * apk-tools 3.x's validity rule: `digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}`.
 */
export function isValidApkVersion(version: string): boolean {
  return APK_VERSION.test(version);
}

const APK_VERSION = /^\d+(\.\d+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*(~[0-9a-f]+)?(-r\d+)?$/;
