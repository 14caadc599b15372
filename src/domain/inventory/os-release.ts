/** Parses `/etc/os-release` (systemd's format: shell-style `KEY=value` lines) into an `OsRelease`. */
import { InputError } from '../errors.js';
import type { OsRelease } from '../types.js';

/**
 * @example parseOsRelease('ID=debian\nVERSION_ID="12"\n', 'os-release') // { id: 'debian', versionId: '12', idLike: [] }
 */
export function parseOsRelease(text: string, fileName: string): OsRelease {
  const fields = new Map<string, string>();
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new InputError('expected KEY=value', { file: fileName, line: index + 1 });
    fields.set(match[1]!, unquote(match[2]!));
  });
  const id = fields.get('ID');
  if (!id) throw new InputError('no ID field', { file: fileName, field: 'ID' });
  const release: OsRelease = { id: id.toLowerCase(), idLike: (fields.get('ID_LIKE') ?? '').split(/\s+/).filter(Boolean) };
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

function unquote(value: string): string {
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.endsWith(quote) && value.length >= 2) {
    const inner = value.slice(1, -1);
    return quote === '"' ? inner.replace(/\\([$"`\\])/g, '$1') : inner;
  }
  return value;
}
