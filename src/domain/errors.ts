/**
 * Error taxonomy shared by every stage: user input errors carry where the problem is, bugs do not
 * pretend to be the user's fault, and cancellation is not a failure.
 */

/** Where in the user's input a problem is. Every field is optional; give as much as is known. */
export interface InputLocation {
  file?: string;
  line?: number;
  /** 1-based, with `line`: where in a YAML or JSON file the bad value starts. */
  column?: number;
  field?: string;
}

/**
 * Bad input from a person or a feed: a malformed inventory, advisory, policy or API request.
 * The message says what is wrong; `location` says where; `hint` says how to fix it.
 *
 * @example throw new InputError('missing Version field', { file: 'status', line: 12, field: 'Version' })
 */
export class InputError extends Error {
  override readonly name = 'InputError';
  constructor(
    message: string,
    readonly location: InputLocation = {},
    readonly hint?: string,
  ) {
    super(formatInputMessage(message, location));
  }
}

function formatInputMessage(message: string, location: InputLocation): string {
  const where = [
    location.file,
    location.line !== undefined ? `line ${location.line}${location.column !== undefined ? `, column ${location.column}` : ''}` : undefined,
    location.field !== undefined ? `field ${location.field}` : undefined,
  ].filter((part) => part !== undefined);
  return where.length > 0 ? `${where.join(', ')}: ${message}` : message;
}

/** An invariant of fleetpatch itself was broken. Do not throw this for invalid user input. */
export class BugError extends Error {
  override readonly name = 'BugError';
}

/** Work stopped on purpose (signal, timeout, operator abort). */
export class CancellationError extends Error {
  override readonly name = 'CancellationError';
}
