/**
 * Ends a long-running command cleanly when it is told to stop (Ctrl-C, a service manager's
 * SIGTERM): the embedded PostgreSQL gets a fast shutdown instead of being left for crash recovery.
 */
import { constants } from 'node:os';

/**
 * On the first SIGINT or SIGTERM runs `stop`, then exits with 128 + the signal number; a second
 * signal exits at once. Returns a function that removes the handlers.
 *
 * @example const database = await openDatabase({ home }); const forget = stopOnSignals(() => database.close());
 */
export function stopOnSignals(stop: () => Promise<void>, signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): () => void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const exitCode = 128 + (constants.signals[signal] ?? 0);
    if (stopping) process.exit(exitCode);
    stopping = true;
    stop().then(
      () => process.exit(exitCode),
      (error: unknown) => {
        process.stderr.write(`fleetpatch: could not stop cleanly: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(exitCode);
      },
    );
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.removeListener(signal, onSignal);
  };
}
