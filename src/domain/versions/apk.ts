/**
 * Alpine package version ordering, as apk-tools compares
 * `digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}`: numbers compare numerically (a component
 * after a dot that starts with `0` compares as text, so `8.2.0015` < `8.2.002`), pre-release
 * suffixes `_alpha _beta _pre _rc` sort before the bare version and post-release suffixes
 * `_cvs _svn _git _hg _p` after it, a `~hash` compares as text, then the `-rN` package revision.
 *
 * Legacy versions: apk-tools 3.x rejects some versions that real secdb data still carries
 * (`5.7.1p1`, a letter followed by digits; `1.0.r2`). `compare` reads them the way apk-tools 2.x
 * did (a letter may be followed by more digits; the comparison runs token by token up to the first
 * character neither version understands), so old advisories keep matching; the token values and
 * the order of token kinds (including "invalid" sorting after "end") are apk-tools 3.x's, which
 * keeps every apk-tools vector, valid or not, in agreement. `isValid` follows apk-tools 3.x.
 * Numbers of any length compare exactly.
 */
import type { Ordering, VersionComparator } from './comparator.js';

/** Token kinds in apk-tools' order: when one version runs out of equal tokens, the kinds decide. */
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

/** How the value of the token just read compares. */
const enum Value {
  /** `small` holds it (letters, suffixes, invalid). */
  Small,
  /** A run of digits compared as a number. */
  Number,
  /** A run of digits after a dot: text when either side starts with `0`, else a number. */
  Decimal,
  /** A commit hash, compared as text. */
  Text,
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

/** Index of the suffix starting at `position` in `suffixes`, or -1. */
function suffixAt(text: string, position: number, suffixes: readonly string[]): number {
  for (let index = 0; index < suffixes.length; index++) {
    if (text.startsWith(suffixes[index]!, position)) return index;
  }
  return -1;
}

/** A cursor over one version string, reading (token kind, value) pairs as apk-tools does. */
class VersionTokens {
  text = '';
  position = 0;
  token: Token = Token.Digit;
  value: Value = Value.Small;
  small = 0;
  valueStart = 0;
  valueEnd = 0;

  reset(text: string): void {
    this.text = text;
    this.position = 0;
    this.token = Token.Digit;
  }

  /** Reads the value of the current token, then moves on to the kind of the next one. */
  next(): void {
    const text = this.text;
    this.value = Value.Small;
    this.small = 0;
    if (this.position >= text.length) {
      this.token = Token.End;
      return;
    }
    switch (this.token) {
      case Token.DigitOrZero:
      case Token.Digit:
      case Token.SuffixNumber:
      case Token.RevisionNumber:
      case Token.CommitHash: {
        const scan = this.token === Token.CommitHash ? isHex : isDigit;
        this.value = this.token === Token.DigitOrZero ? Value.Decimal : this.token === Token.CommitHash ? Value.Text : Value.Number;
        this.valueStart = this.position;
        while (this.position < text.length && scan(text.charCodeAt(this.position))) this.position++;
        this.valueEnd = this.position;
        break;
      }
      case Token.Letter:
        this.small = text.charCodeAt(this.position);
        this.position++;
        break;
      case Token.Suffix: {
        const pre = suffixAt(text, this.position, PRE_SUFFIXES);
        if (pre !== -1) {
          this.small = pre - PRE_SUFFIXES.length;
          this.position += PRE_SUFFIXES[pre]!.length;
          break;
        }
        const post = suffixAt(text, this.position, POST_SUFFIXES);
        if (post === -1) {
          this.token = Token.Invalid;
          this.small = -1;
          return;
        }
        this.small = post;
        this.position += POST_SUFFIXES[post]!.length;
        break;
      }
      default:
        this.token = Token.Invalid;
        this.small = -1;
        return;
    }
    if (this.position >= text.length) this.token = Token.End;
    else this.advanceKind();
  }

  /** apk-tools 2.x `next_token`: the kind of the next token from its first character. */
  private advanceKind(): void {
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

  /** True when the pending token is a suffix that sorts before the bare version (or is invalid). */
  pendingSuffixIsPreRelease(): boolean {
    if (this.token !== Token.Suffix) return false;
    return suffixAt(this.text, this.position, PRE_SUFFIXES) !== -1 || suffixAt(this.text, this.position, POST_SUFFIXES) === -1;
  }
}

/** Compares two digit runs as numbers of any length. */
function compareNumberRuns(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): number {
  while (aStart < aEnd && a.charCodeAt(aStart) === 48) aStart++;
  while (bStart < bEnd && b.charCodeAt(bStart) === 48) bStart++;
  if (aEnd - aStart !== bEnd - bStart) return aEnd - aStart - (bEnd - bStart);
  return compareText(a, aStart, aEnd, b, bStart, bEnd);
}

/** apk-tools' `apk_blob_sort`: bytes, then length. */
function compareText(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): number {
  while (aStart < aEnd && bStart < bEnd) {
    const difference = a.charCodeAt(aStart) - b.charCodeAt(bStart);
    if (difference !== 0) return difference;
    aStart++;
    bStart++;
  }
  return aEnd - aStart - (bEnd - bStart);
}

/**
 * Orders the values of two tokens read as the same kind. One side may have run out (value 0) or
 * hit an invalid suffix (-1) while the other read a run of characters; apk-tools 2.x then compared
 * its 0 or -1 with the other side's value: numerically for a number, and (as the dot-component and
 * hash text comparison of 3.x extends it) as text with "0" or "-1" otherwise.
 */
function compareValues(left: VersionTokens, right: VersionTokens): number {
  if (left.value === Value.Small && right.value === Value.Small) return left.small - right.small;
  if (left.value === Value.Small) return -compareRunWithSmall(right, left.small);
  if (right.value === Value.Small) return compareRunWithSmall(left, right.small);
  const a = left.text;
  const b = right.text;
  if (left.value === Value.Number) return compareNumberRuns(a, left.valueStart, left.valueEnd, b, right.valueStart, right.valueEnd);
  if (left.value === Value.Decimal) {
    const textual =
      left.valueStart === left.valueEnd ||
      right.valueStart === right.valueEnd ||
      a.charCodeAt(left.valueStart) === 48 ||
      b.charCodeAt(right.valueStart) === 48;
    if (!textual) return compareNumberRuns(a, left.valueStart, left.valueEnd, b, right.valueStart, right.valueEnd);
  }
  return compareText(a, left.valueStart, left.valueEnd, b, right.valueStart, right.valueEnd);
}

/** Orders a token that read a run of characters against a bare 0 or -1. */
function compareRunWithSmall(run: VersionTokens, small: number): number {
  if (run.value === Value.Number) {
    let nonZero = false;
    for (let index = run.valueStart; index < run.valueEnd; index++) if (run.text.charCodeAt(index) !== 48) nonZero = true;
    return nonZero ? 1 : 0 - small;
  }
  const smallText = String(small);
  return compareText(run.text, run.valueStart, run.valueEnd, smallText, 0, smallText.length);
}

// Comparisons do not nest, so two cursors serve every call without allocating.
const leftTokens = new VersionTokens();
const rightTokens = new VersionTokens();

/**
 * @example compareApk('1.2.3_rc1-r0', '1.2.3-r0') // -1
 * @example compareApk('1.2.3_p1-r0', '1.2.3-r1') // 1
 * @example compareApk('5.7.1p1-r0', '5.7.1-r0') // 1 (legacy, read as apk-tools 2.x did)
 */
export function compareApk(a: string, b: string): Ordering {
  if (a === b) return 0;
  const left = leftTokens;
  const right = rightTokens;
  left.reset(a);
  right.reset(b);
  let order = 0;
  while (left.token === right.token && left.token !== Token.End && left.token !== Token.Invalid && order === 0) {
    left.next();
    right.next();
    order = compareValues(left, right);
  }
  if (order !== 0) return order < 0 ? -1 : 1;
  if (left.token === right.token) return 0;
  // Equal so far: the longer version is greater, unless what it has more of is a pre-release suffix.
  if (left.pendingSuffixIsPreRelease()) return -1;
  if (right.pendingSuffixIsPreRelease()) return 1;
  if (left.token > right.token) return -1;
  if (right.token > left.token) return 1;
  return 0;
}

/**
 * apk-tools 3.x's validity rule: `digit{.digit}...{letter}{_suf{#}}...{~hash}{-r#}`.
 *
 * @example isValidApkVersion('1.2.3_rc1-r0') // true
 * @example isValidApkVersion('5.7.1p1-r0') // false
 */
export function isValidApkVersion(version: string): boolean {
  return APK_VERSION.test(version);
}

const APK_VERSION = /^\d+(\.\d+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*(~[0-9a-f]+)?(-r\d+)?$/;

export const apkComparator: VersionComparator = {
  scheme: 'apk',
  compare: compareApk,
  isValid: isValidApkVersion,
};
