// Cross-checks the dpkg and rpm comparators against the real tools on 10,000+ generated pairs each
// (real versions and their mutations; see versions-pairs.ts). A missing tool fails the test and
// names the package to install (npm test installs it first).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/domain/errors.js';
import { compareDpkg } from '../src/domain/versions/dpkg.js';
import { compareEvr } from '../src/domain/versions/rpm.js';
import { requireTool } from './required-tools.js';
import { almaLinuxFixedVersions, dpkgStatusVersions, generatePairs, vectorVersions } from './versions-pairs.js';

const PAIRS = 10_000;
/** Field separator in the pair files: versions may hold spaces (dpkg must reject those). */
const SEPARATOR = '\x1f';

/** What our comparator says, as the tool would print it: -1, 0, 1, or error for rejected input. */
function ours(compare: (a: string, b: string) => number, a: string, b: string): string {
  try {
    return String(compare(a, b));
  } catch (error) {
    if (error instanceof InputError) return 'error';
    throw error;
  }
}

function runShell(script: string, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(output) : reject(new Error(`exit ${code}`))));
    child.stdin.end(input);
  });
}

// dpkg answers one comparison per process. Exit status 1 means "false"; above 1 is dpkg refusing
// the input. Its warnings (stderr) do not change the answer. `--` keeps versions starting with `-`
// from being read as options.
const DPKG_LOOP = `
while IFS=$'\\x1f' read -r a b; do
  dpkg --compare-versions -- "$a" lt "$b" 2>/dev/null; status=$?
  if [ $status -eq 0 ]; then echo -1; continue; elif [ $status -gt 1 ]; then echo error; continue; fi
  if dpkg --compare-versions -- "$a" gt "$b" 2>/dev/null; then echo 1; else echo 0; fi
done`;

describe('cross-check against the real tools', () => {
  it(`dpkg --compare-versions agrees on ${PAIRS} generated pairs`, async () => {
    requireTool('dpkg');
    const real = [...new Set([...vectorVersions(['dpkg.json', 'dpkg-osv-generated.json']), ...dpkgStatusVersions()])];
    const pairs = generatePairs('dpkg', real, PAIRS, 20261124).filter(([a, b]) => !(a + b).includes('\n') && !(a + b).includes(SEPARATOR));
    expect(pairs.length).toBe(PAIRS);
    // Two shards use both cores.
    const half = Math.ceil(pairs.length / 2);
    const shards = [pairs.slice(0, half), pairs.slice(half)];
    const answers = (await Promise.all(shards.map((shard) => runShell(DPKG_LOOP, shard.map((pair) => pair.join(SEPARATOR)).join('\n') + '\n'))))
      .flatMap((output) => output.trimEnd().split('\n'));
    expect(answers).toHaveLength(pairs.length);
    const disagreements = pairs
      .map(([a, b], index) => ({ a, b, dpkg: answers[index]!, ours: ours(compareDpkg, a, b) }))
      .filter((entry) => entry.dpkg !== entry.ours);
    expect(disagreements.slice(0, 10)).toEqual([]);
    // The pairs do reach every outcome, rejected input included.
    const outcomes = new Set(answers);
    expect([...outcomes].sort()).toEqual(['-1', '0', '1', 'error']);
    expect(answers.filter((answer) => answer === 'error').length).toBeGreaterThan(100);
  }, 120_000);

  it(`rpm.vercmp agrees on ${PAIRS * 3} generated pairs`, () => {
    const rpm = requireTool('rpm');
    const real = [...new Set([...vectorVersions(['rpm.json', 'dpkg-osv-generated.json', 'apk-osv-generated.json']), ...almaLinuxFixedVersions()])];
    expect(real.length).toBeGreaterThan(20_000);
    const pairs = generatePairs('rpm', real, PAIRS * 3, 20261124).filter(([a, b]) => !(a + b).includes('\n') && !(a + b).includes(SEPARATOR));
    expect(pairs.length).toBe(PAIRS * 3);
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-rpm-'));
    try {
      const file = join(directory, 'pairs.txt');
      writeFileSync(file, pairs.map((pair) => pair.join(SEPARATOR)).join('\n') + '\n');
      // One rpm process; pcall turns rpm's "invalid version" (the empty string) into "error".
      const lua = `%{lua: for line in io.lines('${file}') do local at = line:find('\\31', 1, true); local ok, order = pcall(rpm.vercmp, line:sub(1, at - 1), line:sub(at + 1)); io.write(ok and order or 'error', '\\n') end}`;
      const answers = execFileSync(rpm, ['--eval', lua], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trimEnd().split('\n');
      expect(answers).toHaveLength(pairs.length);
      const disagreements = pairs
        .map(([a, b], index) => ({ a, b, rpm: answers[index]!, ours: ours(compareEvr, a, b) }))
        .filter((entry) => entry.rpm !== entry.ours);
      expect(disagreements.slice(0, 10)).toEqual([]);
      expect([...new Set(answers)].sort()).toEqual(['-1', '0', '1']);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }, 60_000);
});
