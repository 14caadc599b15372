/**
 * Reads an inventory file named on the command line into a `HostInventory`: the format, the
 * distribution (from `--os-release` or `--distro`) and the kernel facts the file cannot carry.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../domain/errors.js';
import { textProblem } from '../domain/well-formed-text.js';
import { INVENTORY_FORMATS, parseInventory, type InventoryFormat } from '../domain/inventory/index.js';
import { isKernelPackage } from '../domain/inventory/kernel.js';
import { osReleaseFromDistro, osvEcosystemFor } from '../domain/inventory/os-ecosystem.js';
import { parseOsRelease } from '../domain/inventory/os-release.js';
import { versionSchemeFor } from '../domain/inventory/version-scheme.js';
import type { HostInventory, OsRelease } from '../domain/types.js';

export interface InventoryFileOptions {
  format: string;
  osRelease?: string;
  distro?: string;
  runningKernel?: string;
  rebootRequired?: boolean;
  label?: string[];
}

export async function readInventoryFile(path: string, hostname: string, options: InventoryFileOptions): Promise<{ inventory: HostInventory; format: InventoryFormat; warnings: string[] }> {
  const format = parseFormat(options.format);
  const os = await osReleaseOf(options);
  const osEcosystem = os ? osvEcosystemFor(os) : undefined;
  if (os && !osEcosystem) throw new InputError(`fleetpatch has no advisory ecosystem for ${os.id} ${os.versionId ?? ''}`.trim(), { field: options.distro ? '--distro' : '--os-release' });
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read the inventory: ${error.code ?? error.message}`, { file: path });
  });
  const parsed = parseInventory({ text, fileName: path, format, ...(osEcosystem ? { osEcosystem } : {}) });
  const scheme = osEcosystem ? versionSchemeFor(osEcosystem) : undefined;
  const inventory: HostInventory = {
    hostname,
    packages: parsed.packages,
    kernel: {
      installed: scheme ? parsed.packages.filter((pkg) => isKernelPackage(pkg, scheme)) : [],
      ...(options.runningKernel ? { running: options.runningKernel } : {}),
    },
    rebootRequired: options.rebootRequired ?? false,
    labels: parseLabels(options.label ?? []),
  };
  if (os) inventory.os = os;
  if (osEcosystem) inventory.osEcosystem = osEcosystem;
  const warnings = [...parsed.warnings];
  if (parsed.skipped > 0) warnings.push(`${parsed.skipped} record(s) skipped (not installed, or no usable package URL)`);
  return { inventory, format: parsed.format, warnings };
}

function parseFormat(value: string): InventoryFormat | 'auto' {
  if (value === 'auto' || (INVENTORY_FORMATS as readonly string[]).includes(value)) return value as InventoryFormat | 'auto';
  throw new InputError(`unknown format ${JSON.stringify(value)}`, { field: '--format' }, `choose auto or one of ${INVENTORY_FORMATS.join(', ')}`);
}

async function osReleaseOf(options: InventoryFileOptions): Promise<OsRelease | undefined> {
  if (options.osRelease && options.distro) throw new InputError('give either --os-release or --distro, not both');
  if (options.distro) {
    const os = osReleaseFromDistro(options.distro);
    if (!os) throw new InputError(`cannot read ${JSON.stringify(options.distro)}`, { field: '--distro' }, 'write it as name:version, e.g. debian:12, ubuntu:22.04, alpine:3.18, almalinux:9');
    return os;
  }
  if (options.osRelease) {
    const path = options.osRelease;
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new InputError(`cannot read: ${error.code ?? error.message}`, { file: path });
    });
    return parseOsRelease(text, path);
  }
  return undefined;
}

export function parseLabels(labels: string[]): Record<string, string> {
  const parsed: Record<string, string> = {};
  for (const label of labels) {
    const equals = label.indexOf('=');
    if (equals <= 0) throw new InputError(`expected key=value, found ${JSON.stringify(label)}`, { field: '--label' });
    const problem = textProblem(label);
    if (problem) throw new InputError(`label ${problem}`, { field: '--label' });
    parsed[label.slice(0, equals)] = label.slice(equals + 1);
  }
  return parsed;
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
