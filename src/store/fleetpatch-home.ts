/** The fleetpatch home directory: embedded database, credentials and logs live here. */
import { resolve } from 'node:path';

/** `FLEETPATCH_HOME`, or `./.fleetpatch` in the current directory. */
export function fleetpatchHome(): string {
  return resolve(process.env.FLEETPATCH_HOME ?? '.fleetpatch');
}
