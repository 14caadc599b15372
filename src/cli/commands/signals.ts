/** `fleetpatch signals import`: load the CISA KEV catalogue and FIRST EPSS scores used for prioritisation. */
import type { Command } from 'commander';
import { InputError } from '../../domain/errors.js';
import { replaceEpssScores, replaceKevCatalogue } from '../../store/advisory-store.js';
import { withTransaction } from '../../store/transaction.js';
import { withDatabase } from '../database-session.js';
import { createProgress } from '../progress.js';
import { readEpssFile, readKevFile } from '../../feeds/signal-files.js';

export function registerSignalsCommand(program: Command): void {
  const signals = program.command('signals').description('Exploit signals (KEV, EPSS) in the database.');
  signals
    .command('import')
    .description('Replace the stored KEV catalogue and/or EPSS scores with the given files.')
    .option('--kev <file>', 'CISA known_exploited_vulnerabilities.json')
    .option('--epss <file>', 'FIRST EPSS scores CSV')
    .option('--json', 'print what was imported as JSON')
    .action(async (options: { kev?: string; epss?: string; json?: boolean }) => {
      if (!options.kev && !options.epss) throw new InputError('give --kev FILE, --epss FILE or both');
      const kev = options.kev ? await readKevFile(options.kev) : undefined;
      const epss = options.epss ? await readEpssFile(options.epss) : undefined;
      await withDatabase(createProgress(!options.json), (database) =>
        withTransaction(database.pool, async (client) => {
          if (kev) await replaceKevCatalogue(client, kev.entries);
          if (epss) await replaceEpssScores(client, epss.scores, epss.scoreDate);
        }),
      );
      if (options.json) {
        const report = {
          ...(kev ? { kev: { catalogVersion: kev.catalogVersion, entries: kev.entries.length } } : {}),
          ...(epss ? { epss: { scoreDate: epss.scoreDate ?? null, scores: epss.scores.length } } : {}),
        };
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      if (kev) process.stdout.write(`KEV catalogue ${kev.catalogVersion}: ${kev.entries.length} entries\n`);
      if (epss) process.stdout.write(`EPSS ${epss.scoreDate ?? ''}: ${epss.scores.length} scores\n`);
    });
}
