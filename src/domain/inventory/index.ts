/**
 * The inventory stage's entry point: parses any supported inventory format, detecting it when
 * asked to. OS package databases carry no distribution, so they need the host's OSV ecosystem;
 * SBOMs and lockfiles carry their own.
 */
import { InputError } from '../errors.js';
import { parseApkInstalled } from './apk-installed.js';
import { parseCycloneDx } from './cyclonedx.js';
import { detectFormat } from './detect-format.js';
import { parseDpkgStatus } from './dpkg-status.js';
import { parseGoMod } from './go-mod.js';
import { OS_FORMATS, type InventoryFormat } from './inventory-format.js';
import { parseNpmLock } from './npm-lock.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { parsePipfileLock } from './pipfile-lock.js';
import { parseRpmQa } from './rpm-qa.js';
import { parseSpdx } from './spdx.js';
import { checkInventoryText, checkPackageText } from './well-formed-inventory.js';

export { detectFormat } from './detect-format.js';
export { parseDistroFlag } from './distro-flag.js';
export { INVENTORY_FORMATS, type InventoryFormat } from './inventory-format.js';
export type { ParsedInventory } from './parsed-inventory.js';

export interface InventoryInput {
  text: string;
  /** Named in error messages; also decides the format of lockfiles under `auto`. */
  fileName: string;
  format: InventoryFormat | 'auto';
  /**
   * OSV ecosystem of the host's OS packages, e.g. `Debian:12`: required for dpkg, rpm and apk;
   * for SBOMs, the release of OS purls that name none.
   */
  osEcosystem?: string;
}

export interface ParsedInventoryWithFormat extends ParsedInventory {
  format: InventoryFormat;
}

/**
 * @example parseInventory({ text, fileName: '/var/lib/dpkg/status', format: 'auto', osEcosystem: 'Debian:12' })
 *   // { format: 'dpkg-status', packages: [...], skipped: 0, warnings: [] }
 */
export function parseInventory(input: InventoryInput): ParsedInventoryWithFormat {
  const { text, fileName, osEcosystem } = input;
  checkInventoryText(text, fileName);
  const format = input.format === 'auto' ? detectFormat(text, fileName) : input.format;
  if (OS_FORMATS.has(format) && !osEcosystem) {
    throw new InputError(
      `a ${format} package list does not say which distribution it comes from`,
      { file: fileName },
      'give --os-release FILE or --distro debian:12 (ubuntu:22.04, alpine:3.18, almalinux:9, …)',
    );
  }
  const parse: Record<InventoryFormat, () => ParsedInventory> = {
    'dpkg-status': () => parseDpkgStatus(text, fileName, osEcosystem!),
    rpm: () => parseRpmQa(text, fileName, osEcosystem!),
    apk: () => parseApkInstalled(text, fileName, osEcosystem!),
    cyclonedx: () => parseCycloneDx(text, fileName, osEcosystem),
    spdx: () => parseSpdx(text, fileName, osEcosystem),
    'npm-lock': () => parseNpmLock(text, fileName),
    'pipfile-lock': () => parsePipfileLock(text, fileName),
    'go-mod': () => parseGoMod(text, fileName),
  };
  const parsed = parse[format]();
  checkPackageText(parsed.packages, fileName);
  return { format, ...parsed };
}
