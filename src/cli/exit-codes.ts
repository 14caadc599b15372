/** Exit codes of the `fleetpatch` command, documented in README.md. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found what `--fail-on` asked it to fail on (e.g. vulnerable findings). */
  findingsPresent: 1,
  /** Bad input: usage, a malformed file or request. Nothing was stored. */
  inputError: 2,
  /** An advisory feed or another service fleetpatch depends on could not be reached. */
  unavailable: 3,
  /** A bug or an unexpected failure. */
  internalError: 70,
  /**
   * The reader of standard output went away (`fleetpatch findings --json | head -1`): 128 + SIGPIPE,
   * the status a shell reports for a tool that a broken pipe ended.
   */
  brokenPipe: 141,
} as const;
