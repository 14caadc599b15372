/**
 * Plain-text tables for the terminal: column widths fit the content, long cells are cut, and
 * control characters are shown escaped. Cells hold data from hosts and files (host names, labels,
 * package names), which must not move the cursor, recolour the terminal or break a row.
 */

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  /** Cut cells longer than this (with an ellipsis); default {@link DEFAULT_MAX_WIDTH}. */
  maxWidth?: number;
  align?: 'left' | 'right';
}

/** No column grows past this unless it asks to: one 2000-character name must not widen the table. */
export const DEFAULT_MAX_WIDTH = 64;

/**
 * @example renderTable([{ n: 'a' }], [{ header: 'NAME', value: (row) => row.n }]) // 'NAME\na   \n'
 */
export function renderTable<T>(rows: T[], columns: Column<T>[]): string {
  const cells = rows.map((row) => columns.map((column) => displayCell(column.value(row), column.maxWidth ?? DEFAULT_MAX_WIDTH)));
  const widths = columns.map((column, index) => Math.max(column.header.length, ...cells.map((row) => row[index]!.width)));
  const line = (values: DisplayCell[]) =>
    values
      .map((value, index) => {
        const padding = ' '.repeat(widths[index]! - value.width);
        return columns[index]!.align === 'right' ? padding + value.text : value.text + padding;
      })
      .join('  ')
      .trimEnd();
  return [line(columns.map((column) => ({ text: column.header, width: column.header.length }))), ...cells.map(line)].join('\n') + '\n';
}

export interface DisplayCell {
  text: string;
  /** Columns it takes, counted in user-perceived characters (grapheme clusters). */
  width: number;
}

/**
 * A Unicode control character (C0, DEL, C1), a bidirectional formatting character (which can
 * reorder what the terminal shows, e.g. U+202E) or a line or paragraph separator.
 */
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/gu;
const PLAIN = /^[\x20-\x7e]*$/;
const NAMED_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/**
 * Control characters escaped (`\x1b`, `\n`, `\u{202e}`), then cut to `maxWidth` with an ellipsis.
 * The cut never splits an escape or a grapheme cluster. Backslashes stay as they are: this is for
 * reading, `--json` is the exact form.
 *
 * @example displayCell('\x1b[31mred', 8) // { text: '\\x1b[31…', width: 8 }
 */
export function displayCell(value: string, maxWidth: number): DisplayCell {
  if (PLAIN.test(value)) return value.length > maxWidth ? { text: `${value.slice(0, maxWidth - 1)}…`, width: maxWidth } : { text: value, width: value.length };
  const units = Array.from(graphemes.segment(value), ({ segment }) => {
    const text = escapeControlCharacters(segment);
    // An escape takes one column per character; an ordinary cluster (e.g. e + combining accent) one.
    return { text, width: text === segment ? 1 : [...text].length };
  });
  const width = units.reduce((sum, unit) => sum + unit.width, 0);
  if (width <= maxWidth) return { text: units.map((unit) => unit.text).join(''), width };
  let text = '';
  let used = 0;
  for (const unit of units) {
    if (used + unit.width > maxWidth - 1) break;
    text += unit.text;
    used += unit.width;
  }
  return { text: `${text}…`, width: used + 1 };
}

/** `value` with control and bidirectional formatting characters written as escapes. */
export function escapeControlCharacters(value: string): string {
  return value.replace(UNSAFE, escapeCharacter);
}

function escapeCharacter(character: string): string {
  const named = NAMED_ESCAPES[character];
  if (named) return named;
  const code = character.codePointAt(0)!;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
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
