/**
 * `fleetpatch versions compare`: the comparators on the command line, one pair from arguments or a
 * stream of pairs on standard input (fast enough for millions of lines).
 */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { InputError } from '../../domain/errors.js';
import type { VersionScheme } from '../../domain/types.js';
import { ALL_SCHEMES, comparatorFor } from '../../domain/versions/index.js';

const OUTPUT_BUFFER_LINES = 8_192;

export function registerVersionsCommand(program: Command): void {
  const versions = program.command('versions').description('Version comparison exactly as each ecosystem orders versions.');
  versions
    .command('compare')
    .description('Print -1, 0 or 1 for A compared with B; without A and B, read "A B" pairs from standard input, one per line.')
    .requiredOption('--ecosystem <scheme>', `version scheme: ${ALL_SCHEMES.join(', ')}`)
    .argument('[a]', 'first version')
    .argument('[b]', 'second version')
    .action(async (a: string | undefined, b: string | undefined, options: { ecosystem: string }) => {
      const scheme = parseScheme(options.ecosystem);
      const comparator = comparatorFor(scheme);
      if (a !== undefined && b !== undefined) {
        process.stdout.write(`${comparator.compare(a, b)}\n`);
        return;
      }
      if (a !== undefined) throw new InputError('give two versions, or none to read pairs from standard input');
      await compareStream(scheme);
    });
}

function parseScheme(value: string): VersionScheme {
  if ((ALL_SCHEMES as string[]).includes(value)) return value as VersionScheme;
  throw new InputError(`unknown ecosystem ${JSON.stringify(value)}`, { field: '--ecosystem' }, `choose one of ${ALL_SCHEMES.join(', ')}`);
}

async function compareStream(scheme: VersionScheme): Promise<void> {
  const comparator = comparatorFor(scheme);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let buffer: string[] = [];
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    const fields = line.trim().split(/\s+/);
    if (fields.length === 1 && fields[0] === '') continue;
    if (fields.length !== 2) {
      throw new InputError(`expected two whitespace-separated versions, found ${fields.length} field(s)`, { file: '<stdin>', line: lineNumber });
    }
    buffer.push(String(comparator.compare(fields[0]!, fields[1]!)));
    if (buffer.length === OUTPUT_BUFFER_LINES) {
      await write(buffer);
      buffer = [];
    }
  }
  if (buffer.length > 0) await write(buffer);
}

/** Writes a batch and waits for the pipe to drain, so a slow reader does not grow memory. */
function write(lines: string[]): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(`${lines.join('\n')}\n`)) resolve();
    else process.stdout.once('drain', resolve);
  });
}
