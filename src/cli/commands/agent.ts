/** `fleetpatch agent`: report this host (or a mounted root) to a fleetpatch server. */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { Agent, ServerUnavailableError } from '../../agent/agent.js';
import { splitHostExec } from '../../agent/host-exec.js';
import { ExitCode } from '../exit-codes.js';
import { collect, parseLabels } from '../inventory-input.js';
import { parsePositiveInteger } from './findings.js';
import { untilSignal } from './server.js';

interface AgentCommandOptions {
  server: string;
  enrollToken?: string;
  enrollTokenFile?: string;
  stateDir: string;
  root: string;
  hostname?: string;
  label?: string[];
  once?: boolean;
  interval: number;
  rebootCommand: string;
  hostExec?: string[];
  jobWaitSeconds: number;
}

const ENROLL_TOKEN_VARIABLE = 'FLEETPATCH_ENROLL_TOKEN';

export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('Report this host\'s packages, kernel and reboot state to a fleetpatch server (the agent calls the server).')
    .requiredOption('--server <url>', 'the fleetpatch server, e.g. https://fleetpatch.internal')
    .addOption(new Option('--enroll-token <token>', 'enrollment token, needed on first contact (visible in ps: prefer --enroll-token-file or the environment variable)').env(ENROLL_TOKEN_VARIABLE))
    .addOption(new Option('--enroll-token-file <file>', 'read the enrollment token from this file (e.g. a mounted Secret) when the agent enrolls').conflicts('enrollToken'))
    .option('--state-dir <dir>', 'where the credential, last report and spool are kept', process.getuid?.() === 0 ? '/var/lib/fleetpatch-agent' : join(homedir(), '.fleetpatch-agent'))
    .option('--root <dir>', 'read a mounted filesystem instead of /', '/')
    .option('--hostname <name>', 'report under this name instead of the system host name')
    .option('--label <key=value>', 'host label (repeatable), e.g. role=k8s-node', collect)
    .option('--once', 'check in once and exit (for cron, tests and image scans)')
    .option('--interval <seconds>', 'seconds between check-ins', parsePositiveInteger, 900)
    .option('--reboot-command <command>', 'how a rollout\'s reboot step reboots this host (run with sh -c, after the --host-exec prefix if given, once the server knows)', 'systemctl reboot')
    .option(
      '--host-exec <prefix>',
      'run every command of a rollout job on the host through this prefix, on the host\'s own root / instead of --root: the package manager\'s install and dry run, ' +
        'rpm queries, the policy\'s checks and rollback commands (sh -c, FLEETPATCH_ROOT=/) and --reboot-command; facts, and the dpkg and apk databases, are still read under --root. ' +
        'Split into words like a shell command, but no shell runs it. E.g. "nsenter -t 1 -m -u -i -n -p --" in a container with hostPID and the host\'s root at --root /host',
      (value: string) => splitHostExec(value, '--host-exec'),
    )
    .option('--job-wait-seconds <seconds>', 'how long each poll for a rollout job waits on the server, so a job starts within seconds', parsePositiveInteger, 25)
    .action(async (options: AgentCommandOptions) => {
      // Read by now: the commands jobs run (and their package scripts) need not inherit the token.
      delete process.env[ENROLL_TOKEN_VARIABLE];
      // A prefix with --root / is allowed: an agent on the host may still run its jobs through one
      // (outside its own sandbox, say); facts are read from / either way.
      const agent = new Agent({
        serverUrl: options.server.replace(/\/+$/, ''),
        stateDirectory: options.stateDir,
        root: options.root,
        labels: parseLabels(options.label ?? []),
        log: (message) => process.stderr.write(`fleetpatch agent: ${message}\n`),
        jobs: { rebootCommand: options.rebootCommand, waitSeconds: options.jobWaitSeconds, ...(options.hostExec ? { hostExec: options.hostExec } : {}) },
        ...(options.hostname ? { hostname: options.hostname } : {}),
        ...(options.enrollToken ? { enrollToken: options.enrollToken } : {}),
        ...(options.enrollTokenFile !== undefined ? { enrollTokenFile: options.enrollTokenFile } : {}),
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
