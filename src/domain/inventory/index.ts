/**
 * The inventory stage's entry point: parses any supported inventory format, detecting it from the
 * content when asked to. OS package databases carry no distribution, so they need the host's OSV
 * ecosystem; SBOMs and lockfiles carry their own.
 */
import { InputError } from '../errors.js';
import { parseApkInstalled } from './apk-installed.js';
import { parseDpkgStatus } from './dpkg-status.js';
import { parseGoMod, parseNpmLock, parsePipfileLock } from './lockfiles.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { parseRpmQa } from './rpm-qa.js';
import { looksLikeCycloneDx, looksLikeSpdx, parseCycloneDx, parseSpdx } from './sbom.js';

export const INVENTORY_FORMATS = ['dpkg-status', 'rpm', 'apk', 'cyclonedx', 'spdx', 'npm-lock', 'pipfile-lock', 'go-mod'] as const;
export type InventoryFormat = (typeof INVENTORY_FORMATS)[number];

const OS_FORMATS: ReadonlySet<InventoryFormat> = new Set(['dpkg-status', 'rpm', 'apk']);

export interface InventoryInput {
  text: string;
  fileName: string;
  format: InventoryFormat | 'auto';
  /** OSV ecosystem of the host's OS packages, e.g. `Debian:12`; required for dpkg, rpm and apk. */
  osEcosystem?: string;
}

export interface ParsedInventoryWithFormat extends ParsedInventory {
  format: InventoryFormat;
}

/**
 * @example parseInventory({ text, fileName: 'status', format: 'auto', osEcosystem: 'Debian:12' })
 */
export function parseInventory(input: InventoryInput): ParsedInventoryWithFormat {
  const format = input.format === 'auto' ? detectFormat(input.text, input.fileName) : input.format;
  if (OS_FORMATS.has(format) && !input.osEcosystem) {
    throw new InputError(`a ${format} package list does not say which distribution it comes from`, { file: input.fileName }, 'give --os-release FILE or --distro debian:12 (ubuntu:22.04, alpine:3.18, almalinux:9, …)');
  }
  const ecosystem = input.osEcosystem ?? '';
  const parsers: Record<InventoryFormat, () => ParsedInventory> = {
    'dpkg-status': () => parseDpkgStatus(input.text, input.fileName, ecosystem),
    rpm: () => parseRpmQa(input.text, input.fileName, ecosystem),
    apk: () => parseApkInstalled(input.text, input.fileName, ecosystem),
    cyclonedx: () => parseCycloneDx(input.text, input.fileName),
    spdx: () => parseSpdx(input.text, input.fileName),
    'npm-lock': () => parseNpmLock(input.text, input.fileName),
    'pipfile-lock': () => parsePipfileLock(input.text, input.fileName),
    'go-mod': () => parseGoMod(input.text, input.fileName),
  };
  return { format, ...parsers[format]() };
}

/** Recognises a format by file name first (lockfiles), then by content. */
export function detectFormat(text: string, fileName: string): InventoryFormat {
  const base = fileName.split('/').pop() ?? fileName;
  if (base.endsWith('package-lock.json')) return 'npm-lock';
  if (base.endsWith('Pipfile.lock')) return 'pipfile-lock';
  if (base.endsWith('go.mod')) return 'go-mod';
  const head = text.slice(0, 4096);
  if (looksLikeCycloneDx(head)) return 'cyclonedx';
  if (looksLikeSpdx(head)) return 'spdx';
  if (/^Package: /m.test(head)) return 'dpkg-status';
  if (/^P:/m.test(head) && /^V:/m.test(head)) return 'apk';
  const firstLine = head.split('\n').find((line) => line.trim() !== '') ?? '';
  if (firstLine.split('\t').length === 6 || /^[A-Za-z0-9_.+-]+-[^-\s]+-[^-\s]+(\.[a-z0-9_]+)?$/.test(firstLine.trim())) return 'rpm';
  throw new InputError('cannot tell the inventory format from its content', { file: fileName }, `give --format (${INVENTORY_FORMATS.join(', ')})`);
}
