/**
 * CSV for spreadsheets and scripts (RFC 4180: comma-separated, CRLF, fields with commas, quotes or
 * line breaks quoted). A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab,
 * carriage return first) gets a leading apostrophe: cells hold host names and labels from hosts.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

function field(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * @example toCsv(['host', 'bucket'], [['db-1', 'databases']]) // 'host,bucket\r\ndb-1,databases\r\n'
 */
export function toCsv(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [header, ...rows].map((row) => row.map(field).join(',')).join('\r\n') + '\r\n';
}
