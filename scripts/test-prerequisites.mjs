#!/usr/bin/env node
// Makes sure the system tools the test suite runs for real are installed (the list, with what
// each is for, is test-prerequisites.json; tests name the same packages when one is missing).
// As root it installs the missing ones with apt-get; otherwise it prints the command and fails,
// so `npm test` never runs a suite that would only fail later, tool by tool.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

const prerequisites = JSON.parse(readFileSync(new URL('./test-prerequisites.json', import.meta.url), 'utf8'));
const missing = () => prerequisites.filter((prerequisite) => !existsSync(prerequisite.path));

const needed = missing();
if (needed.length === 0) process.exit(0);

const packages = needed.map((prerequisite) => prerequisite.package);
process.stderr.write(`test prerequisites missing:\n${needed.map((prerequisite) => `  ${prerequisite.package} (${prerequisite.path}), for ${prerequisite.usedFor}`).join('\n')}\n`);

if (!existsSync('/usr/bin/apt-get')) {
  process.stderr.write(`this machine has no apt-get: install the equivalents of ${packages.join(', ')} with its package manager\n`);
  process.exit(1);
}
if (process.getuid?.() !== 0) {
  process.stderr.write(`install them, then run the tests again:\n  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ${packages.join(' ')}\n`);
  process.exit(1);
}

const environment = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const command of [['update'], ['install', '-y', ...packages]]) {
  process.stderr.write(`apt-get ${command.join(' ')}\n`);
  const result = spawnSync('apt-get', command, { stdio: ['ignore', 'inherit', 'inherit'], env: environment });
  if (result.status !== 0) {
    process.stderr.write(`apt-get ${command[0]} failed (${result.error?.message ?? `exit ${result.status}`})\n`);
    process.exit(1);
  }
}
const stillMissing = missing();
if (stillMissing.length > 0) {
  process.stderr.write(`still missing after apt-get install: ${stillMissing.map((prerequisite) => `${prerequisite.path} (${prerequisite.package})`).join(', ')}\n`);
  process.exit(1);
}
