/**
 * The one rule for host names, on every path that creates or writes a host (enrollment, check-ins,
 * inventory imports): letters, digits, `.`, `_` and `-`, starting with a letter or digit, at most
 * 253 characters (a DNS name's limit). Names show up in terminals, URLs, label values and file
 * names, so nothing else gets in.
 */
import { z } from 'zod';

const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/**
 * Why `name` is not a host name, or undefined when it is.
 *
 * @example hostNameProblem('db-7.example.com') // undefined
 * @example hostNameProblem('a/b') // 'not a host name: …'
 */
export function hostNameProblem(name: string): string | undefined {
  if (HOST_NAME.test(name)) return undefined;
  return `not a host name: use letters, digits, ".", "_" and "-", starting with a letter or digit, at most 253 characters (got ${JSON.stringify(name.slice(0, 40))}${name.length > 40 ? '…' : ''})`;
}

export const hostNameSchema = z.string().max(253).superRefine((name, context) => {
  const problem = hostNameProblem(name);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
}).meta({ pattern: HOST_NAME.source, description: 'A host name: letters, digits, ".", "_" and "-", at most 253 characters' });
