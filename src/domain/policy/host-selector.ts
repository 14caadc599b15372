/**
 * Which hosts a bucket takes: label conditions (`=`, `!=`, `in`, `notin`, `exists`, `!exists`),
 * the OS (family and release, from /etc/os-release) and host-name globs. Every condition given
 * must hold; a selector with none matches every host (a catch-all last bucket).
 *
 * ```yaml
 * match:
 *   labels: { role: database }                    # shorthand for key = value
 *   expressions:
 *     - { key: env, operator: "!=", value: dev }
 *     - { key: tier, operator: in, values: [primary, replica] }
 *     - { key: gpu, operator: exists }
 *   os: { family: debian, release: "12" }
 *   hostnames: ["pg-*", "db-??.example.com"]
 * ```
 */
import { z } from 'zod';
import { globRegExp } from './glob.js';

/** What a selector looks at: the host's labels, OS and name. */
export interface SelectableHost {
  name: string;
  labels: Record<string, string>;
  /** `ID` and `ID_LIKE` of /etc/os-release, e.g. `ubuntu` and `debian`. */
  osFamilies: string[];
  /** `VERSION_ID`, e.g. `12` or `9.4`. */
  osRelease?: string;
}

const name = z.string().min(1).max(128);
const value = z.string().max(256);

const expressionSchema = z.discriminatedUnion('operator', [
  z.strictObject({ key: name, operator: z.literal('='), value }),
  z.strictObject({ key: name, operator: z.literal('!='), value }),
  z.strictObject({ key: name, operator: z.literal('in'), values: z.array(value).min(1).max(256) }),
  z.strictObject({ key: name, operator: z.literal('notin'), values: z.array(value).min(1).max(256) }),
  z.strictObject({ key: name, operator: z.literal('exists') }),
  z.strictObject({ key: name, operator: z.literal('!exists') }),
]);
export type LabelExpression = z.infer<typeof expressionSchema>;

export const hostSelectorSchema = z.strictObject({
  labels: z.record(name, value).optional(),
  expressions: z.array(expressionSchema).max(64).optional(),
  os: z.strictObject({ family: z.string().min(1).max(64).optional(), release: z.string().min(1).max(64).optional() }).optional(),
  hostnames: z.array(z.string().min(1).max(253).regex(/^[A-Za-z0-9.*?_-]+$/, 'a host-name glob: letters, digits, ".", "_", "-", "*" and "?"')).max(256).optional(),
});
export type HostSelector = z.infer<typeof hostSelectorSchema>;

/** A compiled selector: the glob patterns are built once, hosts are tested many times. */
export type HostPredicate = (host: SelectableHost) => boolean;

/**
 * @example compileSelector({ labels: { role: 'database' } })({ name: 'pg-1', labels: { role: 'database' }, osFamilies: [] }) // true
 */
export function compileSelector(selector: HostSelector): HostPredicate {
  const conditions: HostPredicate[] = [];
  for (const [key, expected] of Object.entries(selector.labels ?? {})) conditions.push((host) => host.labels[key] === expected);
  for (const expression of selector.expressions ?? []) conditions.push(expressionPredicate(expression));
  const family = selector.os?.family?.toLowerCase();
  if (family) conditions.push((host) => host.osFamilies.some((candidate) => candidate.toLowerCase() === family));
  const release = selector.os?.release;
  if (release) conditions.push((host) => host.osRelease === release || (host.osRelease?.startsWith(`${release}.`) ?? false));
  if (selector.hostnames && selector.hostnames.length > 0) {
    // DNS names are case-insensitive.
    const patterns = selector.hostnames.map((glob) => globRegExp(glob, { ignoreCase: true }));
    conditions.push((host) => patterns.some((pattern) => pattern.test(host.name)));
  }
  return (host) => conditions.every((condition) => condition(host));
}

function expressionPredicate(expression: LabelExpression): HostPredicate {
  const { key } = expression;
  switch (expression.operator) {
    case '=':
      return (host) => host.labels[key] === expression.value;
    case '!=':
      return (host) => host.labels[key] !== expression.value;
    case 'in': {
      const values = new Set(expression.values);
      return (host) => host.labels[key] !== undefined && values.has(host.labels[key]!);
    }
    case 'notin': {
      const values = new Set(expression.values);
      return (host) => host.labels[key] === undefined || !values.has(host.labels[key]!);
    }
    case 'exists':
      return (host) => host.labels[key] !== undefined;
    case '!exists':
      return (host) => host.labels[key] === undefined;
  }
}

/** True when the selector has no condition at all (it takes every host it is offered). */
export function isCatchAll(selector: HostSelector): boolean {
  return !selector.labels && !selector.expressions?.length && !selector.os && !selector.hostnames?.length;
}
