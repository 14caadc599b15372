// The home lock: one owner at a time, stale locks (dead or reused pids, garbage) taken over, and a
// refused second owner never disturbs the first.
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { InputError } from '../domain/errors.js';
import { acquireHomeLock } from './home-lock.js';
import { processInfo } from './process-info.js';

const homes: string[] = [];
afterEach(() => {
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function newHome(): string {
  const home = mkdtempSync(join(tmpdir(), 'fleetpatch-lock-test-'));
  homes.push(home);
  return home;
}

function runNode(script: string, ...args: string[]): Promise<string> {
  return new Promise((resolveOutput, reject) => {
    execFile(process.execPath, ['--import', 'tsx', script, ...args], (error, stdout) => (error ? reject(error) : resolveOutput(stdout.trim())));
  });
}

/** The pid of a process that has already exited. */
function deadPid(): number {
  const finished = spawnSync(process.execPath, ['-e', '']);
  expect(processInfo(finished.pid).alive).toBe(false);
  return finished.pid;
}

describe('acquireHomeLock', () => {
  it('holds the home until released, records pid and start time, and can be taken again', () => {
    const home = newHome();
    const lock = acquireHomeLock(home);
    expect(readFileSync(lock.file, 'utf8')).toBe(`${process.pid}\n${processInfo(process.pid).startTime}\n`);
    expect(() => acquireHomeLock(home)).toThrow(InputError);
    expect(() => acquireHomeLock(home)).toThrow(`the embedded database in ${home} is in use by process ${process.pid}; stop it or set FLEETPATCH_HOME / DATABASE_URL`);
    expect(existsSync(lock.file)).toBe(true);
    lock.release();
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
    const again = acquireHomeLock(home);
    again.release();
    // No drafts or moved-aside files are left behind.
    expect(readdirSync(home)).toEqual([]);
  });

  it.each([
    ['a dead pid', () => `${deadPid()}\n\n`],
    ['a reused pid (alive, but started at another time)', () => `${process.pid}\n1\n`],
    ['garbage', () => 'not a pid\n'],
    ['an empty file', () => ''],
  ])('takes over a lock naming %s', (_case, content) => {
    const home = newHome();
    writeFileSync(join(home, 'fleetpatch.lock'), content());
    const lock = acquireHomeLock(home);
    expect(readFileSync(lock.file, 'utf8').split('\n')[0]).toBe(String(process.pid));
    lock.release();
    expect(readdirSync(home)).toEqual([]);
  });

  it('lets exactly one of several processes starting at once take over a stale lock', async () => {
    const home = newHome();
    writeFileSync(join(home, 'fleetpatch.lock'), `${deadPid()}\n\n`);
    const script = join(home, '..', `race-${Date.now()}.mts`);
    homes.push(script);
    writeFileSync(
      script,
      `import { acquireHomeLock } from ${JSON.stringify(fileURLToPath(new URL('./home-lock.ts', import.meta.url)))};
while (Date.now() < Number(process.argv[3])) {}
try {
  const lock = acquireHomeLock(process.argv[2]!);
  console.log('won ' + process.pid);
  setTimeout(() => lock.release(), 1_500);
} catch (error) {
  console.log('refused ' + (error as Error).message);
}
`,
    );
    const startAt = String(Date.now() + 3_000);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => runNode(script, home, startAt)));
    const winners = outcomes.filter((outcome) => outcome.startsWith('won '));
    expect(winners).toHaveLength(1);
    const winnerPid = winners[0]!.slice('won '.length);
    expect(outcomes.filter((outcome) => outcome === `refused the embedded database in ${home} is in use by process ${winnerPid}; stop it or set FLEETPATCH_HOME / DATABASE_URL`)).toHaveLength(5);
    expect(readdirSync(home)).toEqual([]);
  });

  it('takes over a lock whose owner was killed but not yet reaped (a zombie)', async () => {
    const home = newHome();
    const ownerScript = join(home, '..', `owner-${Date.now()}.mts`);
    homes.push(ownerScript);
    writeFileSync(
      ownerScript,
      `import { acquireHomeLock } from ${JSON.stringify(fileURLToPath(new URL('./home-lock.ts', import.meta.url)))};
acquireHomeLock(process.argv[2]!);
console.log('locked');
setInterval(() => undefined, 1_000);
`,
    );
    // The parent kills its child with SIGKILL and never waits for it, so the child stays a zombie.
    const parentProgram = `
import os, signal, subprocess, sys
owner = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE)
owner.stdout.readline()
os.kill(owner.pid, signal.SIGKILL)
print(owner.pid, flush=True)
sys.stdin.read()
`;
    const parent = spawn('python3', ['-c', parentProgram, process.execPath, '--import', 'tsx', ownerScript, home], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const ownerPid = await new Promise<number>((resolvePid, reject) => {
        parent.stdout.setEncoding('utf8').once('data', (line: string) => resolvePid(Number(line.trim())));
        parent.once('exit', (code) => reject(new Error(`parent exited with ${code}`)));
      });
      const state = () => readFileSync(`/proc/${ownerPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0];
      for (let attempt = 0; attempt < 100 && state() !== 'Z'; attempt++) await new Promise((resolveWait) => setTimeout(resolveWait, 20));
      expect(state()).toBe('Z');
      expect(readFileSync(join(home, 'fleetpatch.lock'), 'utf8').split('\n')[0]).toBe(String(ownerPid));
      expect(processInfo(ownerPid)).toEqual({ pid: ownerPid, alive: false });
      const lock = acquireHomeLock(home);
      expect(readFileSync(lock.file, 'utf8').split('\n')[0]).toBe(String(process.pid));
      lock.release();
    } finally {
      parent.stdin.end();
    }
  });

  it('does not remove a lock that another owner took over after ours went stale', () => {
    const home = newHome();
    const lock = acquireHomeLock(home);
    writeFileSync(lock.file, `${process.ppid}\n\n`);
    lock.release();
    expect(readFileSync(lock.file, 'utf8')).toBe(`${process.ppid}\n\n`);
  });
});
