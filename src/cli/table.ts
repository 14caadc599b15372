/** Plain-text tables for the terminal: column widths fit the content, long cells are cut. */

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Cut cells longer than this (with an ellipsis). */
  maxWidth?: number;
  align?: 'left' | 'right';
}

/**
 * @example renderTable([{ n: 'a' }], [{ header: 'NAME', value: (row) => row.n }]) // 'NAME\na   \n'
 */
export function renderTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => cut(column.value(row), column.maxWidth)));
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((row) => row[index]!.length)));
  const line = (values: string[]) =>
    values
      .map((value, index) => (columns[index]!.align === 'right' ? value.padStart(widths[index]!) : value.padEnd(widths[index]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => column.header)), ...cells.map(line)].join('\n') + '\n';
}

function cut(value: string, maxWidth: number | undefined): string {
  return maxWidth !== undefined && value.length > maxWidth ? `${value.slice(0, maxWidth - 1)}…` : value;
}

/** The CVE to show for an advisory: its own CVE alias, else the first CVE it fixes (+N more). */
export function cveOf(row: { aliases: string[]; related: string[] }): string {
  const cves = [...row.aliases, ...row.related].filter((id) => id.startsWith('CVE-'));
  if (cves.length === 0) return '';
  return cves.length === 1 ? cves[0]! : `${cves[0]} +${cves.length - 1}`;
}
