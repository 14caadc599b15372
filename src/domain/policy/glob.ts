/**
 * The policy's globs (host names, package names): `*` any run of characters, `?` one character,
 * everything else literal, the whole name matched.
 */

/**
 * @example globRegExp('pg-??.example.com', { ignoreCase: true }).test('PG-07.example.com') // true
 */
export function globRegExp(glob: string, options: { ignoreCase?: boolean } = {}): RegExp {
  const source = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${source}$`, options.ignoreCase ? 'i' : '');
}
