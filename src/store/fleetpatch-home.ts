/** The fleetpatch home directory: the embedded database, its credentials, log and lock live here. */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `FLEETPATCH_HOME`, or `.fleetpatch` in the current directory, as an absolute path. The embedded
 * cluster's data is in `<home>/postgres`.
 *
 * @example fleetpatchHome({ FLEETPATCH_HOME: '/var/lib/fleetpatch' }) // '/var/lib/fleetpatch'
 */
export function fleetpatchHome(environment: NodeJS.ProcessEnv = process.env, workingDirectory = process.cwd()): string {
  const configured = environment.FLEETPATCH_HOME?.trim();
  return resolve(workingDirectory, configured ? configured : '.fleetpatch');
}

/**
 * The home's mode: private (0700), since the server log quotes statements and their parameters.
 * As root the embedded server runs as the `postgres` user, which must pass through the home to its
 * data directory, so root's home may be entered (0711) but still not listed or read.
 */
export function privateHomeMode(userId = process.getuid?.()): number {
  return userId === 0 ? 0o711 : 0o700;
}

/**
 * Creates the home with `privateHomeMode()`, or tightens an existing one to it (homes made by older
 * versions were 0755). Missing parents are created with the usual mode: they hold nothing secret.
 *
 * @example ensurePrivateHome('/var/lib/fleetpatch') // the directory exists with mode 0700
 */
export function ensurePrivateHome(home: string, userId = process.getuid?.()): void {
  const mode = privateHomeMode(userId);
  mkdirSync(dirname(home), { recursive: true });
  try {
    mkdirSync(home, { mode });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // Also undoes the umask, which may have masked bits of a new directory's mode.
  if ((statSync(home).mode & 0o777) !== mode) chmodSync(home, mode);
}
