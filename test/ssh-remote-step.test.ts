// The SSH executor's remote side, remote-step.sh, run by dash (Debian's /bin/sh, the strictest
// common POSIX sh) on a directory root: the facts' framing, the journal's claim, finish and
// pruning, commands killed with their whole session at the timeout or when stdin closes, the reboot.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './data-path.js';
import { waitFor } from './test-hosts.js';

const SCRIPT = resolve(repoRoot, 'src/executors/ssh/remote-step.sh');
const directory = mkdtempSync(join(tmpdir(), 'fp-remote-step-'));
const root = join(directory, 'root');
const journal = join(root, 'var/lib/fleetpatch/ssh-jobs');

afterAll(() => rmSync(directory, { recursive: true, force: true }));

function files(entries: Record<string, string>): void {
  for (const [path, content] of Object.entries(entries)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

function step(args: string[], options: { input?: string; env?: Record<string, string> } = {}) {
  const run = spawnSync('dash', [SCRIPT, ...args], { input: options.input ?? '', env: { PATH: process.env.PATH!, FLEETPATCH_ROOT: root, ...options.env }, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** `run` as the executor calls it: stdin stays open (its closing kills the command) until the script exits. */
function runWithStdinOpen(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn('dash', [SCRIPT, 'run', ...args], { env: { PATH: process.env.PATH!, FLEETPATCH_ROOT: root }, stdio: ['pipe', 'pipe', 'pipe'] });
  let [stdout, stderr] = ['', ''];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolveRun) => child.once('close', (status) => resolveRun({ status, stdout, stderr })));
}

/** Processes whose command line holds `token` (each test's commands carry a token of their own). */
function processesWith(token: string): number[] {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name)).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(token);
    } catch {
      return false;
    }
  }).map(Number);
}

describe('remote-step.sh', () => {
  it('is POSIX sh as dash reads it', () => {
    expect(spawnSync('dash', ['-n', SCRIPT], { encoding: 'utf8' }).stderr).toBe('');
  });

  it('frames the facts of a directory root: each section its byte count, then its bytes', () => {
    files({
      'etc/hostname': 'db-1\n',
      'etc/os-release': 'ID=debian\nVERSION_ID="12"\n',
      'var/lib/dpkg/status': 'Package: café\nVersion: 1.0-1\n',
      'proc/sys/kernel/random/boot_id': 'b0071d\n',
      'proc/sys/kernel/osrelease': '6.1.0-99-fp\n',
      'var/run/reboot-required': '',
    });
    const facts = step(['facts', '%{NAME}\\n']);
    expect(facts.stderr).toBe('');
    expect(facts.status).toBe(0);
    const section = (name: string, text: string) => `${name} ${Buffer.byteLength(text)}\n${text}\n`;
    expect(facts.stdout).toBe([
      section('root', `${root}/`),
      section('hostname', 'db-1\n'),
      section('os-release', 'ID=debian\nVERSION_ID="12"\n'),
      section('packages-dpkg-status', 'Package: café\nVersion: 1.0-1\n'),
      section('boot-id', 'b0071d\n'),
      section('running-kernel', '6.1.0-99-fp\n'),
      section('reboot-required', 'yes'),
    ].join(''));
    rmSync(join(root, 'var/run/reboot-required'));
    expect(step(['facts', '%{NAME}\\n']).stdout).toContain(section('reboot-required', 'no'));
  });

  it('reads an apk database, or asks rpm for its packages in the query format it is given', () => {
    const alpine = join(directory, 'alpine');
    mkdirSync(join(alpine, 'lib/apk/db'), { recursive: true });
    writeFileSync(join(alpine, 'lib/apk/db/installed'), 'P:musl\nV:1.2.4-r2\n\n');
    expect(step(['facts', 'unused'], { env: { FLEETPATCH_ROOT: alpine } }).stdout).toContain('packages-apk 19\nP:musl\nV:1.2.4-r2\n\n\n');

    // A stand-in rpm on PATH shows the very arguments it was run with.
    const fedora = join(directory, 'fedora');
    const bin = join(directory, 'bin');
    mkdirSync(join(fedora, 'var/lib/rpm'), { recursive: true });
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'rpm'), '#!/bin/sh\nfor arg in "$@"; do printf "[%s]" "$arg"; done\n', { mode: 0o755 });
    const facts = step(['facts', '%{NAME}\\t%{EPOCHNUM}\\n'], { env: { FLEETPATCH_ROOT: fedora, PATH: `${bin}:${process.env.PATH}` } });
    const args = `[--root][${fedora}/][-qa][--queryformat][%{NAME}\\t%{EPOCHNUM}\\n]`;
    expect(facts.stdout).toContain(`packages-rpm ${args.length}\n${args}\n`);
  });

  it('claims a key once: new, then started until its result is stored, then finished with it', () => {
    expect(step(['begin', 'k1'], { input: '{"key":"k1"}\n' }).stdout).toBe('new\n');
    expect(readFileSync(join(journal, 'k1/started'), 'utf8')).toBe('{"key":"k1"}\n');
    expect(step(['begin', 'k1'], { input: '{"key":"k1"}\n' }).stdout).toBe('started\n');
    expect(step(['finish', 'k1'], { input: '{"outcome":"succeeded"}\n' }).status).toBe(0);
    expect(step(['begin', 'k1'], { input: '{"key":"k1"}\n' }).stdout).toBe('finished\n{"outcome":"succeeded"}\n');
    const unclaimed = step(['finish', 'never-begun'], { input: '{}' });
    expect(unclaimed.status).toBe(1);
    expect(unclaimed.stderr).toContain('no journal entry never-begun');
  });

  it('removes journal entries untouched for 30 days when it claims a key', () => {
    mkdirSync(join(journal, 'old-key'), { recursive: true });
    const longAgo = new Date(Date.now() - 40 * 86_400_000);
    utimesSync(join(journal, 'old-key'), longAgo, longAgo);
    step(['begin', 'k2']);
    expect(existsSync(join(journal, 'old-key'))).toBe(false);
    expect(existsSync(join(journal, 'k1/result.json'))).toBe(true);
  });

  it('runs a command with its environment and both its streams on stdout, and exits with its status', async () => {
    const run = await runWithStdinOpen(['60000', 'sh', '-c', 'echo "out $FLEETPATCH_ROOT"; echo err >&2; exit 3']);
    expect(run.status).toBe(3);
    expect(run.stdout).toBe(`out ${root}/\nerr\n`);
    expect(run.stderr).toBe('');
  });

  it('kills the whole session of a command at its timeout and says so', async () => {
    const run = await runWithStdinOpen(['1000', 'sh', '-c', 'sleep 29.101 & sleep 29.102; wait']);
    expect(run.stderr).toBe('fleetpatch-remote-step: timed out\n');
    expect(run.status).not.toBe(0);
    await waitFor('the timed-out command and its child gone', () => processesWith('29.10').length === 0, 10_000);
  });

  it('kills the command as soon as its stdin closes (the executor gave up or the connection dropped)', async () => {
    const child = spawn('dash', [SCRIPT, 'run', '60000', 'sh', '-c', 'echo started; sleep 29.201'], { env: { PATH: process.env.PATH!, FLEETPATCH_ROOT: root }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.once('exit', (code) => resolveExit(code)));
    await waitFor('the command started', () => stdout === 'started\n', 10_000);
    child.stdin.end();
    expect(await exited).not.toBe(0);
    await waitFor('the command gone', () => processesWith('29.201').length === 0, 10_000);
  });

  it('journals the reboot before running the reboot command, whose output it keeps', () => {
    step(['begin', 'k3']);
    const reboot = step(['reboot', 'k3'], { input: '{"outcome":"started"}\n', env: { FLEETPATCH_REBOOT_COMMAND: 'echo rebooting the test root; exit 4' } });
    expect(reboot.stdout).toBe('rebooting\nrebooting the test root\n');
    expect(reboot.status).toBe(4);
    expect(readFileSync(join(journal, 'k3/result.json'), 'utf8')).toBe('{"outcome":"started"}\n');
    expect(readFileSync(join(journal, 'k3/reboot-output'), 'utf8')).toBe('rebooting the test root\n');
  });

  it('refuses an operation it does not know', () => {
    const unknown = step(['format-disk']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toBe('fleetpatch-remote-step: unknown operation format-disk\n');
  });
});
