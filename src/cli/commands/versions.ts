/**
 * `fleetpatch versions compare`: the comparators on the command line, one pair from arguments or a
 * stream of pairs on standard input (about 1.5 s for a million dpkg pairs).
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { InputError } from '../../domain/errors.js';
import type { VersionScheme } from '../../domain/types.js';
import type { VersionComparator } from '../../domain/versions/comparator.js';
import { ALL_SCHEMES, comparatorFor } from '../../domain/versions/index.js';

const OUTPUT_BUFFER_LINES = 16_384;
const STDIN = '<stdin>';

/**
 * Adds `versions compare --ecosystem <scheme> [a] [b]`.
 *
 * @example registerVersionsCommand(program) // fleetpatch versions compare --ecosystem dpkg 1.0-1 1.0-2  → -1
 */
export function registerVersionsCommand(program: Command): void {
  const versions = program.command('versions').description('Version comparison exactly as each ecosystem orders versions.');
  versions
    .command('compare')
    .description(
      'Print -1, 0 or 1 for A compared with B. Without A and B, read one "A B" pair per line (whitespace separated) from standard input and print one result per line.',
    )
    .requiredOption('--ecosystem <scheme>', `version scheme: ${ALL_SCHEMES.join(', ')}`)
    .argument('[a]', 'first version')
    .argument('[b]', 'second version')
    .action(async (a: string | undefined, b: string | undefined, options: { ecosystem: string }) => {
      const comparator = comparatorFor(parseScheme(options.ecosystem));
      if (a !== undefined && b !== undefined) {
        process.stdout.write(`${comparator.compare(a, b)}\n`);
        return;
      }
      if (a !== undefined) throw new InputError('give two versions, or none to read pairs from standard input');
      await compareStream(comparator);
    });
}

function parseScheme(value: string): VersionScheme {
  if ((ALL_SCHEMES as string[]).includes(value)) return value as VersionScheme;
  throw new InputError(`unknown ecosystem ${JSON.stringify(value)}`, { field: '--ecosystem' }, `choose one of ${ALL_SCHEMES.join(', ')}`);
}

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 13 || code === 11 || code === 12;
}

async function compareStream(comparator: VersionComparator): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let output = '';
  let buffered = 0;
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      // Split into fields by scanning: the loop runs a million times, a regex split per line costs.
      let index = 0;
      while (index < line.length && isSpace(line.charCodeAt(index))) index++;
      if (index === line.length) continue;
      const aStart = index;
      while (index < line.length && !isSpace(line.charCodeAt(index))) index++;
      const aEnd = index;
      while (index < line.length && isSpace(line.charCodeAt(index))) index++;
      const bStart = index;
      while (index < line.length && !isSpace(line.charCodeAt(index))) index++;
      const bEnd = index;
      while (index < line.length && isSpace(line.charCodeAt(index))) index++;
      if (bStart === bEnd || index !== line.length) {
        const fields = line.trim().split(/\s+/).length;
        throw new InputError(`expected two whitespace-separated versions, found ${fields} field(s)`, { file: STDIN, line: lineNumber });
      }
      output += `${compareOnLine(comparator, line.slice(aStart, aEnd), line.slice(bStart, bEnd), lineNumber)}\n`;
      if (++buffered === OUTPUT_BUFFER_LINES) {
        await write(output);
        output = '';
        buffered = 0;
      }
    }
  } finally {
    // Results for the lines before a bad one are still printed.
    if (output !== '') await write(output);
  }
}

/** Compares one pair; a version the ecosystem rejects is reported with its line number. */
function compareOnLine(comparator: VersionComparator, a: string, b: string, lineNumber: number): number {
  try {
    return comparator.compare(a, b);
  } catch (error) {
    if (error instanceof InputError) throw new InputError(error.message, { file: STDIN, line: lineNumber }, error.hint);
    throw error;
  }
}

/** Writes a batch and waits for the pipe to drain, so a slow reader does not grow memory. */
function write(text: string): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(text)) resolve();
    else process.stdout.once('drain', resolve);
  });
}
