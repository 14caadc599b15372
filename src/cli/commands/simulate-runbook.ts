/**
 * `fleetpatch simulate-runbook` (hidden): what the `--demo` fleet's runbook scripts run. It hands
 * the call (its arguments and FLEETPATCH_* environment, as the command hook set them) to the demo's
 * simulated infrastructure in the `fleetpatch start --demo` process, prints what the simulated
 * runbook said and exits with its exit status, so the command-hook executor sees a runbook.
 */
import type { Command } from 'commander';
import type { RunbookAnswer, RunbookCall } from '../../simulator/demo-infrastructure.js';
import { ExitCode } from '../exit-codes.js';

export function registerSimulateRunbookCommand(program: Command): void {
  program
    .command('simulate-runbook', { hidden: true })
    .description('Run one of the --demo fleet\'s simulated runbooks (its scripts call this).')
    .requiredOption('--simulator <url>', 'the demo\'s simulated infrastructure')
    .argument('<runbook>', 'patch-host, provision-from-baseline or retire-instance')
    .argument('[args...]', 'the runbook\'s own arguments (--upgrade, --reboot …)')
    .allowUnknownOption()
    .action(async (runbook: string, args: string[], options: { simulator: string }) => {
      const environment = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[0].startsWith('FLEETPATCH_') && entry[1] !== undefined));
      const call: RunbookCall = { args, environment };
      let answer: RunbookAnswer;
      try {
        const response = await fetch(`${options.simulator}/runbooks/${encodeURIComponent(runbook)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(call), signal: AbortSignal.timeout(60_000) });
        answer = (await response.json()) as RunbookAnswer;
      } catch (error) {
        process.stderr.write(`simulated ${runbook}: the demo's simulated infrastructure at ${options.simulator} did not answer (${error instanceof Error ? error.message : String(error)}); is fleetpatch start --demo running?\n`);
        process.exitCode = ExitCode.unavailable;
        return;
      }
      process.stdout.write(answer.stdout);
      process.stderr.write(answer.stderr);
      process.exitCode = answer.exitCode;
    });
}
