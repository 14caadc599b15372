/**
 * Parses Alpine's installed-package database (`/lib/apk/db/installed`): blank-line separated records
 * of `X:value` lines. `P` name, `V` version, `A` arch, `o` origin, which becomes `sourceName`
 * because Alpine advisories (secdb) are keyed by origin: `libcrypto1.1` belongs to `openssl`.
 */
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import { versionProblem } from '../versions/index.js';
import type { ParsedInventory } from './parsed-inventory.js';

/**
 * Every other one-letter field (F, R, Z, a, M, C, D, …) is accepted and ignored; file lists repeat
 * F/R/Z per file, so only the first P/V/A/o of a record counts.
 *
 * @example parseApkInstalled('P:libcrypto1.1\nV:1.1.1d-r3\nA:x86_64\no:openssl\n', 'installed', 'Alpine:v3.11').packages[0]
 *   // { ecosystem: 'Alpine:v3.11', name: 'libcrypto1.1', version: '1.1.1d-r3', arch: 'x86_64', sourceName: 'openssl' }
 */
export function parseApkInstalled(text: string, fileName: string, ecosystem: string): ParsedInventory {
  const packages: InstalledPackage[] = [];
  const lines = text.split('\n');
  let recordLine = 0;
  let name: string | undefined;
  let version: string | undefined;
  let versionLine = 0;
  let arch: string | undefined;
  let origin: string | undefined;

  const finish = () => {
    if (recordLine === 0) return;
    if (name === undefined || name === '') throw new InputError('package record without a name', { file: fileName, line: recordLine, field: 'P' });
    if (version === undefined || version === '') throw new InputError(`package ${name} has no version`, { file: fileName, line: recordLine, field: 'V' });
    const problem = versionProblem('apk', version);
    if (problem !== undefined) throw new InputError(`package ${name}: ${problem}`, { file: fileName, line: versionLine, field: 'V' });
    const pkg: InstalledPackage = { ecosystem, name, version };
    if (arch) pkg.arch = arch;
    if (origin) pkg.sourceName = origin;
    packages.push(pkg);
    recordLine = 0;
    name = version = arch = origin = undefined;
  };

  for (let index = 0; index < lines.length; index++) {
    let line = lines[index]!;
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    if (line.length === 0) {
      finish();
      continue;
    }
    if (line.length < 2 || line.charCodeAt(1) !== 58 /* : */ || !isAsciiLetter(line.charCodeAt(0))) {
      throw new InputError(`expected "X:value", found ${JSON.stringify(line.slice(0, 60))}`, { file: fileName, line: index + 1 });
    }
    if (recordLine === 0) recordLine = index + 1;
    switch (line[0]) {
      case 'P':
        name ??= line.slice(2);
        break;
      case 'V':
        if (version === undefined) {
          version = line.slice(2);
          versionLine = index + 1;
        }
        break;
      case 'A':
        arch ??= line.slice(2);
        break;
      case 'o':
        origin ??= line.slice(2);
        break;
      default:
        break;
    }
  }
  finish();
  return { packages, skipped: 0, warnings: [] };
}

function isAsciiLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}
