/** `fleetpatch agent`: report this host (or a mounted root) to a fleetpatch server. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Agent, ServerUnavailableError } from '../../agent/agent.js';
import { ExitCode } from '../exit-codes.js';
import { collect, parseLabels } from '../inventory-input.js';
import { parsePositiveInteger } from './findings.js';
import { untilSignal } from './server.js';

interface AgentCommandOptions {
  server: string;
  enrollToken?: string;
  stateDir: string;
  root: string;
  hostname?: string;
  label?: string[];
  once?: boolean;
  interval: number;
  rebootCommand: string;
  jobWaitSeconds: number;
}

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('Report this host\'s packages, kernel and reboot state to a fleetpatch server (the agent calls the server).')
    .requiredOption('--server <url>', 'the fleetpatch server, e.g. https://fleetpatch.internal')
    .option('--enroll-token <token>', 'enrollment token, needed on first contact')
    .option('--state-dir <dir>', 'where the credential, last report and spool are kept', process.getuid?.() === 0 ? '/var/lib/fleetpatch-agent' : join(homedir(), '.fleetpatch-agent'))
    .option('--root <dir>', 'read a mounted filesystem instead of /', '/')
    .option('--hostname <name>', 'report under this name instead of the system host name')
    .option('--label <key=value>', 'host label (repeatable), e.g. role=k8s-node', collect)
    .option('--once', 'check in once and exit (for cron, tests and image scans)')
    .option('--interval <seconds>', 'seconds between check-ins', parsePositiveInteger, 900)
    .option('--reboot-command <command>', 'how a rollout\'s reboot step reboots this host (run with sh -c once the server knows)', 'systemctl reboot')
    .option('--job-wait-seconds <seconds>', 'how long each poll for a rollout job waits on the server, so a job starts within seconds', parsePositiveInteger, 25)
    .action(async (options: AgentCommandOptions) => {
      const agent = new Agent({
        serverUrl: options.server.replace(/\/+$/, ''),
        stateDirectory: options.stateDir,
        root: options.root,
        labels: parseLabels(options.label ?? []),
        log: (message) => process.stderr.write(`fleetpatch agent: ${message}\n`),
        jobs: { rebootCommand: options.rebootCommand, waitSeconds: options.jobWaitSeconds },
        ...(options.hostname ? { hostname: options.hostname } : {}),
        ...(options.enrollToken ? { enrollToken: options.enrollToken } : {}),
      });
      if (options.once) {
        try {
          process.stdout.write(`check-in: ${await agent.runOnce()}\n`);
        } catch (error) {
          if (!(error instanceof ServerUnavailableError)) throw error;
          process.stderr.write(`fleetpatch agent: ${error.message}; the check-in is spooled and sent next time\n`);
          process.exitCode = ExitCode.unavailable;
        }
        return;
      }
      const stop = new AbortController();
      void untilSignal().then(() => stop.abort());
      await agent.runForever(options.interval, stop.signal);
    });
}
