// Cross-checks the dpkg and rpm comparators against the real tools on 10,000+ generated pairs each.
// CI installs both tools (.ci/run), so there the check always runs; elsewhere a missing tool is a skip
// with a reason, never a silent pass.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dpkgComparator } from '../src/domain/versions/dpkg.js';
import { compareEvr } from '../src/domain/versions/rpm.js';
import { generatePairs, realVersions } from './version-pairs.js';

const PAIRS = 10_000;

function toolPresent(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    if (process.env.CI === 'true') throw new Error(`${tool} is required in CI for the version cross-check; .ci/run installs it`);
    return false;
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

// dpkg answers one comparison per process; two shards use both cores. Exit status 1 means "false",
// anything above is dpkg refusing the input (printed as `error`).
const DPKG_LOOP = `
while IFS=' ' read -r a b; do
  dpkg --compare-versions "$a" lt "$b" 2>/dev/null; status=$?
  if [ $status -eq 0 ]; then echo -1; continue; elif [ $status -gt 1 ]; then echo error; continue; fi
  if dpkg --compare-versions "$a" gt "$b" 2>/dev/null; then echo 1; else echo 0; fi
done`;

describe('cross-check against the real tools', () => {
  it.runIf(toolPresent('dpkg'))(`dpkg --compare-versions agrees on ${PAIRS} generated pairs`, async () => {
    const pairs = generatePairs('dpkg', realVersions(['dpkg.json', 'dpkg-osv-generated.json']), PAIRS, 20261124)
      .filter(([a, b]) => dpkgComparator.isValid(a) && dpkgComparator.isValid(b));
    const half = Math.ceil(pairs.length / 2);
    const shards = [pairs.slice(0, half), pairs.slice(half)];
    const answers = (await Promise.all(shards.map((shard) => runShell(DPKG_LOOP, shard.map((pair) => pair.join(' ')).join('\n') + '\n'))))
      .flatMap((output) => output.trim().split('\n'));
    expect(answers).toHaveLength(pairs.length);
    const compared = pairs.map((pair, index) => ({ pair, tool: answers[index]! })).filter((entry) => entry.tool !== 'error');
    expect(compared.length).toBeGreaterThanOrEqual(PAIRS * 0.95);
    const disagreements = compared.filter(({ pair: [a, b], tool }) => String(dpkgComparator.compare(a, b)) !== tool);
    expect(disagreements.slice(0, 10)).toEqual([]);
  }, 180_000);

  it.runIf(toolPresent('rpm'))(`rpm.vercmp agrees on ${PAIRS} generated pairs`, () => {
    const pairs = generatePairs('rpm', realVersions(['rpm.json', 'dpkg-osv-generated.json', 'apk-osv-generated.json']), PAIRS, 20261124);
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-rpm-'));
    const file = join(directory, 'pairs.txt');
    writeFileSync(file, pairs.map((pair) => pair.join(' ')).join('\n') + '\n');
    const lua = `%{lua: for line in io.lines('${file}') do local a, b = line:match('^(%S+) (%S+)$'); io.write(rpm.vercmp(a, b), '\\n') end}`;
    const answers = execFileSync('rpm', ['--eval', lua], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim().split('\n');
    expect(answers).toHaveLength(pairs.length);
    const disagreements = pairs
      .map(([a, b], index) => ({ a, b, tool: answers[index], ours: String(compareEvr(a, b)) }))
      .filter((entry) => entry.tool !== entry.ours);
    expect(disagreements.slice(0, 10)).toEqual([]);
  }, 60_000);
});
