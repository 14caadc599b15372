/** The fleetpatch home directory: the embedded database, its credentials, log and lock live here. */
import { resolve } from 'node:path';

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
