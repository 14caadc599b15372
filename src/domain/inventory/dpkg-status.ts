/**
 * Parses a dpkg status database (`/var/lib/dpkg/status`): RFC 822 stanzas, one per package. Only
 * packages whose `Status` is `install ok installed` count; `Source: name (version)` is kept because
 * Debian and Ubuntu advisories are keyed by source package.
 */
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import type { ParsedInventory } from './parsed-inventory.js';

interface Stanza {
  line: number;
  fields: Map<string, string>;
}

/**
 * @example parseDpkgStatus(text, '/var/lib/dpkg/status', 'Debian:12').packages[0]
 *   // { ecosystem: 'Debian:12', name: 'bash', version: '5.2.15-2+b2', arch: 'amd64', sourceName: 'bash', sourceVersion: '5.2.15-2' }
 */
export function parseDpkgStatus(text: string, fileName: string, ecosystem: string): ParsedInventory {
  const packages: InstalledPackage[] = [];
  let skipped = 0;
  for (const stanza of stanzas(text, fileName)) {
    const where = (field: string) => ({ file: fileName, line: stanza.line, field });
    const name = stanza.fields.get('Package');
    if (!name) throw new InputError('package record without a Package field', where('Package'));
    const status = stanza.fields.get('Status');
    if (status !== undefined && status.trim().split(/\s+/)[2] !== 'installed') {
      skipped++;
      continue;
    }
    const version = stanza.fields.get('Version');
    if (!version) throw new InputError(`package ${name} has no Version`, where('Version'));
    const pkg: InstalledPackage = { ecosystem, name, version };
    const arch = stanza.fields.get('Architecture');
    if (arch) pkg.arch = arch;
    const source = stanza.fields.get('Source');
    if (source) {
      const match = /^(\S+)(?:\s+\(([^)]+)\))?$/.exec(source.trim());
      if (!match) throw new InputError(`malformed Source ${JSON.stringify(source)}`, where('Source'));
      pkg.sourceName = match[1]!;
      if (match[2] !== undefined) pkg.sourceVersion = match[2].trim();
    }
    packages.push(pkg);
  }
  return { packages, skipped, warnings: [] };
}

function* stanzas(text: string, fileName: string): Generator<Stanza> {
  const lines = text.split('\n');
  let current: Stanza | undefined;
  let lastField: string | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.replace(/\r$/, '');
    if (line.trim() === '') {
      if (current) yield current;
      current = undefined;
      lastField = undefined;
      continue;
    }
    const first = line.charCodeAt(0);
    if (first === 32 || first === 9) {
      if (!current || lastField === undefined) throw new InputError('continuation line outside a field', { file: fileName, line: index + 1 });
      // Multi-line fields (Description, Conffiles) are not needed beyond their first line.
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw new InputError(`expected "Field: value", found ${JSON.stringify(line.slice(0, 60))}`, { file: fileName, line: index + 1 });
    current ??= { line: index + 1, fields: new Map() };
    lastField = line.slice(0, colon);
    current.fields.set(lastField, line.slice(colon + 1).trim());
  }
  if (current) yield current;
}
