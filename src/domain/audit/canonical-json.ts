/**
 * Canonical JSON (RFC 8785, the JSON Canonicalization Scheme): one byte sequence per value, so an
 * audit entry hashes the same on every machine and a re-serialised entry can be checked against
 * the text that was hashed. PostgreSQL's jsonb reorders keys and rewrites numbers, so the log
 * stores this text, never jsonb.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue | undefined };

/** A lone surrogate cannot be encoded as UTF-8; RFC 8785 (via I-JSON) refuses such strings. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The RFC 8785 serialisation of `value`: object members sorted by the UTF-16 code units of their
 * names, no whitespace, numbers as ECMAScript prints them, strings with JSON's minimal escapes.
 * Members whose value is `undefined` are left out (as `JSON.stringify` does); anything that is not
 * plain JSON (non-finite numbers, lone surrogates, dates, class instances, `undefined` in an
 * array) throws a TypeError naming the JSON path.
 *
 * @example canonicalJson({ b: [1, 'x'], a: 1e21 }) // '{"a":1e+21,"b":[1,"x"]}'
 */
export function canonicalJson(value: JsonValue): string {
  return serialise(value, '$');
}

function serialise(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`${path}: ${String(value)} has no JSON form`);
      // ECMAScript's Number-to-string is exactly RFC 8785's number format (and -0 prints as 0).
      return JSON.stringify(value);
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new TypeError(`${path}: a string with a lone surrogate cannot be canonicalised`);
      // For well-formed strings JSON.stringify emits RFC 8785's escapes: \b \t \n \f \r \" \\ and \u00xx.
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) {
        return `[${value.map((item, index) => {
          if (item === undefined) throw new TypeError(`${path}[${index}]: undefined has no JSON form`);
          return serialise(item, `${path}[${index}]`);
        }).join(',')}]`;
      }
      return serialiseObject(value, path);
    default:
      throw new TypeError(`${path}: a ${typeof value} has no JSON form`);
  }
}

function serialiseObject(value: object, path: string): string {
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) throw new TypeError(`${path}: only plain objects can be canonicalised`);
  const record = value as Record<string, unknown>;
  // The default sort compares UTF-16 code units, which is RFC 8785's member order.
  const members = Object.keys(record)
    .sort()
    .filter((key) => record[key] !== undefined)
    .map((key) => `${serialise(key, path)}:${serialise(record[key], `${path}.${key}`)}`);
  return `{${members.join(',')}}`;
}
