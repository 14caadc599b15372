/**
 * A host's inventory from the texts an executor read on it (over SSH: its os-release, its package
 * database, its running kernel): an agentless host is parsed by the same parsers, into the same
 * inventory, as an agent's `--root`.
 */
import { InputError } from '../errors.js';
import type { HostInventory } from '../types.js';
import { parseInventory } from './index.js';
import { isKernelPackage } from './kernel.js';
import { osvEcosystemFor } from './os-ecosystem.js';
import { parseOsRelease } from './os-release.js';
import { versionSchemeFor } from './version-scheme.js';

export interface HostTexts {
  hostname: string;
  osRelease: string;
  packageDatabase: { format: 'dpkg-status' | 'apk' | 'rpm'; text: string };
  runningKernel?: string | undefined;
  rebootRequired: boolean;
}

/**
 * @example hostInventoryFromTexts({ hostname: 'db-1', osRelease, packageDatabase: { format: 'dpkg-status', text }, rebootRequired: false }, { role: 'postgres' }).packages.length // 412
 */
export function hostInventoryFromTexts(texts: HostTexts, labels: Readonly<Record<string, string>>): HostInventory {
  const source = `${texts.hostname}: /etc/os-release`;
  const os = parseOsRelease(texts.osRelease, source);
  const osEcosystem = osvEcosystemFor(os);
  if (!osEcosystem) throw new InputError(`${texts.hostname} runs ${os.id} ${os.versionId ?? ''}, which no advisory ecosystem covers`.trim(), { file: source });
  const parsed = parseInventory({ text: texts.packageDatabase.text, fileName: `${texts.hostname}: ${texts.packageDatabase.format}`, format: texts.packageDatabase.format, osEcosystem });
  const scheme = versionSchemeFor(osEcosystem);
  const arch = parsed.packages.find((pkg) => pkg.arch && pkg.arch !== 'all' && pkg.arch !== 'noarch')?.arch;
  return {
    hostname: texts.hostname,
    os,
    osEcosystem,
    packages: parsed.packages,
    kernel: { installed: scheme ? parsed.packages.filter((pkg) => isKernelPackage(pkg, scheme)) : [], ...(texts.runningKernel ? { running: texts.runningKernel } : {}) },
    rebootRequired: texts.rebootRequired,
    labels: { ...labels },
    ...(arch ? { arch } : {}),
  };
}
