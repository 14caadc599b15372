/**
 * The `fleetpatch` process from start to exit: runs the CLI, then exits with its code once the
 * output is flushed. bin/fleetpatch.js and the tests' source runner both start here.
 */
import { main } from './main.js';
import { endOnOutputErrors, exitWhenFlushed } from './process-exit.js';

export async function runAndExit(argv: string[]): Promise<never> {
  endOnOutputErrors();
  return exitWhenFlushed(await main(argv));
}
