/**
 * Parses language lockfiles into packages of their OSV ecosystem: npm `package-lock.json`
 * (v1–v3), Pipenv `Pipfile.lock`, and Go `go.mod`.
 */
import { z } from 'zod';
import { InputError } from '../errors.js';
import type { InstalledPackage } from '../types.js';
import type { ParsedInventory } from './parsed-inventory.js';
import { inputErrorFromZod } from './zod-issue.js';

function parseJson(text: string, fileName: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(`not valid JSON: ${(error as Error).message}`, { file: fileName });
  }
}

interface NpmV1Dependency {
  version?: string | undefined;
  dependencies?: Record<string, NpmV1Dependency> | undefined;
}

const npmV1Dependency: z.ZodType<NpmV1Dependency> = z.lazy(() =>
  z.object({ version: z.string().optional(), dependencies: z.record(z.string(), npmV1Dependency).optional() }),
);

const npmLock = z.object({
  lockfileVersion: z.number().int().optional(),
  packages: z.record(z.string(), z.object({ version: z.string().optional(), link: z.boolean().optional() })).optional(),
  dependencies: z.record(z.string(), npmV1Dependency).optional(),
});

/** @example parseNpmLock(text, 'package-lock.json').packages[0] // { ecosystem: 'npm', name: 'ms', version: '2.1.3' } */
export function parseNpmLock(text: string, fileName: string): ParsedInventory {
  const result = npmLock.safeParse(parseJson(text, fileName));
  if (!result.success) throw inputErrorFromZod(result.error, fileName);
  const seen = new Map<string, InstalledPackage>();
  const add = (name: string, version: string | undefined) => {
    if (!version || version.startsWith('file:') || version.startsWith('link:')) return;
    seen.set(`${name}@${version}`, { ecosystem: 'npm', name, version });
  };
  if (result.data.packages) {
    for (const [path, entry] of Object.entries(result.data.packages)) {
      if (path === '' || entry.link) continue;
      add(path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length), entry.version);
    }
  } else {
    const walk = (dependencies: Record<string, NpmV1Dependency>) => {
      for (const [name, dependency] of Object.entries(dependencies)) {
        add(name, dependency.version);
        if (dependency.dependencies) walk(dependency.dependencies);
      }
    };
    walk(result.data.dependencies ?? {});
  }
  return { packages: [...seen.values()], skipped: 0, warnings: [] };
}

const pipfileLock = z.object({
  default: z.record(z.string(), z.object({ version: z.string().optional() })).default({}),
  develop: z.record(z.string(), z.object({ version: z.string().optional() })).default({}),
});

/** @example parsePipfileLock(text, 'Pipfile.lock') */
export function parsePipfileLock(text: string, fileName: string): ParsedInventory {
  const result = pipfileLock.safeParse(parseJson(text, fileName));
  if (!result.success) throw inputErrorFromZod(result.error, fileName);
  const packages: InstalledPackage[] = [];
  let skipped = 0;
  for (const section of [result.data.default, result.data.develop]) {
    for (const [name, entry] of Object.entries(section)) {
      // Only pinned versions (`==1.2.3`) say what is installed.
      if (entry.version?.startsWith('==')) packages.push({ ecosystem: 'PyPI', name: name.toLowerCase().replace(/[-_.]+/g, '-'), version: entry.version.slice(2) });
      else skipped++;
    }
  }
  return { packages, skipped, warnings: [] };
}

/** @example parseGoMod('module x\nrequire golang.org/x/net v0.17.0\n', 'go.mod') */
export function parseGoMod(text: string, fileName: string): ParsedInventory {
  const packages: InstalledPackage[] = [];
  let inRequireBlock = false;
  text.split('\n').forEach((rawLine, index) => {
    const line = rawLine.replace(/\/\/.*$/, '').trim();
    if (line === '') return;
    if (inRequireBlock) {
      if (line === ')') {
        inRequireBlock = false;
        return;
      }
      packages.push(goRequirement(line, fileName, index + 1));
    } else if (line === 'require (') {
      inRequireBlock = true;
    } else if (line.startsWith('require ')) {
      packages.push(goRequirement(line.slice('require '.length), fileName, index + 1));
    }
    // The `go` directive names the minimum language version, not the toolchain that built the
    // binary, so it says nothing about which stdlib is installed.
  });
  return { packages, skipped: 0, warnings: [] };
}

function goRequirement(line: string, fileName: string, lineNumber: number): InstalledPackage {
  const [name, version] = line.trim().split(/\s+/);
  if (!name || !version || !version.startsWith('v')) throw new InputError(`expected "module vX.Y.Z", found ${JSON.stringify(line)}`, { file: fileName, line: lineNumber });
  return { ecosystem: 'Go', name, version: version.slice(1) };
}
