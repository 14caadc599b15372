/**
 * Parses `/etc/os-release` (os-release(5): shell-compatible `KEY=value` lines, `#` comments,
 * single or double quotes, backslash escapes) into an `OsRelease`.
 */
import { InputError } from '../errors.js';
import type { OsRelease } from '../types.js';

/**
 * A missing `ID` means `linux`, as os-release(5) says; fleetpatch then has no ecosystem for the
 * host and asks for `--distro`.
 *
 * @example parseOsRelease('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n', 'os-release')
 *   // { id: 'ubuntu', idLike: ['debian'], versionId: '22.04' }
 */
export function parseOsRelease(text: string, fileName: string): OsRelease {
  const fields = new Map<string, string>();
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    const key = equals === -1 ? '' : line.slice(0, equals);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new InputError(`expected KEY=value, found ${JSON.stringify(line.slice(0, 60))}`, { file: fileName, line: index + 1 });
    }
    fields.set(key, unquoteShellWord(line.slice(equals + 1), { file: fileName, line: index + 1, field: key }));
  }
  const release: OsRelease = {
    id: (fields.get('ID') || 'linux').toLowerCase(),
    idLike: (fields.get('ID_LIKE') ?? '').split(/\s+/).filter((id) => id !== ''),
  };
  const versionId = fields.get('VERSION_ID');
  if (versionId) release.versionId = versionId;
  const codename = fields.get('VERSION_CODENAME');
  if (codename) release.versionCodename = codename;
  const prettyName = fields.get('PRETTY_NAME');
  if (prettyName) release.prettyName = prettyName;
  const cpeName = fields.get('CPE_NAME');
  if (cpeName) release.cpeName = cpeName;
  return release;
}

/**
 * `"12 (bookworm)"` → `12 (bookworm)`; handles `'…'`, `"…"` with `\"`-style escapes, bare words and
 * a trailing `# comment`.
 */
function unquoteShellWord(word: string, where: { file: string; line: number; field: string }): string {
  let value = '';
  let quote: '"' | "'" | undefined;
  for (let index = 0; index < word.length; index++) {
    const char = word[index]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else value += char;
    } else if (char === '\\') {
      const next = word[index + 1];
      if (next === undefined) break;
      // Inside double quotes only $ ` " \ are escapable; elsewhere the backslash always escapes.
      if (quote === '"' && !'$`"\\'.includes(next)) value += char;
      value += next;
      index++;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else value += char;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if ((char === ' ' || char === '\t') && word.slice(index).trimStart().startsWith('#')) {
      break;
    } else {
      // An unquoted space is not valid shell, but some vendors write `NAME=Foo Linux`: keep it.
      value += char;
    }
  }
  if (quote !== undefined) throw new InputError(`unterminated ${quote} quote`, where);
  return value;
}
