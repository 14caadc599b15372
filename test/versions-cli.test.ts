// Runs the built `fleetpatch versions compare` (bin/fleetpatch.js over dist/, as `npm test` builds it)
// on real conformance vectors through arguments and standard input, and on malformed input.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, sharedData } from './data-path.js';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const BIN = resolve(repoRoot, 'bin/fleetpatch.js');

function runBuiltCli(args: string[], input = ''): Promise<CliResult> {
  return new Promise((resolveResult, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolveResult({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

interface ComparisonVector {
  a: string;
  b: string;
  cmp: -1 | 0 | 1;
}

function vectors(file: string): ComparisonVector[] {
  return JSON.parse(readFileSync(sharedData(`versions/${file}`), 'utf8')) as ComparisonVector[];
}

beforeAll(() => {
  if (!existsSync(resolve(repoRoot, 'dist/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` (npx tsc -p tsconfig.json) before this test');
  }
});

describe('fleetpatch versions compare (built CLI)', () => {
  it('compares one pair given as arguments', async () => {
    const [first] = vectors('dpkg.json').filter((entry) => entry.cmp === -1);
    const result = await runBuiltCli(['versions', 'compare', '--ecosystem', 'dpkg', first!.a, first!.b]);
    expect(result).toEqual({ code: 0, stdout: '-1\n', stderr: '' });
  });

  it.each([
    ['dpkg', 'dpkg-osv-generated.json'],
    ['rpm', 'rpm.json'],
    ['apk', 'apk-osv-generated.json'],
    ['semver', 'semver-osv.json'],
    ['pypi', 'pypi.json'],
  ])('streams %s pairs from standard input, one result per line, in order', async (ecosystem, file) => {
    // Versions with spaces cannot travel as whitespace-separated fields.
    const cases = vectors(file)
      .filter((entry) => !/\s/.test(entry.a + entry.b) && entry.a !== '' && entry.b !== '')
      .slice(0, 3000);
    // Alternate separators (space, tab, several) and a blank line, which the reader skips.
    const input = cases.map((entry, index) => (index % 3 === 0 ? `${entry.a}\t${entry.b}` : index % 3 === 1 ? `  ${entry.a}   ${entry.b} ` : `${entry.a} ${entry.b}`)).join('\n\n');
    const result = await runBuiltCli(['versions', 'compare', '--ecosystem', ecosystem], `${input}\n`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const printed = result.stdout.trimEnd().split('\n').map(Number);
    expect(printed).toHaveLength(cases.length);
    const wrong = cases.filter((entry, index) => printed[index] !== entry.cmp);
    expect(wrong).toEqual([]);
  });

  it('names the line of a malformed pair, exits 2, and still prints the results before it', async () => {
    const result = await runBuiltCli(['versions', 'compare', '--ecosystem', 'dpkg'], '1.0-1 1.0-2\n1.0 1.0\n1.0 1.1 1.2\n2.0 1.0\n');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('-1\n0\n');
    expect(result.stderr).toContain('<stdin>, line 3');
    expect(result.stderr).toContain('found 3 field(s)');
  });

  it('names the line of a version dpkg rejects and exits 2', async () => {
    const result = await runBuiltCli(['versions', 'compare', '--ecosystem', 'dpkg'], '1.0 1.1\n1.0 a:1.0\n');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('-1\n');
    expect(result.stderr).toMatch(/<stdin>, line 2: invalid dpkg version "a:1\.0": epoch in version is empty/);
  });

  it('rejects an unknown ecosystem and a lone version with exit code 2', async () => {
    const unknown = await runBuiltCli(['versions', 'compare', '--ecosystem', 'maven', '1', '2']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('choose one of dpkg, rpm, apk, semver, pypi');
    const lone = await runBuiltCli(['versions', 'compare', '--ecosystem', 'rpm', '1.0']);
    expect(lone.code).toBe(2);
    expect(lone.stderr).toContain('give two versions');
  });

  it('prints help with exit code 0', async () => {
    const result = await runBuiltCli(['versions', 'compare', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: fleetpatch versions compare [options] [a] [b]');
    expect(result.stdout).toContain('--ecosystem <scheme>');
  });

  it('runs as an executable of its own: its first line starts node with V8\'s helper pool sized to the machine', async () => {
    // How PATH, the systemd unit and the image start it; `node bin/fleetpatch.js` skips that line.
    const child = spawn(BIN, ['versions', 'compare', '--ecosystem', 'dpkg'], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const closed = new Promise<number | null>((resolveCode, reject) => {
      child.on('error', reject);
      child.on('close', resolveCode);
    });
    // It waits for pairs on standard input; env hands the process to node (argv[0] "node") first.
    const commandLine = () => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
    for (let attempt = 0; attempt < 200 && commandLine()[0] !== 'node'; attempt++) await new Promise((resolveWait) => setTimeout(resolveWait, 25));
    expect(commandLine()).toEqual(['node', '--v8-pool-size=0', BIN, 'versions', 'compare', '--ecosystem', 'dpkg', '']);
    child.stdin.end('1.0 1.1\n');
    expect(await closed).toBe(0);
    expect(stdout).toBe('-1\n');
  });
});
