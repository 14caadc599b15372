/**
 * Parses a dpkg status database (`/var/lib/dpkg/status`): RFC 822 stanzas, one per package, kept
 * only when the package's files are on disk, with `Source: name (version)` because Debian and
 * Ubuntu advisories are keyed by source package and source version.
 */
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import { versionProblem } from '../versions/index.js';
import type { ParsedInventory } from './parsed-inventory.js';

/**
 * dpkg states (third word of `Status:`) in which the package's files are not on disk. Every other
 * state (`installed`, `unpacked`, `half-configured`, `half-installed`, `triggers-awaited`,
 * `triggers-pending`) leaves vulnerable code on the machine, so the package is kept: a missed
 * vulnerability costs more than a finding on a half-configured package.
 */
const ABSENT_STATES = new Set(['not-installed', 'config-files']);

interface Tally {
  packages: InstalledPackage[];
  skipped: number;
  /** Kept packages in a state other than `installed`, by state, for a warning. */
  keptStates: Map<string, number>;
}

/** The fields of one stanza that fleetpatch reads; everything else is only syntax-checked. */
interface Stanza {
  firstLine: number;
  name: string | undefined;
  version: string | undefined;
  status: string | undefined;
  architecture: string | undefined;
  source: string | undefined;
  sourceLine: number;
  versionLine: number;
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
  const tally: Tally = { packages: [], skipped: 0, keptStates: new Map() };
  let stanza: Stanza | undefined;
  // Offset of the field line that continuation lines continue; -1 between stanzas.
  let fieldStart = -1;
  let lineNumber = 0;

  // Walks line offsets instead of splitting: most of a status file is Description and Conffiles
  // continuation lines, which are recognised by their first character and never copied.
  for (let position = 0; position < text.length; ) {
    const newline = text.indexOf('\n', position);
    const next = newline === -1 ? text.length : newline + 1;
    let lineEnd = newline === -1 ? text.length : newline;
    if (lineEnd > position && text.charCodeAt(lineEnd - 1) === 13) lineEnd--;
    lineNumber++;
    const first = text.charCodeAt(position);
    const indented = first === 32 || first === 9;
    if (lineEnd === position || (indented && isBlank(text, position, lineEnd))) {
      if (stanza) finishStanza(stanza, fileName, ecosystem, tally);
      stanza = undefined;
      fieldStart = -1;
    } else if (indented) {
      // Continuation of a multi-line field (Description, Conffiles); no field read here spans lines.
      if (fieldStart === -1) throw new InputError('continuation line outside a field', { file: fileName, line: lineNumber });
    } else {
      const colon = text.indexOf(':', position);
      if (colon <= position || colon >= lineEnd) {
        const previousField = fieldStart === -1 ? undefined : text.slice(fieldStart, text.indexOf(':', fieldStart));
        throw new InputError(
          `expected "Field: value" or an indented continuation line, found ${JSON.stringify(text.slice(position, Math.min(lineEnd, position + 60)))}`,
          { file: fileName, line: lineNumber, ...(previousField === undefined ? {} : { field: previousField }) },
          'continuation lines of a multi-line field start with a space',
        );
      }
      stanza ??= { firstLine: lineNumber, name: undefined, version: undefined, status: undefined, architecture: undefined, source: undefined, sourceLine: 0, versionLine: 0 };
      fieldStart = position;
      readField(stanza, text, position, colon, lineEnd, lineNumber);
    }
    position = next;
  }
  if (stanza) finishStanza(stanza, fileName, ecosystem, tally);
  const warnings = [...tally.keptStates].map(([state, count]) => `${count} package(s) in dpkg state "${state}" kept: their files are on disk`);
  return { packages: tally.packages, skipped: tally.skipped, warnings };
}

/**
 * Module-level functions rather than closures in the per-line and per-stanza paths: closures cost
 * an allocation each, and more under tsx, which the benchmark runs with.
 */
function finishStanza(stanza: Stanza, fileName: string, ecosystem: string, tally: Tally): void {
  if (stanza.name === undefined || stanza.name === '') throw new InputError('package record without a Package field', { file: fileName, line: stanza.firstLine, field: 'Package' });
  const state = stanza.status === undefined ? 'installed' : stateOf(stanza.status, { file: fileName, line: stanza.firstLine, field: 'Status' });
  if (ABSENT_STATES.has(state)) {
    tally.skipped++;
    return;
  }
  if (state !== 'installed') tally.keptStates.set(state, (tally.keptStates.get(state) ?? 0) + 1);
  if (stanza.version === undefined || stanza.version === '') throw new InputError(`package ${stanza.name} has no Version`, { file: fileName, line: stanza.firstLine, field: 'Version' });
  const problem = versionProblem('dpkg', stanza.version);
  if (problem !== undefined) throw new InputError(`package ${stanza.name}: ${problem}`, { file: fileName, line: stanza.versionLine, field: 'Version' });
  const pkg: InstalledPackage = { ecosystem, name: stanza.name, version: stanza.version };
  if (stanza.architecture) pkg.arch = stanza.architecture;
  if (stanza.source !== undefined) addSource(pkg, stanza.source, { file: fileName, line: stanza.sourceLine, field: 'Source' });
  tally.packages.push(pkg);
}

/** Stores the value of the fields fleetpatch reads; compares the name's length first to stay cheap per line. */
function readField(stanza: Stanza, text: string, start: number, colon: number, lineEnd: number, lineNumber: number): void {
  switch (colon - start) {
    case 6:
      if (text.startsWith('Status', start)) stanza.status = fieldValue(text, colon, lineEnd);
      else if (text.startsWith('Source', start)) {
        stanza.source = fieldValue(text, colon, lineEnd);
        stanza.sourceLine = lineNumber;
      }
      return;
    case 7:
      if (text.startsWith('Package', start)) stanza.name = fieldValue(text, colon, lineEnd);
      else if (text.startsWith('Version', start)) {
        stanza.version = fieldValue(text, colon, lineEnd);
        stanza.versionLine = lineNumber;
      }
      return;
    case 12:
      if (text.startsWith('Architecture', start)) stanza.architecture = fieldValue(text, colon, lineEnd);
      return;
    default:
      return;
  }
}

function fieldValue(text: string, colon: number, lineEnd: number): string {
  return text.slice(colon + 1, lineEnd).trim();
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index);
    if (code !== 32 && code !== 9) return false;
  }
  return true;
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
  const problem = versionProblem('dpkg', pkg.sourceVersion);
  if (problem !== undefined) throw new InputError(`source of package ${pkg.name}: ${problem}`, where);
}
