/**
 * Parses Package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`) as the purl
 * specification describes: split from the right, percent-decode each part, lowercase the type and
 * qualifier keys.
 */
import { InputError, type InputLocation } from '../errors.js';

export interface PackageUrl {
  type: string;
  /** Decoded namespace segments joined by `/` (`@babel`, `github.com/gin-gonic`, `org.apache.logging.log4j`). */
  namespace?: string;
  name: string;
  version?: string;
  qualifiers: Record<string, string>;
  subpath?: string;
}

/**
 * @example parsePurl('pkg:npm/%40babel/core@7.22.0') // { type: 'npm', namespace: '@babel', name: 'core', version: '7.22.0', qualifiers: {} }
 * @example parsePurl('pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12').qualifiers // { arch: 'amd64', distro: 'debian-12' }
 */
export function parsePurl(purl: string, where: InputLocation = {}): PackageUrl {
  const fail = (problem: string): never => {
    throw new InputError(`${problem} in package URL ${JSON.stringify(purl)}`, where);
  };
  const decode = (part: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      return fail(`bad percent-encoding ${JSON.stringify(part)}`);
    }
  };
  if (purl.slice(0, 4).toLowerCase() !== 'pkg:') fail('no "pkg:" scheme');
  let remainder = purl.slice(4);

  let subpath: string | undefined;
  const hash = remainder.lastIndexOf('#');
  if (hash !== -1) {
    const segments = remainder.slice(hash + 1).split('/').filter((segment) => segment !== '' && segment !== '.' && segment !== '..');
    if (segments.length > 0) subpath = segments.map(decode).join('/');
    remainder = remainder.slice(0, hash);
  }

  const qualifiers: Record<string, string> = {};
  const question = remainder.lastIndexOf('?');
  if (question !== -1) {
    for (const pair of remainder.slice(question + 1).split('&')) {
      const equals = pair.indexOf('=');
      if (equals <= 0) continue;
      const value = decode(pair.slice(equals + 1));
      // The spec drops qualifiers with an empty value.
      if (value !== '') qualifiers[pair.slice(0, equals).toLowerCase()] = value;
    }
    remainder = remainder.slice(0, question);
  }

  // `pkg://npm/x` is tolerated: slashes right after the scheme carry no meaning.
  remainder = trimSlashes(remainder);
  const typeEnd = remainder.indexOf('/');
  if (typeEnd <= 0) fail('no type or no name');
  const type = remainder.slice(0, typeEnd).toLowerCase();
  if (!/^[a-z.+-][a-z0-9.+-]*$/.test(type)) fail(`invalid type ${JSON.stringify(type)}`);
  remainder = trimSlashes(remainder.slice(typeEnd + 1));

  // The version follows the last `@` of the last segment; an unencoded `@scope/` namespace stays.
  let version: string | undefined;
  const at = remainder.lastIndexOf('@');
  if (at > remainder.lastIndexOf('/')) {
    version = decode(remainder.slice(at + 1));
    remainder = remainder.slice(0, at);
    if (version === '') version = undefined;
  }

  const segments = remainder.split('/').filter((segment) => segment !== '');
  const name = decode(segments.pop() ?? '');
  if (name === '') fail('no name');
  const parsed: PackageUrl = { type, name, qualifiers };
  if (segments.length > 0) parsed.namespace = segments.map(decode).join('/');
  if (version !== undefined) parsed.version = version;
  if (subpath !== undefined) parsed.subpath = subpath;
  return parsed;
}

function trimSlashes(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && text.charCodeAt(start) === 47) start++;
  while (end > start && text.charCodeAt(end - 1) === 47) end--;
  return text.slice(start, end);
}
