/**
 * What fleetpatch can learn about another process from its pid: whether it lives, when it started
 * (to tell a reused pid from the original), its command name and working directory (Linux /proc).
 * A zombie (killed, not yet reaped by its parent) counts as dead: it holds nothing but its pid.
 */
import { readFileSync, readlinkSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  alive: boolean;
  /** Start time in clock ticks since boot (`/proc/<pid>/stat` field 22); absent without /proc. */
  startTime?: string;
  /** Command name (`/proc/<pid>/comm`), e.g. `postgres` or `node`. */
  command?: string;
  /** Current directory; a postgres server and its backends sit in their data directory. */
  workingDirectory?: string;
}

/**
 * Everything known about `pid`; fields that cannot be read (no /proc, no permission) are absent.
 *
 * @example processInfo(process.pid) // { pid: 4242, alive: true, startTime: '81234', command: 'node', workingDirectory: '/srv' }
 */
export function processInfo(pid: number): ProcessInfo {
  if (!isAlive(pid)) return { pid, alive: false };
  const stat = readStat(pid);
  // kill(pid, 0) succeeds on a zombie (Z) and on a process being torn down (X).
  if (stat !== undefined && (stat.state === 'Z' || stat.state === 'X')) return { pid, alive: false };
  const info: ProcessInfo = { pid, alive: true };
  if (stat?.startTime !== undefined) info.startTime = stat.startTime;
  const command = readOrUndefined(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
  if (command !== undefined) info.command = command;
  const workingDirectory = readOrUndefined(() => readlinkSync(`/proc/${pid}/cwd`));
  if (workingDirectory !== undefined) info.workingDirectory = workingDirectory;
  return info;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command name in `stat` may hold spaces and parentheses, so fields are counted after the last `)`. */
function readStat(pid: number): { state?: string; startTime?: string } | undefined {
  const stat = readOrUndefined(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (stat === undefined) return undefined;
  const fieldsAfterCommand = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is the first after the command; field 22 (starttime) is 19 further on.
  const [state] = fieldsAfterCommand;
  const startTime = fieldsAfterCommand[19];
  return { ...(state ? { state } : {}), ...(startTime ? { startTime } : {}) };
}

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
