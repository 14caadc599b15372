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

/** The columns every finding listing shares (scan and findings), after any host column. */
export function findingColumns<T extends { package: string; installedVersion: string; advisoryId: string; aliases: string[]; related: string[]; fixedVersion?: string; severity: string; knownExploited: boolean; riskScore: number; state: string }>(): Column<T>[] {
  return [
    { header: 'PACKAGE', value: (row) => row.package, maxWidth: 28 },
    { header: 'INSTALLED', value: (row) => row.installedVersion, maxWidth: 28 },
    { header: 'ADVISORY', value: (row) => row.advisoryId },
    { header: 'CVE', value: (row) => cveOf(row), maxWidth: 18 },
    { header: 'FIXED', value: (row) => row.fixedVersion ?? '-', maxWidth: 28 },
    { header: 'SEVERITY', value: (row) => row.severity },
    { header: 'KEV', value: (row) => (row.knownExploited ? 'yes' : '') },
    { header: 'RISK', value: (row) => String(row.riskScore), align: 'right' },
    { header: 'STATE', value: (row) => row.state },
  ];
}
