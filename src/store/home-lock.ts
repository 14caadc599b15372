/**
 * One fleetpatch process per home: `<home>/fleetpatch.lock` names the owner's pid and start time.
 * The lock appears atomically with its content (hard link of a finished file), and a lock whose
 * owner is gone (crash, kill -9 even before its parent reaped it, or a pid reused after a container
 * restart) is taken over.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../domain/errors.js';
import { processInfo } from './process-info.js';

export interface HomeLock {
  file: string;
  /** Removes the lock if it is still ours; safe to call more than once. */
  release(): void;
}

const ATTEMPTS = 5;

/**
 * Takes `<home>/fleetpatch.lock` or fails with an `InputError` naming the live owner.
 *
 * @example const lock = acquireHomeLock('/var/lib/fleetpatch'); try { … } finally { lock.release(); }
 */
export function acquireHomeLock(home: string): HomeLock {
  const lockFile = join(home, 'fleetpatch.lock');
  const me = processInfo(process.pid);
  const ourContent = `${process.pid}\n${me.startTime ?? ''}\n`;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    if (tryCreate(lockFile, ourContent)) return heldLock(lockFile, ourContent);
    const observed = readOrUndefined(lockFile);
    if (observed === undefined) continue;
    const owner = parseOwner(observed);
    if (owner !== undefined && isLiveOwner(owner)) {
      throw new InputError(
        `the embedded database in ${home} is in use by process ${owner.pid}; stop it or set FLEETPATCH_HOME / DATABASE_URL`,
        {},
        'stop that fleetpatch process, or give this one its own FLEETPATCH_HOME, or point DATABASE_URL at a PostgreSQL server',
      );
    }
    takeOverStale(lockFile, observed);
  }
  throw new InputError(`could not take the lock ${lockFile}: other processes keep replacing it`, { file: lockFile }, 'make sure only one fleetpatch uses this FLEETPATCH_HOME');
}

/** Writes the whole content first, then links it into place: a reader never sees a half-written lock. */
function tryCreate(lockFile: string, content: string): boolean {
  const draft = `${lockFile}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, content, { mode: 0o644 });
  try {
    linkSync(draft, lockFile);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(draft, { force: true });
  }
}

/**
 * Moves the stale lock aside under a private name, and only deletes it if it is still the stale one
 * observed: when two processes race for a stale lock, neither removes the lock the winner just made.
 */
function takeOverStale(lockFile: string, observed: string): void {
  const aside = `${lockFile}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (readOrUndefined(aside) !== observed) {
    try {
      linkSync(aside, lockFile);
    } catch {
      // Someone else already holds a newer lock; theirs stands and the next attempt will see it.
    }
  }
  rmSync(aside, { force: true });
}

function heldLock(lockFile: string, ourContent: string): HomeLock {
  const release = () => {
    process.removeListener('exit', release);
    if (readOrUndefined(lockFile) === ourContent) rmSync(lockFile, { force: true });
  };
  // A process that exits without stopping (a signal handler calling process.exit) still frees its home.
  process.on('exit', release);
  return { file: lockFile, release };
}

interface LockOwner {
  pid: number;
  startTime?: string;
}

function parseOwner(content: string): LockOwner | undefined {
  const [pidLine, startTime] = content.split('\n');
  const pid = Number(pidLine);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return startTime ? { pid, startTime } : { pid };
}

/** Alive, and the same process that wrote the lock: a reused pid has another start time. */
function isLiveOwner(owner: LockOwner): boolean {
  const info = processInfo(owner.pid);
  if (!info.alive) return false;
  return owner.startTime === undefined || info.startTime === undefined || info.startTime === owner.startTime;
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
