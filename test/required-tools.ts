/**
 * The system tools tests run for real (scripts/test-prerequisites.json, which `npm test` installs
 * first). A test whose tool is missing fails and names the package; it never skips quietly.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { repoRoot } from './data-path.js';

interface Prerequisite {
  package: string;
  path: string;
  usedFor: string;
}

const PREREQUISITES = JSON.parse(readFileSync(resolve(repoRoot, 'scripts/test-prerequisites.json'), 'utf8')) as Prerequisite[];

/**
 * The path of the tool the Debian package installs; throws, naming the package, when it is absent.
 *
 * @example spawn(requireTool('prometheus'), […])
 */
export function requireTool(debianPackage: string): string {
  const prerequisite = PREREQUISITES.find((candidate) => candidate.package === debianPackage);
  if (!prerequisite) throw new Error(`${debianPackage} is not listed in scripts/test-prerequisites.json: add it there so npm test installs it`);
  if (!existsSync(prerequisite.path)) {
    throw new Error(`${prerequisite.path} is missing, needed for ${prerequisite.usedFor}: install the Debian package ${prerequisite.package} (npm test installs it when run as root; or: sudo apt-get install -y ${prerequisite.package})`);
  }
  return prerequisite.path;
}
