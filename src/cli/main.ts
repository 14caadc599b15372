/**
 * Entry point of the `fleetpatch` command: wires every subcommand and maps errors to exit codes.
 * Subcommands live one per file in `commands/`; each exports a `register…` function.
 */
import { Command, CommanderError } from 'commander';
import { InputError } from '../domain/errors.js';
import { ExitCode } from './exit-codes.js';
import { FeedUnreachableError } from '../feeds/advisory-feed.js';
import { registerAccessCommands } from './commands/access.js';
import { registerAdvisoriesCommand } from './commands/advisories.js';
import { registerAgentCommand } from './commands/agent.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerNodesCommand } from './commands/nodes.js';
import { registerNotificationsCommand } from './commands/notifications.js';
import { registerFindingsCommand } from './commands/findings.js';
import { registerHostsCommand } from './commands/hosts.js';
import { registerIncidentCommand } from './commands/incident.js';
import { registerInventoryCommand } from './commands/inventory.js';
import { registerPolicyCommand } from './commands/policy.js';
import { registerPlanCommand } from './commands/plan.js';
import { registerReportCommand } from './commands/report.js';
import { registerRolloutCommand } from './commands/rollout.js';
import { registerScanCommand } from './commands/scan.js';
import { registerServerCommand } from './commands/server.js';
import { registerSignalsCommand } from './commands/signals.js';
import { registerSimulateRunbookCommand } from './commands/simulate-runbook.js';
import { registerStartCommand } from './commands/start.js';
import { registerVersionsCommand } from './commands/versions.js';
import { registerVexCommand } from './commands/vex.js';

export function buildProgram(): Command {
  const program = new Command('fleetpatch')
    .description('Fleet patch management: know what every host runs, which advisories apply, and patch in gated waves.')
    .version('0.1.0')
    .showHelpAfterError()
    // Options belong to the command they follow, so a subcommand may reuse its parent's option
    // names (`findings --host` filters, `findings accept --host` scopes the acceptance).
    .enablePositionalOptions()
    .exitOverride();
  registerStartCommand(program);
  registerServerCommand(program);
  registerAgentCommand(program);
  registerScanCommand(program);
  registerPlanCommand(program);
  registerRolloutCommand(program);
  registerIncidentCommand(program);
  registerInventoryCommand(program);
  registerNodesCommand(program);
  registerAdvisoriesCommand(program);
  registerSignalsCommand(program);
  registerFindingsCommand(program);
  registerAccessCommands(program, registerHostsCommand(program));
  registerVersionsCommand(program);
  registerAuditCommand(program);
  registerReportCommand(program);
  registerVexCommand(program);
  registerNotificationsCommand(program);
  registerPolicyCommand(program);
  registerSimulateRunbookCommand(program);
  return program;
}

/** Runs the CLI and returns the process exit code (never calls `process.exit`, so tests can call it). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has already printed usage or help.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.inputError;
  }
  if (error instanceof FeedUnreachableError) {
    process.stderr.write(`fleetpatch: ${error.message}\n`);
    return ExitCode.unavailable;
  }
  if (error instanceof InputError) {
    process.stderr.write(`fleetpatch: ${error.message}\n${error.hint ? `hint: ${error.hint}\n` : ''}`);
    return ExitCode.inputError;
  }
  process.stderr.write(`fleetpatch: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return ExitCode.internalError;
}
