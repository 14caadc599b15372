/**
 * Shared pieces of the property-based fuzz tests: run counts and seed (small inside `npm test`,
 * raised by FLEETPATCH_FUZZ_RUNS for `npm run fuzz`), and fast-check arbitraries that mutate real
 * inputs rather than invent them: byte and character edits, truncations, line edits, and structural
 * edits of decoded JSON. Bad characters come from the same table as the targeted tests.
 */
import fc from 'fast-check';
import { BAD_CHARACTERS } from './bad-text.js';

/** `numRuns` for a property: `runs` inside `npm test`, FLEETPATCH_FUZZ_RUNS when set. */
export function fuzzRuns(runs: number): number {
  const configured = Number(process.env.FLEETPATCH_FUZZ_RUNS);
  return Number.isInteger(configured) && configured > 0 ? configured : runs;
}

/** Fixed unless FLEETPATCH_FUZZ_SEED is set, so a failure in CI replays; fast-check prints it with the counterexample. */
export const FUZZ_SEED = Number(process.env.FLEETPATCH_FUZZ_SEED ?? 20_261_201);

export function fuzzParameters(runs: number): fc.Parameters<unknown> {
  return { numRuns: fuzzRuns(runs), seed: FUZZ_SEED, endOnFailure: true };
}

/** Characters a parser finds interesting: bad ones, separators of the formats, digits, non-ASCII. */
const interestingCharacter = fc.oneof(
  fc.constantFrom(...BAD_CHARACTERS.map((character) => character.text)),
  fc.constantFrom(':', ' ', '\n', '\n\n', '-', '.', '~', '^', '+', '_', '@', '/', '(', ')', '{', '}', '[', ']', '"', ',', '\\', '0', '9', '99999999999999999999', 'é', '😀', '\uFEFF'),
  fc.string({ unit: 'binary', maxLength: 4 }),
);

/** One edit of a text: insert, delete, duplicate or replace a range, or cut the text short. */
const textEdit = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: interestingCharacter }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: interestingCharacter }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

type TextEdit = typeof textEdit extends fc.Arbitrary<infer T> ? T : never;

function applyTextEdit(text: string, edit: TextEdit): string {
  const at = text.length === 0 ? 0 : edit.at % (text.length + 1);
  switch (edit.kind) {
    case 'insert':
      return text.slice(0, at) + edit.text + text.slice(at);
    case 'delete':
      return text.slice(0, at) + text.slice(at + edit.length);
    case 'duplicate':
      return text.slice(0, at + edit.length) + text.slice(at, at + edit.length) + text.slice(at + edit.length);
    case 'replace':
      return text.slice(0, at) + edit.text + text.slice(at + edit.text.length);
    case 'truncate':
      return text.slice(0, at);
  }
}

/** One edit of a line-oriented text: drop, repeat or swap a line, or give a `Key: value` line a new value. */
const lineEdit = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('repeat' as const), line: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), line: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('value' as const), line: fc.nat(), value: fc.oneof(interestingCharacter, fc.string({ maxLength: 20 })) }),
);

type LineEdit = typeof lineEdit extends fc.Arbitrary<infer T> ? T : never;

function applyLineEdit(text: string, edit: LineEdit): string {
  const lines = text.split('\n');
  const line = edit.line % lines.length;
  switch (edit.kind) {
    case 'drop':
      lines.splice(line, 1);
      break;
    case 'repeat':
      lines.splice(line, 0, lines[line]!);
      break;
    case 'swap': {
      const other = edit.other % lines.length;
      [lines[line], lines[other]] = [lines[other]!, lines[line]!];
      break;
    }
    case 'value': {
      const separator = /[:\t=@ ]/.exec(lines[line]!);
      lines[line] = separator === null ? edit.value : lines[line]!.slice(0, separator.index + 1) + edit.value;
      break;
    }
  }
  return lines.join('\n');
}

/** A real text, mutated by up to `maxEdits` character and line edits. */
export function mutatedText(seeds: readonly string[], maxEdits = 4): fc.Arbitrary<string> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(fc.oneof(textEdit.map((edit) => ({ text: edit })), lineEdit.map((edit) => ({ line: edit }))), { minLength: 1, maxLength: maxEdits }))
    .map(([seed, edits]) => edits.reduce((text, edit) => ('text' in edit ? applyTextEdit(text, edit.text) : applyLineEdit(text, edit.line)), seed));
}

/** A value to put where a JSON value was: other JSON, bad text, deep nesting, or a value of the wrong type. */
const replacementValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(...BAD_CHARACTERS.map((character) => `x${character.text}y`)),
  fc.constantFrom('0000-01-01T00:00:00Z', '', ':', '~', '1:', 'x:1.0-1', '9'.repeat(256), null, -1, 1e308, [], {}),
  fc.integer({ min: 1, max: 1100 }).map((depth) => {
    let nested: unknown = 'deep';
    for (let level = 0; level < depth; level++) nested = [nested];
    return nested;
  }),
);

/** One structural edit of decoded JSON, at the `path`-th node in document order. */
const jsonEdit = fc.record({ node: fc.nat(), action: fc.constantFrom('replace', 'delete', 'wrap', 'duplicate', 'stringify'), value: replacementValue });

type JsonEdit = typeof jsonEdit extends fc.Arbitrary<infer T> ? T : never;

function applyJsonEdit(document: unknown, edit: JsonEdit): unknown {
  const parents: Array<{ container: Record<string, unknown> | unknown[]; key: string | number }> = [];
  const pending: unknown[] = [document];
  while (pending.length > 0 && parents.length < 5000) {
    const value = pending.pop();
    if (Array.isArray(value)) value.forEach((item, index) => (parents.push({ container: value, key: index }), pending.push(item)));
    else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) parents.push({ container: value as Record<string, unknown>, key }), pending.push(item);
  }
  if (parents.length === 0) return edit.value;
  const { container, key } = parents[edit.node % parents.length]!;
  const current = (container as Record<string | number, unknown>)[key];
  const set = (value: unknown) => ((container as Record<string | number, unknown>)[key] = value);
  switch (edit.action) {
    case 'replace':
      set(edit.value);
      break;
    case 'delete':
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key as string];
      break;
    case 'wrap':
      set([current]);
      break;
    case 'duplicate':
      if (Array.isArray(container)) container.splice(key as number, 0, structuredClone(current));
      else set(typeof current === 'string' ? current + current : current);
      break;
    case 'stringify':
      set(JSON.stringify(current) ?? 'undefined');
      break;
  }
  return document;
}

/** A real JSON document, structurally mutated by up to `maxEdits` edits (the seed is not modified). */
export function mutatedJson(seeds: readonly unknown[], maxEdits = 3): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(jsonEdit, { minLength: 1, maxLength: maxEdits }))
    .map(([seed, edits]) => edits.reduce((document, edit) => applyJsonEdit(document, edit), structuredClone(seed)));
}

/** A byte string mutated by flips, insertions, deletions and truncations (for binary formats). */
export function mutatedBytes(seeds: readonly Uint8Array[], maxEdits = 3): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({ kind: fc.constantFrom('flip', 'insert', 'delete', 'truncate', 'zero'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }), length: fc.integer({ min: 1, max: 64 }) });
  return fc.tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: maxEdits })).map(([seed, edits]) => {
    let bytes = Buffer.from(seed);
    for (const { kind, at: rawAt, value, length } of edits) {
      const at = bytes.length === 0 ? 0 : rawAt % bytes.length;
      if (kind === 'flip' && bytes.length > 0) bytes[at] = bytes[at]! ^ (value || 1);
      else if (kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), Buffer.alloc(length, value), bytes.subarray(at)]);
      else if (kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + length)]);
      else if (kind === 'truncate') bytes = bytes.subarray(0, at);
      else if (kind === 'zero') bytes.fill(0, at, Math.min(bytes.length, at + length));
    }
    return new Uint8Array(bytes);
  });
}
