/**
 * Parses a dpkg status database (`/var/lib/dpkg/status`): RFC 822 stanzas, one per package, kept
 * only when the package's files are on disk, with `Source: name (version)` because Debian and
 * Ubuntu advisories are keyed by source package and source version.
 */
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import type { ParsedInventory } from './parsed-inventory.js';

/**
 * dpkg states (third word of `Status:`) in which the package's files are not on disk. Every other
 * state (`installed`, `unpacked`, `half-configured`, `half-installed`, `triggers-awaited`,
 * `triggers-pending`) leaves vulnerable code on the machine, so the package is kept: a missed
 * vulnerability costs more than a finding on a half-configured package.
 */
const ABSENT_STATES = new Set(['not-installed', 'config-files']);

/** The fields of one stanza that fleetpatch reads; everything else is only syntax-checked. */
interface Stanza {
  firstLine: number;
  name: string | undefined;
  version: string | undefined;
  status: string | undefined;
  architecture: string | undefined;
  source: string | undefined;
  sourceLine: number;
}

/**
 * Parses the status file. `sourceName` is set only when the stanza has a `Source:` field (dpkg
 * writes it only when the source differs from the binary); the matcher falls back to `name`.
 * A stanza without `Status:` (distroless images write `/var/lib/dpkg/status.d/*` files without
 * one) counts as installed.
 *
 * @example parseDpkgStatus('Package: libuuid1\nStatus: install ok installed\nVersion: 2.38.1-5+b1\nSource: util-linux (2.38.1-5)\n', 'status', 'Debian:12').packages[0]
 *   // { ecosystem: 'Debian:12', name: 'libuuid1', version: '2.38.1-5+b1', sourceName: 'util-linux', sourceVersion: '2.38.1-5' }
 */
export function parseDpkgStatus(text: string, fileName: string, ecosystem: string): ParsedInventory {
  const packages: InstalledPackage[] = [];
  let skipped = 0;
  const keptStates = new Map<string, number>();
  const lines = text.split('\n');
  let stanza: Stanza | undefined;
  let fieldStart = -1;

  const finish = (current: Stanza) => {
    const where = (field: string, line = current.firstLine) => ({ file: fileName, line, field });
    if (current.name === undefined || current.name === '') throw new InputError('package record without a Package field', where('Package'));
    const state = current.status === undefined ? 'installed' : stateOf(current.status, where('Status'));
    if (ABSENT_STATES.has(state)) {
      skipped++;
      return;
    }
    if (state !== 'installed') keptStates.set(state, (keptStates.get(state) ?? 0) + 1);
    if (current.version === undefined || current.version === '') throw new InputError(`package ${current.name} has no Version`, where('Version'));
    const pkg: InstalledPackage = { ecosystem, name: current.name, version: current.version };
    if (current.architecture) pkg.arch = current.architecture;
    if (current.source !== undefined) addSource(pkg, current.source, where('Source', current.sourceLine));
    packages.push(pkg);
  };

  for (let index = 0; index < lines.length; index++) {
    let line = lines[index]!;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    const first = line.charCodeAt(0);
    if (line.length === 0 || ((first === 32 || first === 9) && line.trim() === '')) {
      if (stanza) finish(stanza);
      stanza = undefined;
      fieldStart = -1;
      continue;
    }
    if (first === 32 || first === 9) {
      // Continuation of a multi-line field (Description, Conffiles); no field read here spans lines.
      if (fieldStart === -1) throw new InputError('continuation line outside a field', { file: fileName, line: index + 1 });
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      const previousField = fieldStart === -1 ? undefined : fieldNameAt(lines[fieldStart]!);
      throw new InputError(
        `expected "Field: value" or an indented continuation line, found ${JSON.stringify(line.slice(0, 60))}`,
        { file: fileName, line: index + 1, ...(previousField === undefined ? {} : { field: previousField }) },
        'continuation lines of a multi-line field start with a space',
      );
    }
    stanza ??= { firstLine: index + 1, name: undefined, version: undefined, status: undefined, architecture: undefined, source: undefined, sourceLine: 0 };
    fieldStart = index;
    readField(stanza, line, colon, index + 1);
  }
  if (stanza) finish(stanza);
  const warnings = [...keptStates].map(([state, count]) => `${count} package(s) in dpkg state "${state}" kept: their files are on disk`);
  return { packages, skipped, warnings };
}

/** Stores the value of the fields fleetpatch reads; compares by length first to stay cheap per line. */
function readField(stanza: Stanza, line: string, colon: number, lineNumber: number): void {
  switch (colon) {
    case 6:
      if (line.startsWith('Status')) stanza.status = line.slice(7).trim();
      else if (line.startsWith('Source')) {
        stanza.source = line.slice(7).trim();
        stanza.sourceLine = lineNumber;
      }
      return;
    case 7:
      if (line.startsWith('Package')) stanza.name = line.slice(8).trim();
      else if (line.startsWith('Version')) stanza.version = line.slice(8).trim();
      return;
    case 12:
      if (line.startsWith('Architecture')) stanza.architecture = line.slice(13).trim();
      return;
    default:
      return;
  }
}

function fieldNameAt(line: string): string {
  return line.slice(0, line.indexOf(':'));
}

/** `install ok installed` → `installed`; the want and error flags do not change what is on disk. */
function stateOf(status: string, where: { file: string; line: number; field: string }): string {
  const lastSpace = status.lastIndexOf(' ');
  if (lastSpace === -1) throw new InputError(`expected "want flag state", found ${JSON.stringify(status)}`, where);
  return status.slice(lastSpace + 1);
}

/** `util-linux` or `util-linux (2.38.1-5+deb12u3)`. */
function addSource(pkg: InstalledPackage, source: string, where: { file: string; line: number; field: string }): void {
  const space = source.indexOf(' ');
  if (space === -1) {
    if (source !== '') pkg.sourceName = source;
    return;
  }
  const sourceVersion = source.slice(space + 1).trim();
  if (!sourceVersion.startsWith('(') || !sourceVersion.endsWith(')') || sourceVersion.length < 3) {
    throw new InputError(`expected "name" or "name (version)", found ${JSON.stringify(source)}`, where);
  }
  pkg.sourceName = source.slice(0, space);
  pkg.sourceVersion = sourceVersion.slice(1, -1).trim();
}
