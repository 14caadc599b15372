/**
 * Parses a Go module file (`go.mod`) into the Go modules it requires, with `replace` directives
 * applied because the replacement is what gets built. `// indirect` requirements count like any
 * other: they are compiled in just the same.
 */
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import type { ParsedInventory } from './parsed-inventory.js';

interface Replacement {
  /** Only this version is replaced; undefined replaces every version. */
  fromVersion: string | undefined;
  /** undefined when the replacement is a local directory (not a module from the proxy). */
  to: { path: string; version: string } | undefined;
}

/**
 * Versions lose their `v` (OSV writes Go versions without it). The `go` and `toolchain` directives
 * are not reported: they name the minimum language version, not the toolchain that built the binary.
 *
 * @example parseGoMod('module x\n\nrequire golang.org/x/net v0.17.0 // indirect\n', 'go.mod').packages
 *   // [{ ecosystem: 'Go', name: 'golang.org/x/net', version: '0.17.0' }]
 */
export function parseGoMod(text: string, fileName: string): ParsedInventory {
  const required: Array<{ path: string; version: string }> = [];
  const replacements = new Map<string, Replacement[]>();
  const lines = text.split('\n');
  let block: { directive: string; line: number } | undefined;
  for (let index = 0; index < lines.length; index++) {
    const line = stripComment(lines[index]!).trim();
    if (line === '') continue;
    const where = { file: fileName, line: index + 1 };
    let directive: string;
    let argument: string;
    if (block) {
      if (line === ')') {
        block = undefined;
        continue;
      }
      directive = block.directive;
      argument = line;
    } else {
      const space = line.search(/[\s(]/);
      directive = space === -1 ? line : line.slice(0, space);
      argument = space === -1 ? '' : line.slice(space).trim();
      if (argument === '(') {
        block = { directive, line: index + 1 };
        continue;
      }
    }
    if (directive === 'require') required.push(requirement(argument, { ...where, field: 'require' }));
    else if (directive === 'replace') addReplacement(replacements, argument, { ...where, field: 'replace' });
  }
  if (block) throw new InputError(`the ${block.directive} block is never closed with ")"`, { file: fileName, line: block.line, field: block.directive });

  const packages: InstalledPackage[] = [];
  const local: string[] = [];
  for (const module of required) {
    // A replacement of this exact version wins over one for every version, as in the go command.
    const candidates = replacements.get(module.path) ?? [];
    const replacement = candidates.find((candidate) => candidate.fromVersion === module.version) ?? candidates.find((candidate) => candidate.fromVersion === undefined);
    const built = replacement === undefined ? module : replacement.to;
    if (built === undefined) local.push(module.path);
    else packages.push({ ecosystem: 'Go', name: built.path, version: built.version.slice(1) });
  }
  const warnings = local.length > 0 ? [`${local.length} module(s) replaced by a local directory skipped: ${local.join(', ')}`] : [];
  return { packages, skipped: local.length, warnings };
}

/** `golang.org/x/net v0.17.0` (quoted paths allowed). */
function requirement(argument: string, where: { file: string; line: number; field: string }): { path: string; version: string } {
  const words = argument.split(/\s+/).map(unquote);
  const [path, version] = words;
  if (words.length !== 2 || !path || !version || !isModuleVersion(version)) {
    throw new InputError(`expected "module/path vX.Y.Z", found ${JSON.stringify(argument)}`, where);
  }
  return { path, version };
}

/** `old [vX] => new vY` or `old [vX] => ../local/dir`. */
function addReplacement(replacements: Map<string, Replacement[]>, argument: string, where: { file: string; line: number; field: string }): void {
  const arrow = argument.indexOf('=>');
  const from = arrow === -1 ? [] : argument.slice(0, arrow).trim().split(/\s+/).map(unquote);
  const to = arrow === -1 ? [] : argument.slice(arrow + 2).trim().split(/\s+/).map(unquote);
  const fromPath = from[0];
  const fromVersion = from[1];
  const toPath = to[0];
  const toVersion = to[1];
  const valid =
    fromPath !== undefined && fromPath !== '' && from.length <= 2 && (fromVersion === undefined || isModuleVersion(fromVersion)) &&
    toPath !== undefined && toPath !== '' && to.length <= 2 && (toVersion === undefined ? isLocalPath(toPath) : isModuleVersion(toVersion));
  if (!valid) throw new InputError(`expected "module [vX] => module vY" or "module [vX] => ./dir", found ${JSON.stringify(argument)}`, where);
  const list = replacements.get(fromPath) ?? [];
  list.push({ fromVersion, to: toVersion === undefined ? undefined : { path: toPath, version: toVersion } });
  replacements.set(fromPath, list);
}

function isModuleVersion(version: string): boolean {
  return /^v\d+\.\d+\.\d+/.test(version);
}

function isLocalPath(path: string): boolean {
  return path.startsWith('./') || path.startsWith('../') || path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path) || path === '.' || path === '..';
}

function unquote(word: string): string {
  return word.length >= 2 && (word.startsWith('"') || word.startsWith('`')) && word.endsWith(word[0]!) ? word.slice(1, -1) : word;
}

function stripComment(line: string): string {
  const comment = line.indexOf('//');
  return comment === -1 ? line : line.slice(0, comment);
}
