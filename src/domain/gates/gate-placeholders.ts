/**
 * `$host` and `$bucket` in a gate's query or URL, replaced with the host measured and its bucket
 * before the check runs, so one gate serves every host: `error_ratio{host="$host"}`. Each value is
 * escaped for where it goes (a PromQL string literal, a URL); commands get environment variables
 * instead, never text pasted into a shell line.
 */

export const GATE_PLACEHOLDERS = ['host', 'bucket'] as const;
export type GatePlaceholder = (typeof GATE_PLACEHOLDERS)[number];

const PLACEHOLDER = /\$(host|bucket)(?![A-Za-z0-9_])/g;

/** The placeholders a text names. */
export function placeholdersIn(text: string): Set<GatePlaceholder> {
  return new Set([...text.matchAll(PLACEHOLDER)].map((match) => match[1] as GatePlaceholder));
}

/**
 * The text with each placeholder replaced by its escaped value.
 *
 * @throws Error when the text names a placeholder without a value (`$host` in a wave's gate)
 * @example substitutePlaceholders('up{host="$host"}', { host: 'db-1', bucket: 'databases' }, escapePromqlString) // 'up{host="db-1"}'
 */
export function substitutePlaceholders(text: string, values: { host?: string; bucket: string }, escape: (value: string) => string): string {
  return text.replace(PLACEHOLDER, (_, name: GatePlaceholder) => {
    const value = values[name];
    if (value === undefined) throw new Error(`$${name} has no value here: only a host's gate (pre-host, post-host) measures one host`);
    return escape(value);
  });
}

/**
 * Escapes a value for the inside of a PromQL string literal, quoted with `"` or `'` (not backticks,
 * which cannot escape anything).
 */
export function escapePromqlString(value: string): string {
  return value.replace(/[\\"']/g, (character) => `\\${character}`).replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}
