/** Writes a zod issue path the way people read JSON: `affected[0].ranges[1].events[0]`. */

/** @example jsonPath(['affected', 0, 'ranges', 1]) // 'affected[0].ranges[1]' */
export function jsonPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((joined, segment) => {
    if (typeof segment === 'number') return `${joined}[${segment}]`;
    return joined === '' ? String(segment) : `${joined}.${String(segment)}`;
  }, '');
}
