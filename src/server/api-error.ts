/** The one JSON error shape of the API: `{ "error": { "code", "message", "field"?, "hint"? } }`. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

export function errorBody(code: string, message: string, extra: { field?: string; hint?: string } = {}) {
  return { error: { code, message, ...extra } };
}

export function respondWithError(context: Context, error: ApiError) {
  return context.json(errorBody(error.code, error.message, error.field ? { field: error.field } : {}), error.status);
}

/** The first zod issue as a 400 naming the JSON path of the bad field. */
export function validationError(error: z.ZodError): ApiError {
  const issue = error.issues[0]!;
  const field = issue.path.reduce<string>((path, segment) => (typeof segment === 'number' ? `${path}[${segment}]` : path === '' ? String(segment) : `${path}.${String(segment)}`), '');
  return new ApiError(400, 'invalid-request', `${field ? `${field}: ` : ''}${issue.message}`, field || undefined);
}
