/**
 * Reads a policy file: YAML → the zod schema → cross-references (windows, buckets and teams a
 * bucket, freeze or baseline names must exist; gates' conditions parse). Every problem names its
 * line and column and the field's path; a misspelt key gets a did-you-mean from the schema's own
 * vocabulary. Nothing here stores anything: a bad file is refused whole, so it can never replace a
 * good one.
 */
import { isMap, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { InputError } from '../errors.js';
import { textProblem } from '../well-formed-text.js';
import { gateProblems } from '../gates/gate-problems.js';
import { freezeFormProblem } from './freeze.js';
import { policySchema, type Policy } from './policy-schema.js';

export interface PolicyProblem {
  message: string;
  field?: string;
  line?: number;
  column?: number;
}

export type PolicyReading = { ok: true; policy: Policy } | { ok: false; problems: PolicyProblem[] };

const MAX_PROBLEMS = 50;

/** Every property name the schema knows, for did-you-mean suggestions. */
const VOCABULARY: readonly string[] = (() => {
  const names = new Set<string>();
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [key, child] of Object.entries(node)) {
      if (key === 'properties' && child && typeof child === 'object') for (const property of Object.keys(child)) names.add(property);
      walk(child);
    }
  };
  walk(z.toJSONSchema(policySchema, { io: 'input', unrepresentable: 'any' }));
  return [...names];
})();

/** Where a field starts in the file: a line and column, or nothing when the text has no such place. */
export type FieldLocator = (field: string) => { line?: number; column?: number };

/**
 * @example readPolicy('version: 1\nbuckets: []\n') // { ok: false, problems: [{ field: 'buckets', line: 2, … }] }
 */
export function readPolicy(text: string): PolicyReading {
  return readLocatedPolicy(text).reading;
}

/**
 * The reading and a locator of fields (`buckets[2].windows[0]`, or their nearest ancestor) in the
 * document it parsed, so that later checks can place their issues without parsing the text again:
 * a 500-bucket file takes ~100 ms and ~200 MB of short-lived objects to parse.
 */
export function readLocatedPolicy(text: string): { reading: PolicyReading; locate: FieldLocator } {
  const textIssue = textProblem(text, true);
  if (textIssue) return { reading: { ok: false, problems: [{ message: `the file ${textIssue}` }] }, locate: () => ({}) };
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const position: Position = (offset) => {
    if (offset === undefined) return {};
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  return { reading: readDocument(document, position), locate: (field) => position(offsetOf(document, fieldPath(field))) };
}

type Position = (offset: number | undefined) => { line?: number; column?: number };

function readDocument(document: Document, position: Position): PolicyReading {
  if (document.errors.length > 0) {
    return { ok: false, problems: document.errors.slice(0, MAX_PROBLEMS).map((error) => ({ message: error.message.split('\n')[0]!, ...position(error.pos[0]) })) };
  }
  const parsed = policySchema.safeParse(document.toJS({ maxAliasCount: 100 }));
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.flatMap((issue) => problemsOf(issue, document, position)).slice(0, MAX_PROBLEMS) };
  }
  const references = crossReferenceProblems(parsed.data).map(({ message, path }) => ({ message, field: fieldOf(path), ...position(offsetOf(document, path)) }));
  if (references.length > 0) return { ok: false, problems: references };
  return { ok: true, policy: parsed.data };
}

/** `buckets[2].windows[0]` → ['buckets', 2, 'windows', 0]. Names in the policy never hold "." or "[". */
function fieldPath(field: string): Array<string | number> {
  const path: Array<string | number> = [];
  for (const part of field.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) path.push(part[2] !== undefined ? Number(part[2]) : part[1]!);
  return path;
}

/**
 * The policy, or an InputError naming the first problem (and how many there are).
 *
 * @example parsePolicy(readFileSync('fleetpatch.yaml', 'utf8'), 'fleetpatch.yaml').buckets[0].name
 */
export function parsePolicy(text: string, fileName: string): Policy {
  const reading = readPolicy(text);
  if (reading.ok) return reading.policy;
  const [first] = reading.problems;
  const more = reading.problems.length > 1 ? ` (and ${reading.problems.length - 1} more problem${reading.problems.length > 2 ? 's' : ''}; fleetpatch policy check lists them all)` : '';
  throw new InputError(`${first!.message}${more}`, { file: fileName, ...(first!.line !== undefined ? { line: first!.line } : {}), ...(first!.column !== undefined ? { column: first!.column } : {}), ...(first!.field ? { field: first!.field } : {}) });
}

/** `buckets[2].strategy.kind` from a zod path. */
function fieldOf(path: ReadonlyArray<PropertyKey>): string | undefined {
  const field = path.map((segment) => (typeof segment === 'number' ? `[${segment}]` : `.${String(segment)}`)).join('').replace(/^\./, '');
  return field || undefined;
}

/** Where the value at `path` starts in the file, or its nearest existing ancestor. */
function offsetOf(document: Document, path: ReadonlyArray<PropertyKey>): number | undefined {
  for (let length = path.length; length >= 0; length--) {
    const node = document.getIn(path.slice(0, length) as Array<string | number>, true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) return node.range[0];
    if (length === 0) return (document.contents as { range?: [number, number, number] } | null)?.range?.[0];
  }
  return undefined;
}

/** One problem per issue, and one per key of an unrecognised-keys issue. */
function problemsOf(issue: z.core.$ZodIssue, document: Document, position: Position): PolicyProblem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      const suggestion = closest(key, VOCABULARY);
      // The key itself, not its value: point at the key node of the pair.
      const parent = document.getIn(issue.path as Array<string | number>, true);
      const pair = isMap(parent) ? parent.items.find((item) => (item.key as { value?: unknown } | null)?.value === key) : undefined;
      const offset = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0] ?? offsetOf(document, issue.path);
      return {
        message: `unknown key ${JSON.stringify(key)}${suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : ''}`,
        ...(fieldOf(path) ? { field: fieldOf(path)! } : {}),
        ...position(offset),
      };
    });
  }
  return [problemOf(issue, document, position)];
}

function problemOf(issue: z.core.$ZodIssue, document: Document, position: Position): PolicyProblem {
  const field = fieldOf(issue.path);
  const node = document.getIn(issue.path as Array<string | number>, true);
  const missing = node === undefined && issue.code === 'invalid_type';
  const offset = missing ? offsetOf(document, issue.path.slice(0, -1)) : isMap(node) || isSeq(node) ? node.range?.[0] : offsetOf(document, issue.path);
  return { message: missing ? `missing ${JSON.stringify(String(issue.path.at(-1)))}: ${issue.message}` : issue.message, ...(field ? { field } : {}), ...position(offset) };
}

/** Names one part of the policy uses that another must define. */
function crossReferenceProblems(policy: Policy): Array<{ message: string; path: PropertyKey[] }> {
  const problems: Array<{ message: string; path: PropertyKey[] }> = [];
  const windows = new Set(Object.keys(policy.windows));
  const buckets = new Set<string>();
  policy.buckets.forEach((bucket, index) => {
    if (buckets.has(bucket.name)) problems.push({ message: `bucket name ${JSON.stringify(bucket.name)} is used twice`, path: ['buckets', index, 'name'] });
    buckets.add(bucket.name);
    bucket.windows.forEach((window, windowIndex) => {
      if (!windows.has(window)) problems.push({ message: `no window named ${JSON.stringify(window)}${suggest(window, windows)}`, path: ['buckets', index, 'windows', windowIndex] });
    });
    if (bucket.strategy.kind !== 'manual' && bucket.windows.length === 0) problems.push({ message: `bucket ${JSON.stringify(bucket.name)} has no window: name at least one under "windows"`, path: ['buckets', index] });
    bucket.gates.forEach((gate, gateIndex) => {
      for (const problem of gateProblems(gate)) problems.push({ message: problem.message, path: ['buckets', index, 'gates', gateIndex, ...problem.path] });
    });
  });
  policy.freezes.forEach((freeze, index) => {
    const form = freezeFormProblem(freeze);
    if (form) problems.push({ message: form, path: ['freezes', index, 'until'] });
    if (freeze.scope === 'all') return;
    (freeze.scope.buckets ?? []).forEach((bucket, bucketIndex) => {
      if (!buckets.has(bucket)) problems.push({ message: `no bucket named ${JSON.stringify(bucket)}${suggest(bucket, buckets)}`, path: ['freezes', index, 'scope', 'buckets', bucketIndex] });
    });
  });
  policy.baselines.forEach((baseline, index) => {
    baseline.promotion.forEach((bucket, bucketIndex) => {
      if (!buckets.has(bucket)) problems.push({ message: `no bucket named ${JSON.stringify(bucket)}${suggest(bucket, buckets)}`, path: ['baselines', index, 'promotion', bucketIndex] });
    });
  });
  const receivers = Object.keys(policy.notifications.receivers);
  policy.notifications.routes.forEach((route, index) => {
    if (!receivers.includes(route.receiver)) problems.push({ message: `no receiver named ${JSON.stringify(route.receiver)}${suggest(route.receiver, receivers)}`, path: ['notifications', 'routes', index, 'receiver'] });
  });
  return problems;
}

function suggest(name: string, names: Iterable<string>): string {
  const suggestion = closest(name, [...names]);
  return suggestion ? `; did you mean ${JSON.stringify(suggestion)}?` : '';
}

/** The nearest known name, if it is within an edit distance of half the name's length (at least 2). */
export function closest(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 2)) + 1;
  for (const candidate of names) {
    const distance = candidate.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, two rows at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = current;
  }
  return previous[b.length]!;
}
