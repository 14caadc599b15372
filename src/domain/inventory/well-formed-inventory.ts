/**
 * The well-formed-text rule applied to inventory files, in the two places a bad character can
 * hide: the raw text (any format; reported with its line and, for `Field: value` formats, the
 * field) and the strings JSON escapes decode to (`"\u0000"`, `"\ud800"`; reported with the JSON
 * path). What becomes a package (name, version, arch, source, purl) must be one line besides.
 */
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import { findTextProblem, textProblem } from '../well-formed-text.js';

/**
 * Throws `InputError` with file, line (and field, when the line reads `Field: value`) for the first
 * NUL, lone surrogate or control character other than tab, newline and carriage return.
 *
 * @example checkInventoryText('Package: a\u0000\n', 'status') // throws "status, line 1, field Package: contains a NUL character (U+0000)"
 */
export function checkInventoryText(text: string, fileName: string): void {
  const found = findTextProblem(text, true);
  if (found === undefined) return;
  const lineStart = text.lastIndexOf('\n', found.index - 1) + 1;
  let line = 1;
  for (let index = text.indexOf('\n'); index !== -1 && index < found.index; index = text.indexOf('\n', index + 1)) line++;
  const key = /^([A-Za-z][A-Za-z0-9_.-]*):/.exec(text.slice(lineStart, Math.min(text.length, lineStart + 80)));
  throw new InputError(`${found.problem} in column ${found.index - lineStart + 1}`, { file: fileName, line, ...(key ? { field: key[1]! } : {}) });
}

/** A JSON path kept as a chain to the parent, so walking deep values copies nothing. */
interface PathLink {
  segment: string | number;
  parent: PathLink | undefined;
}

/**
 * How deep SBOM components and npm v1 dependencies may nest. Real trees are a few levels deep; the
 * cap bounds the work of naming each entry's JSON path (a chain of n levels names n paths of up to
 * n segments each).
 */
export const MAX_NESTING_DEPTH = 1000;

/** A JSON path shortened in the middle when a value is nested very deep, so a message stays readable. */
export function shortenedPath(path: string): string {
  return path.length > 200 ? `${path.slice(0, 100)}…${path.slice(-100)}` : path;
}

function jsonPathOf(link: PathLink | undefined): string {
  const segments: Array<string | number> = [];
  for (let at = link; at !== undefined; at = at.parent) segments.push(at.segment);
  return shortenedPath(segments.reverse().reduce<string>((joined, segment) => (typeof segment === 'number' ? `${joined}[${segment}]` : joined === '' ? segment : `${joined}.${segment}`), ''));
}

/**
 * Throws `InputError` naming the JSON path of the first key or string of a decoded JSON document
 * that is not well-formed text (strings may span lines; keys may not). Walks with a stack, so any
 * nesting depth JSON.parse accepts is safe.
 */
export function checkJsonText(document: unknown, fileName: string): void {
  const pending: Array<{ value: unknown; link: PathLink | undefined }> = [{ value: document, link: undefined }];
  while (pending.length > 0) {
    const { value, link } = pending.pop()!;
    if (typeof value === 'string') {
      const problem = textProblem(value, true);
      if (problem !== undefined) throw new InputError(problem, { file: fileName, field: jsonPathOf(link) });
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index--) pending.push({ value: value[index], link: { segment: index, parent: link } });
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value).reverse()) {
        const child = { segment: key, parent: link };
        const problem = textProblem(key);
        if (problem !== undefined) throw new InputError(`key ${problem}`, { file: fileName, field: jsonPathOf(child) });
        pending.push({ value: item, link: child });
      }
    }
  }
}

const PACKAGE_TEXT_FIELDS = ['ecosystem', 'name', 'version', 'arch', 'sourceName', 'sourceVersion', 'purl'] as const;

/**
 * Throws `InputError` for the first package whose name, version, arch, source or purl is not one
 * line of well-formed text (a newline inside a purl, a tab in a name).
 */
export function checkPackageText(packages: readonly InstalledPackage[], fileName: string): void {
  for (const pkg of packages) {
    for (const field of PACKAGE_TEXT_FIELDS) {
      const value = pkg[field];
      if (value === undefined) continue;
      const problem = textProblem(value);
      if (problem !== undefined) throw new InputError(`package ${JSON.stringify(pkg.name)}: its ${field} ${problem}`, { file: fileName, field });
    }
  }
}
