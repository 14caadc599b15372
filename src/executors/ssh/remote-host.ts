/**
 * The operations of remote-step.sh on a connected host, as the executor calls them: read the
 * host's facts, claim and finish a journal entry, run a command under a timeout, start a reboot.
 * Each is one channel running `sh -c SCRIPT` (through `sudo -n` when the bucket says so).
 */
import { parseInventory, type InventoryFormat } from '../../domain/inventory/index.js';
import { osvEcosystemFor } from '../../domain/inventory/os-ecosystem.js';
import { parseOsRelease } from '../../domain/inventory/os-release.js';
import { RPM_QUERY_FORMAT } from '../../domain/inventory/rpm-qa.js';
import type { InstalledPackage } from '../../domain/types.js';
import { jobResultSchema, type JobResult } from '../../protocol/job-protocol.js';
import type { RemoteFacts } from '../executor.js';
import type { JobOutputTail } from '../../protocol/output-tail.js';
import type { ExecOutcome, SshConnection } from './ssh-connection.js';

export interface HostFacts {
  facts: RemoteFacts;
  /** `${FLEETPATCH_ROOT:-/}` on the host, always ending in `/`. */
  root: string;
  format: InventoryFormat;
  packages: InstalledPackage[];
}

/** What the journal held for a key when the step claimed it. */
export type Claim = { state: 'new' } | { state: 'finished'; result: JobResult } | { state: 'started' };

export interface RemoteRun {
  exitCode?: number;
  exitSignal?: string;
  timedOut: boolean;
}

/** `connection-lost`: what the host did meanwhile is unknown; `stopped`: the step's signal ended it. */
export class RemoteStepError extends Error {
  override readonly name = 'RemoteStepError';
  constructor(
    readonly kind: 'connection-lost' | 'failed' | 'stopped',
    message: string,
  ) {
    super(message);
  }
}

/** A package database is read whole; a host's is a few MiB, this only stops a runaway one. */
const MAX_STDOUT_BYTES = 256 * 1024 * 1024;
const TIMED_OUT_LINE = 'fleetpatch-remote-step: timed out';
const PACKAGE_SECTIONS: Record<string, RemoteFacts['packageDatabase']['format']> = {
  'packages-dpkg-status': 'dpkg-status',
  'packages-apk': 'apk',
  'packages-rpm': 'rpm',
};

export class RemoteHost {
  constructor(
    private readonly connection: SshConnection,
    private readonly script: string,
    private readonly sudo: boolean,
    /** `web-1 (10.0.0.7:22)`, for messages. */
    private readonly description: string,
  ) {}

  async facts(signal: AbortSignal): Promise<HostFacts> {
    const sections = parseSections(await this.operation('facts', [RPM_QUERY_FORMAT], { signal }));
    const root = sections.get('root') ?? '/';
    const osRelease = sections.get('os-release');
    if (osRelease === undefined) throw new RemoteStepError('failed', `${this.description}: no os-release file under ${root}`);
    const packageSection = Object.keys(PACKAGE_SECTIONS).find((name) => sections.has(name));
    if (!packageSection) throw new RemoteStepError('failed', `${this.description}: no package database under ${root} (looked for dpkg, apk and rpm)`);
    const packageDatabase = { format: PACKAGE_SECTIONS[packageSection]!, text: sections.get(packageSection)! };
    const bootId = sections.get('boot-id')?.trim();
    const runningKernel = sections.get('running-kernel')?.trim();
    const facts: RemoteFacts = {
      hostname: (sections.get('hostname') ?? '').trim(),
      osRelease,
      packageDatabase,
      ...(bootId ? { bootId } : {}),
      ...(runningKernel ? { runningKernel } : {}),
      rebootRequired: sections.get('reboot-required') === 'yes',
    };
    // Names and versions are all a step compares, so a release no advisory ecosystem covers still reads.
    const parsed = parseInventory({ text: packageDatabase.text, fileName: `${this.description}: ${packageDatabase.format}`, format: packageDatabase.format, osEcosystem: ecosystemOf(osRelease) });
    return { facts, root, format: packageDatabase.format, packages: parsed.packages };
  }

  /** Claims the key's journal entry: `new` means this run, and only this one, may act. */
  async claim(entry: string, marker: object, signal: AbortSignal): Promise<Claim> {
    const text = (await this.operation('begin', [entry], { stdin: `${JSON.stringify(marker)}\n`, signal })).toString('utf8');
    const [state, ...rest] = text.split('\n');
    if (state === 'new' || state === 'started') return { state };
    if (state !== 'finished') throw new RemoteStepError('failed', `${this.description}: the journal answered ${JSON.stringify(text.slice(0, 200))}`);
    const stored = jobResultSchema.safeParse(safeJson(rest.join('\n')));
    if (!stored.success) throw new RemoteStepError('failed', `${this.description}: the journal's result for ${entry} is unreadable; it is not run again`);
    return { state: 'finished', result: stored.data };
  }

  async finish(entry: string, result: JobResult, signal: AbortSignal): Promise<void> {
    await this.operation('finish', [entry], { stdin: `${JSON.stringify(result)}\n`, signal });
  }

  /**
   * Runs `argv` on the host, its output into `output`; the host kills it at `timeoutMs`, or when
   * `signal` closes the channel. A stopped run throws, so the caller reports why it stopped.
   */
  async run(argv: string[], timeoutMs: number, output: JobOutputTail, signal: AbortSignal): Promise<RemoteRun> {
    const outcome = await this.connection.exec(this.command('run', [String(timeoutMs), ...argv]), { onStdout: (chunk) => output.append(chunk), signal });
    this.throwIfCut(outcome);
    const timedOut = outcome.stderr.split('\n').includes(TIMED_OUT_LINE);
    const stderr = outcome.stderr.split('\n').filter((line) => line !== TIMED_OUT_LINE).join('\n');
    if (stderr.trim()) output.append(stderr);
    const sudoRefusal = this.sudoRefusal(outcome);
    if (sudoRefusal) throw new RemoteStepError('failed', sudoRefusal);
    return { ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }), ...(outcome.exitSignal ? { exitSignal: outcome.exitSignal } : {}), timedOut };
  }

  /**
   * Journals `started` as the key's result, then runs the host's reboot command. Resolves once the
   * result is journalled and the command ended, the connection dropped (as a reboot does) or
   * `waitMs` passed after the journalling; returns how the command ended when that was seen.
   */
  async reboot(entry: string, started: JobResult, waitMs: number, signal: AbortSignal): Promise<{ exitCode?: number; output: string }> {
    let stdout = '';
    let journalled = false;
    const waited = new AbortController();
    const onStop = () => waited.abort();
    signal.addEventListener('abort', onStop, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const outcome = await this.connection.exec(this.command('reboot', [entry]), {
        stdin: `${JSON.stringify(started)}\n`,
        signal: waited.signal,
        onStdout: (chunk) => {
          stdout += chunk.toString('utf8');
          if (!journalled && stdout.startsWith('rebooting\n')) {
            journalled = true;
            timer = setTimeout(() => waited.abort(), waitMs);
          }
        },
      });
      if (!journalled) {
        this.throwIfCut(outcome);
        throw new RemoteStepError('failed', this.sudoRefusal(outcome) ?? `${this.description}: the reboot could not be journalled (${describeExit(outcome)}): ${outcome.stderr.trim()}`);
      }
      return { ...(outcome.exitCode === undefined ? {} : { exitCode: outcome.exitCode }), output: stdout.slice('rebooting\n'.length) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onStop);
    }
  }

  private async operation(name: string, args: string[], options: { stdin?: string; signal: AbortSignal }): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    const outcome = await this.connection.exec(this.command(name, args), {
      stdin: options.stdin ?? '',
      signal: options.signal,
      onStdout: (chunk) => {
        size += chunk.length;
        if (size <= MAX_STDOUT_BYTES) chunks.push(chunk);
      },
    });
    this.throwIfCut(outcome);
    if (outcome.exitCode !== 0) throw new RemoteStepError('failed', this.sudoRefusal(outcome) ?? `${this.description}: ${name} failed on the host (${describeExit(outcome)}): ${outcome.stderr.trim() || 'no message'}`);
    if (size > MAX_STDOUT_BYTES) throw new RemoteStepError('failed', `${this.description}: ${name} answered more than ${MAX_STDOUT_BYTES} bytes`);
    return Buffer.concat(chunks);
  }

  private throwIfCut(outcome: ExecOutcome): void {
    if (outcome.aborted) throw new RemoteStepError('stopped', 'stopped');
    if (outcome.connectionLost) throw new RemoteStepError('connection-lost', `the connection to ${this.description} was lost (${outcome.connectionLost})`);
    if (outcome.channelError) throw new RemoteStepError('failed', `${this.description} refused to run a command (${outcome.channelError})`);
  }

  private sudoRefusal(outcome: ExecOutcome): string | undefined {
    if (!this.sudo || !/sudo: (a password is required|a terminal is required)/.test(outcome.stderr)) return undefined;
    return `${this.description}: sudo asks for a password (sudo -n refused): let the SSH user run sudo without one (NOPASSWD), or connect as root`;
  }

  private command(operation: string, args: string[]): string {
    const invocation = ['sh', '-c', this.script, 'fleetpatch-remote-step', operation, ...args].map(shellQuote).join(' ');
    if (!this.sudo) return `exec ${invocation}`;
    // sudo resets the environment: the host's root, reboot command and apt configuration are passed on.
    return `exec sudo -n env "FLEETPATCH_ROOT=\${FLEETPATCH_ROOT:-/}" "FLEETPATCH_REBOOT_COMMAND=\${FLEETPATCH_REBOOT_COMMAND:-systemctl reboot}" \${APT_CONFIG:+"APT_CONFIG=$APT_CONFIG"} ${invocation}`;
  }
}

export function describeExit(run: { exitCode?: number; exitSignal?: string }): string {
  if (run.exitCode !== undefined) return `exit ${run.exitCode}`;
  return run.exitSignal ? `killed by SIG${run.exitSignal}` : 'no exit status';
}

/** One word for a POSIX shell, whatever it holds. */
function shellQuote(word: string): string {
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/** remote-step.sh's framing: `NAME BYTES\n`, then exactly that many bytes and a newline. */
function parseSections(stdout: Buffer): Map<string, string> {
  const sections = new Map<string, string>();
  let offset = 0;
  while (offset < stdout.length) {
    const headerEnd = stdout.indexOf(0x0a, offset);
    const header = /^([a-z-]+) (\d+)$/.exec(stdout.subarray(offset, headerEnd < 0 ? stdout.length : headerEnd).toString('latin1'));
    const start = headerEnd + 1;
    const end = start + Number(header?.[2]);
    if (!header || headerEnd < 0 || end >= stdout.length || stdout[end] !== 0x0a) throw new RemoteStepError('failed', `the host's facts are not framed as remote-step.sh frames them (at byte ${offset})`);
    sections.set(header[1]!, stdout.subarray(start, end).toString('utf8'));
    offset = end + 1;
  }
  return sections;
}

function ecosystemOf(osRelease: string): string {
  try {
    return osvEcosystemFor(parseOsRelease(osRelease, 'os-release')) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
