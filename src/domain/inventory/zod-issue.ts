/** Turns the first zod validation issue into an `InputError` naming the file and the JSON path. */
import type { z } from 'zod';
import { InputError } from '../errors.js';
import { shortenedPath } from './well-formed-inventory.js';

/**
 * `prefix` is the JSON path of the value that was validated, when it is not the document itself.
 *
 * @example throw inputErrorFromZod(result.error, 'bom.json') // "bom.json, field components[3].purl: …"
 */
export function inputErrorFromZod(error: z.ZodError, file: string, prefix = ''): InputError {
  const issue = error.issues[0]!;
  const fullField = issue.path.reduce<string>(
    (path, segment) => (typeof segment === 'number' ? `${path}[${segment}]` : path === '' ? String(segment) : `${path}.${String(segment)}`),
    prefix,
  );
  const field = shortenedPath(fullField);
  return new InputError(issue.message, { file, ...(field === '' ? {} : { field }) });
}
