/**
 * Recognises an inventory's format: lockfiles by their conventional file names, everything else by
 * its first lines, so `--format auto` works on files with any name.
 */
import { InputError } from '../errors.js';
import { looksLikeCycloneDx } from './cyclonedx.js';
import { INVENTORY_FORMATS, type InventoryFormat } from './inventory-format.js';
import { looksLikeSpdx } from './spdx.js';

/** Enough to see the top-level keys of an SBOM or lockfile and the first record of a package database. */
const HEAD_LENGTH = 8192;

/**
 * @example detectFormat('Package: bash\nStatus: install ok installed\n', 'status') // 'dpkg-status'
 * @example detectFormat('{…}', 'app/package-lock.json') // 'npm-lock'
 */
export function detectFormat(text: string, fileName: string): InventoryFormat {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  if (base.endsWith('package-lock.json') || base === 'npm-shrinkwrap.json') return 'npm-lock';
  if (base.endsWith('Pipfile.lock')) return 'pipfile-lock';
  if (base.endsWith('go.mod')) return 'go-mod';

  const head = text.slice(0, HEAD_LENGTH).replace(/^\uFEFF/, '');
  if (head.trimStart().startsWith('{')) {
    if (looksLikeCycloneDx(head)) return 'cyclonedx';
    if (looksLikeSpdx(head)) return 'spdx';
    if (/"lockfileVersion"\s*:/.test(head)) return 'npm-lock';
    if (/"pipfile-spec"\s*:/.test(head)) return 'pipfile-lock';
  }
  const lines = head.split('\n', 64).map((line) => line.replace(/\r$/, ''));
  const firstLine = lines.find((line) => line.trim() !== '' && !line.startsWith('//')) ?? '';
  if (/^module\s+\S/.test(firstLine)) return 'go-mod';
  if (/^[A-Z][A-Za-z0-9-]*: /.test(firstLine) && lines.some((line) => line.startsWith('Package: '))) return 'dpkg-status';
  if (/^[A-Za-z]:/.test(firstLine) && lines.some((line) => line.startsWith('P:'))) return 'apk';
  if (firstLine.split('\t').length === 6 || /^[^\s-][^\s]*-[^\s-]+-[^\s-]+$/.test(firstLine.trim())) return 'rpm';
  throw new InputError('cannot tell the inventory format from its file name or content', { file: fileName }, `give --format (${INVENTORY_FORMATS.join(', ')})`);
}
