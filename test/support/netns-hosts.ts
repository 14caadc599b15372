/**
 * Test hosts reached over real SSH. Each is a network namespace joined to this one by a veth pair
 * in a private /30 (10.213.x.y), with its own sshd (its own ed25519 host key, the fleet's client
 * key authorized, root logging in by key only) whose sessions see the host's directory root from
 * test-hosts.ts (Debian 12, its own dpkg database, apt sources and lists for the test repository)
 * through `SetEnv FLEETPATCH_ROOT APT_CONFIG FLEETPATCH_REBOOT_COMMAND`.
 *
 * A host's reboot is its reboot command: the next boot (test-hosts' `reboot.sh --boot-only`: a new
 * boot id, the newest installed kernel running, reboot-required gone), then every sshd of the
 * namespace is stopped, so connections drop as in a power cycle, and this harness starts sshd
 * again. Everything is removed by `destroy()` (idempotent, also on exit), even after a failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '../required-tools.js';
import { createTestHost, waitFor, type TestAptRepository, type TestHost } from '../test-hosts.js';

export interface NetnsHost extends Pick<TestHost, 'name' | 'directory' | 'root' | 'installed' | 'bootId' | 'runningKernel'> {
  namespace: string;
  /** The host's address (in its namespace); also its `ssh-address` label. */
  address: string;
  labels: Record<string, string>;
  /** `ssh-ed25519 AAAA…`, as a known_hosts line carries it after the host's name. */
  hostKey: string;
  /** `SHA256:…`, as ssh-keygen -l prints it. */
  hostKeyFingerprint: string;
  /** One line per reboot: time and the kernel it booted. */
  reboots(): string[];
  /** The names of the entries in the host's SSH job journal. */
  journalEntries(): string[];
  sshdLog(): string;
  /** sshd processes started so far (1 + restarts). */
  sshdStarts(): number;
  /** Stops sshd and keeps it down (the host is unreachable) until `startSshd()`. */
  stopSshd(): Promise<void>;
  /** Starts sshd and waits until it accepts connections. */
  startSshd(): Promise<void>;
  /** The host's sudo (a stand-in for sudo, on its sessions' PATH) asks for a password, or no longer. */
  sudoAsksForPassword(asks: boolean): void;
}

export interface NetnsFleet {
  hosts: NetnsHost[];
  /** The private key every host authorizes for root. */
  clientKeyPath: string;
  directory: string;
  destroy(): Promise<void>;
}

export interface NetnsFleetOptions {
  names: string[];
  repository: TestAptRepository;
  /** `name=version` installed on every host (test-hosts' DEMO_INSTALLED by default). */
  installed?: string[];
}

const SSHD = '/usr/sbin/sshd';
/** Namespaces are named `fpssh<pid>-<n>`: a crashed run's leftovers are recognised by their dead pid. */
const NAMESPACE_PREFIX = 'fpssh';
const live = new Set<() => void>();
process.once('exit', () => {
  for (const destroy of live) destroy();
});

/**
 * Why network namespaces cannot be made here (not root, no `ip`), or undefined when they can: the
 * SSH tests skip only then.
 */
export function netnsUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root (ip netns add)';
  const probe = `${NAMESPACE_PREFIX}${process.pid}-probe`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return undefined;
  } catch (error) {
    return `ip netns add failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

/**
 * @example const fleet = await createNetnsHosts({ names: ['web-1', 'web-2', 'web-3'], repository })
 */
export async function createNetnsHosts(options: NetnsFleetOptions): Promise<NetnsFleet> {
  requireTool('openssh-server');
  removeLeftovers();
  const directory = mkdtempSync(join(tmpdir(), 'fp-ssh-hosts-'));
  const clientKeyPath = join(directory, 'client_ed25519');
  keygen(clientKeyPath, 'fleetpatch-tests');
  // sshd's privilege separation directory, which the ssh service would create at boot.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const blocks = freeAddressBlocks(options.names.length);
  const hosts: ManagedHost[] = [];
  const destroy = async () => {
    for (const host of hosts) await host.destroy();
    rmSync(directory, { recursive: true, force: true });
    live.delete(destroySync);
  };
  const destroySync = () => {
    for (const host of hosts) host.destroyNow();
    rmSync(directory, { recursive: true, force: true });
  };
  live.add(destroySync);
  try {
    for (const [index, name] of options.names.entries()) {
      hosts.push(createHost({ directory, name, index, block: blocks[index]!, repository: options.repository, installed: options.installed, clientKeyPath }));
    }
    await Promise.all(hosts.map((host) => host.host.startSshd()));
  } catch (error) {
    await destroy();
    throw error;
  }
  return { hosts: hosts.map((host) => host.host), clientKeyPath, directory, destroy };
}

interface ManagedHost {
  host: NetnsHost;
  destroy(): Promise<void>;
  destroyNow(): void;
}

function createHost(options: { directory: string; name: string; index: number; block: number; repository: TestAptRepository; installed: string[] | undefined; clientKeyPath: string }): ManagedHost {
  const testHost = createTestHost(options.directory, { name: options.name, repository: options.repository, ...(options.installed ? { installed: options.installed } : {}) });
  const hostDirectory = testHost.directory;
  const namespace = `${NAMESPACE_PREFIX}${process.pid}-${options.index}`;
  const outside = `fp${process.pid.toString(36)}${options.index}h`;
  const inside = `fp${process.pid.toString(36)}${options.index}n`;
  const [gateway, address] = [addressOf(options.block, 1), addressOf(options.block, 2)];

  const hostKeyPath = join(hostDirectory, 'ssh_host_ed25519_key');
  keygen(hostKeyPath, options.name);
  const hostKey = readFileSync(`${hostKeyPath}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const hostKeyFingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${hostKeyPath}.pub`], { encoding: 'utf8' }).split(/\s+/)[1]!;
  writeFileSync(join(hostDirectory, 'authorized_keys'), readFileSync(`${options.clientKeyPath}.pub`));
  const aptConfig = join(hostDirectory, 'apt.conf');
  writeFileSync(aptConfig, `Dir "${testHost.root}/";\n`);
  const rebootScript = join(hostDirectory, 'ssh-reboot.sh');
  writeFileSync(rebootScript, rebootScriptText(hostDirectory, namespace), { mode: 0o755 });
  mkdirSync(join(hostDirectory, 'bin'));
  writeFileSync(join(hostDirectory, 'bin/sudo'), fakeSudoText(hostDirectory), { mode: 0o755 });
  const config = join(hostDirectory, 'sshd_config');
  writeFileSync(config, [
    `ListenAddress ${address}`,
    'Port 22',
    `HostKey ${hostKeyPath}`,
    `PidFile ${join(hostDirectory, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(hostDirectory, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The host's files live under the test's temporary directory, which sshd's owner checks refuse.
    'StrictModes no',
    `SetEnv FLEETPATCH_ROOT=${testHost.root} FLEETPATCH_REBOOT_COMMAND=${rebootScript} APT_CONFIG=${aptConfig} PATH=${join(hostDirectory, 'bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    'LogLevel VERBOSE',
    '',
  ].join('\n'));

  ip('netns', 'add', namespace);
  ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
  ip('link', 'set', inside, 'netns', namespace);
  ip('addr', 'add', `${gateway}/30`, 'dev', outside);
  ip('link', 'set', outside, 'up');
  ip('-n', namespace, 'addr', 'add', `${address}/30`, 'dev', inside);
  ip('-n', namespace, 'link', 'set', inside, 'up');
  ip('-n', namespace, 'link', 'set', 'lo', 'up');

  const logPath = join(hostDirectory, 'sshd.log');
  const rebootMark = join(hostDirectory, 'rebooting');
  let sshd: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let starts = 0;
  let destroyed = false;
  const spawnSshd = () => {
    const log = openSync(logPath, 'a');
    // `ip netns exec` execs sshd: the child is sshd itself.
    const child = spawn('ip', ['netns', 'exec', namespace, SSHD, '-D', '-e', '-f', config], { stdio: ['ignore', log, log] });
    closeSync(log);
    starts++;
    sshd = child;
    exited = new Promise((resolveExit) => {
      child.once('exit', () => {
        sshd = undefined;
        // The reboot script stopped it: the host comes back.
        if (existsSync(rebootMark) && !destroyed) {
          rmSync(rebootMark);
          spawnSshd();
        }
        resolveExit();
      });
    });
  };
  const accepting = () => new Promise<boolean>((resolveProbe) => {
    const socket = connect({ host: address, port: 22 });
    socket.once('connect', () => {
      socket.destroy();
      resolveProbe(true);
    });
    socket.once('error', () => resolveProbe(false));
  });
  const stopSshd = async () => {
    rmSync(rebootMark, { force: true });
    sshd?.kill('SIGKILL');
    await exited;
  };
  const destroyNow = () => {
    destroyed = true;
    sshd?.kill('SIGKILL');
    // Whatever still runs in the namespace (sessions, commands they left) goes with it.
    killAll(namespacePids(namespace));
    for (const args of [['netns', 'del', namespace], ['link', 'del', outside]]) {
      try {
        ip(...args);
      } catch {
        // Already gone.
      }
    }
  };
  const read = (path: string) => (existsSync(join(hostDirectory, path)) ? readFileSync(join(hostDirectory, path), 'utf8') : '');
  const journal = join(testHost.root, 'var/lib/fleetpatch/ssh-jobs');
  const host: NetnsHost = {
    name: options.name,
    directory: hostDirectory,
    root: testHost.root,
    installed: testHost.installed,
    bootId: testHost.bootId,
    runningKernel: testHost.runningKernel,
    namespace,
    address,
    labels: { 'ssh-address': address },
    hostKey,
    hostKeyFingerprint,
    reboots: () => read('ssh-reboots.log').split('\n').filter(Boolean),
    journalEntries: () => (existsSync(journal) ? readdirSync(journal).sort() : []),
    sshdLog: () => read('sshd.log'),
    sshdStarts: () => starts,
    stopSshd,
    startSshd: async () => {
      if (!sshd) spawnSshd();
      await waitFor(`sshd of ${options.name} accepting on ${address}:22`, accepting, 10_000, 50);
    },
    sudoAsksForPassword: (asks) => {
      if (asks) writeFileSync(join(hostDirectory, 'sudo-asks-password'), '');
      else rmSync(join(hostDirectory, 'sudo-asks-password'), { force: true });
    },
  };
  return {
    host,
    destroy: async () => {
      destroyed = true;
      await stopSshd();
      destroyNow();
    },
    destroyNow,
  };
}

/**
 * The host's reboot command, run by its sshd session: the next boot, then every sshd of the
 * namespace (the listener and each connection's) stops; the harness sees the mark and restarts it.
 */
function rebootScriptText(hostDirectory: string, namespace: string): string {
  return `#!/bin/sh
set -u
host=${shellQuote(hostDirectory)}
exec >> "$host/ssh-reboot.log" 2>&1 < /dev/null
sh "$host/reboot.sh" --boot-only
printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(cat "$host/root/proc/sys/kernel/osrelease")" >> "$host/ssh-reboots.log"
touch "$host/rebooting"
for pid in $(ip netns pids ${shellQuote(namespace)}); do
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ]; then kill -TERM "$pid"; fi
done
`;
}

/** Stands in for sudo: only `-n`, the environment reset as sudo's env_reset does, a password asked for on request. */
function fakeSudoText(hostDirectory: string): string {
  return `#!/bin/sh
[ "\${1:-}" = -n ] || { echo "sudo: the test host's sudo runs with -n only" >&2; exit 1; }
shift
if [ -e ${shellQuote(join(hostDirectory, 'sudo-asks-password'))} ]; then echo "sudo: a password is required" >&2; exit 1; fi
exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"
`;
}

/** /30 blocks of 10.213.0.0/16 no interface here uses, starting at a place of this process's own. */
function freeAddressBlocks(count: number): number[] {
  const used = new Set([...ip('-4', '-o', 'addr', 'show').matchAll(/inet 10\.213\.(\d+)\.(\d+)\//g)].map((match) => Number(match[1]) * 64 + Math.floor(Number(match[2]) / 4)));
  const blocks: number[] = [];
  for (let offset = 0; blocks.length < count && offset < 16_384; offset++) {
    const block = (process.pid * 8 + offset) % 16_384;
    if (!used.has(block)) blocks.push(block);
  }
  return blocks;
}

function addressOf(block: number, host: 1 | 2): string {
  return `10.213.${Math.floor(block / 64)}.${(block % 64) * 4 + host}`;
}

/** Namespaces of runs whose process is gone (killed before their cleanup ran). */
function removeLeftovers(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const match = new RegExp(`^(${NAMESPACE_PREFIX}(\\d+)-\\S+)`).exec(line);
    if (!match || processAlive(Number(match[2]))) continue;
    killAll(namespacePids(match[1]!));
    ip('netns', 'del', match[1]!);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function namespacePids(namespace: string): number[] {
  try {
    return ip('netns', 'pids', namespace).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

function keygen(path: string, comment: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path], { stdio: 'pipe' });
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
