/**
 * The few Markdown rules the incident's status updates and timeline share. Host and bucket names
 * pass as they are (their rules admit no Markdown syntax that matters mid-word); free text — team
 * names, details, reasons, people's names — is escaped, so a `|` cannot break a table and a `*`
 * cannot start emphasis in a postmortem.
 */

/** UTC to the minute, the way incident channels write times: `2026-12-01 14:00 UTC`. */
export function utcMinute(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * Free text as one line of Markdown that renders as written.
 *
 * @example markdownText('a|b *c*\nd') // 'a\\|b \\*c\\* d'
 */
export function markdownText(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').replace(/[\\`*_[\]<>|#]/g, (character) => `\\${character}`);
}
