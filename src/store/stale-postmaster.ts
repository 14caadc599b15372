/**
 * Clears what a crashed fleetpatch leaves in its PostgreSQL data directory so the next start
 * succeeds: a `postmaster.pid` naming a dead (or reused) pid, a server orphaned when only its owner
 * was killed, and backends still finishing after their postmaster was killed. Called only while
 * holding the home lock, so any server found here has no live fleetpatch owner.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../domain/errors.js';
import { processInfo, type ProcessInfo } from './process-info.js';

const ORPHAN_SHUTDOWN_MS = 60_000;
const LEFTOVER_GRACE_MS = 5_000;

/**
 * @example await clearStalePostmaster('/var/lib/fleetpatch/postgres', console.log)
 */
export async function clearStalePostmaster(dataDirectory: string, onProgress?: (message: string) => void): Promise<void> {
  const pidFile = join(dataDirectory, 'postmaster.pid');
  // Without /proc a live pid cannot be told apart from a reused one; PostgreSQL judges dead pids itself.
  if (!existsSync(pidFile) || !existsSync('/proc')) return;
  const realDataDirectory = realpathSync(dataDirectory);
  const pid = readPostmasterPid(pidFile);
  const postmaster = pid === undefined ? undefined : processInfo(pid);
  if (postmaster?.alive && isServerOf(postmaster, realDataDirectory)) {
    // The owner died but its server kept running: a fast shutdown (SIGINT) rolls back open work.
    onProgress?.(`stopping the PostgreSQL server (process ${postmaster.pid}) left running by a fleetpatch that exited`);
    process.kill(postmaster.pid, 'SIGINT');
    if (!(await waitUntil(() => !processInfo(postmaster.pid).alive, ORPHAN_SHUTDOWN_MS))) {
      throw new InputError(
        `a PostgreSQL server (process ${postmaster.pid}) is still running on ${dataDirectory} and did not stop`,
        { file: pidFile },
        `stop process ${postmaster.pid} and start fleetpatch again`,
      );
    }
    return;
  }
  // PostgreSQL itself would refuse to start if the pid now belongs to an unrelated live process.
  rmSync(pidFile, { force: true });
  onProgress?.(`removed a stale postmaster.pid (process ${pid ?? '?'} is gone)`);
  await stopLeftoverBackends(realDataDirectory);
}

/**
 * Backends notice their postmaster's death only when they next wait, so a long query keeps the
 * shared memory in use and PostgreSQL would refuse to start. Give them a moment, then kill them:
 * without a postmaster their work is lost anyway and crash recovery replays the WAL.
 */
async function stopLeftoverBackends(realDataDirectory: string): Promise<void> {
  const leftovers = () => serverProcessesIn(realDataDirectory);
  if (await waitUntil(() => leftovers().length === 0, LEFTOVER_GRACE_MS)) return;
  for (const pid of leftovers()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await waitUntil(() => leftovers().length === 0, LEFTOVER_GRACE_MS);
}

function serverProcessesIn(realDataDirectory: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const info = processInfo(pid);
      return info.alive && isServerOf(info, realDataDirectory);
    });
}

/** The postmaster and every backend run with the data directory as their current directory. */
function isServerOf(info: ProcessInfo, realDataDirectory: string): boolean {
  return info.command === 'postgres' && info.workingDirectory === realDataDirectory;
}

function readPostmasterPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]!.trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
