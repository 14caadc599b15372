/** Turns the first zod validation issue into an `InputError` naming the file and the JSON path. */
import type { z } from 'zod';
import { InputError } from '../errors.js';

/** @example throw inputErrorFromZod(result.error, 'bom.json') // "bom.json, field components[3].purl: …" */
export function inputErrorFromZod(error: z.ZodError, file: string): InputError {
  const issue = error.issues[0]!;
  const field = issue.path.reduce<string>(
    (path, segment) => (typeof segment === 'number' ? `${path}[${segment}]` : path === '' ? String(segment) : `${path}.${String(segment)}`),
    '',
  );
  return new InputError(issue.message, { file, ...(field === '' ? {} : { field }) });
}
