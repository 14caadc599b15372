/**
 * Test hosts for rollout tests: a local apt repository of test packages built with dpkg-deb, and
 * hosts that are directory roots with their own dpkg database, each with a real agent process. A
 * host's reboot is its reboot command: a new boot id, the newest installed kernel running, the
 * reboot-required flag gone, and the agent process killed and started again by this harness.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StepLogLine } from '../src/agent/job-runner.js';
import { parseDpkgStatus } from '../src/domain/inventory/dpkg-status.js';
import { repoRoot } from './data-path.js';
import { requireTool } from './required-tools.js';

export interface TestPackage {
  name: string;
  version: string;
  /** The control file's Depends field, e.g. `fp-demo-lib (>= 1.1)`. */
  depends?: string;
  /** Extra files (path in the root → content); every package also ships usr/share/doc/<name>/version. */
  files?: Record<string, string>;
}

/** Two libraries' worth of versions and two kernels; only the newer kernel asks for a reboot (as Debian's postinst would). */
export const DEMO_PACKAGES: TestPackage[] = [
  { name: 'fp-demo-lib', version: '1.0-1' },
  { name: 'fp-demo-lib', version: '1.1-1' },
  { name: 'fp-demo-lib', version: '1.2-1' },
  { name: 'fp-demo-tool', version: '2.0-1', depends: 'fp-demo-lib (>= 1.0)' },
  { name: 'fp-demo-tool', version: '2.1-1', depends: 'fp-demo-lib (>= 1.1)' },
  { name: 'linux-image-6.1.0-98-fp', version: '6.1.76-1', files: { 'boot/vmlinuz-6.1.0-98-fp': 'kernel 6.1.0-98-fp\n' } },
  { name: 'linux-image-6.1.0-99-fp', version: '6.1.80-1', files: { 'boot/vmlinuz-6.1.0-99-fp': 'kernel 6.1.0-99-fp\n', 'var/run/reboot-required': '*** System restart required ***\n' } },
];

/** What a test host starts with: the old library, tool and kernel. */
export const DEMO_INSTALLED = ['fp-demo-lib=1.0-1', 'fp-demo-tool=2.0-1', 'linux-image-6.1.0-98-fp=6.1.76-1'];

export interface TestAptRepository {
  directory: string;
  /** `deb [trusted=yes] file:/… ./` */
  sourcesLine: string;
  /** The `.deb` of each `name=version`. */
  debs: Map<string, string>;
  /** apt's lists for this repository (the same for every host: their names come from the URI). */
  listsDirectory: string;
}

const DEBIAN_12_OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
`;

/** Directories apt and dpkg expect in a root. */
const ROOT_DIRECTORIES = [
  'etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/sources.list.d', 'etc/apt/trusted.gpg.d',
  'var/lib/dpkg/info', 'var/lib/dpkg/updates', 'var/lib/dpkg/triggers', 'var/lib/apt/lists/partial',
  'var/cache/apt/archives/partial', 'var/log/apt', 'var/run', 'proc/sys/kernel/random',
];

/**
 * Builds each package with `dpkg-deb --build` and indexes them with `dpkg-scanpackages` into a flat
 * repository in `directory`; fetches its lists once, for every host to copy.
 *
 * @example const repository = buildTestAptRepository(mkdtempSync(join(tmpdir(), 'fp-repo-')))
 */
export function buildTestAptRepository(directory: string, packages: TestPackage[] = DEMO_PACKAGES): TestAptRepository {
  requireTool('dpkg');
  const scanPackages = requireTool('dpkg-dev');
  const pool = join(directory, 'pool');
  mkdirSync(pool, { recursive: true });
  const debs = new Map<string, string>();
  for (const pkg of packages) {
    const staging = join(directory, 'staging', `${pkg.name}_${pkg.version}`);
    mkdirSync(join(staging, 'DEBIAN'), { recursive: true });
    const control = [`Package: ${pkg.name}`, `Version: ${pkg.version}`, 'Architecture: all', 'Maintainer: fleetpatch tests <tests@fleetpatch.invalid>', ...(pkg.depends ? [`Depends: ${pkg.depends}`] : []), `Description: fleetpatch test package ${pkg.name}`];
    writeFileSync(join(staging, 'DEBIAN/control'), `${control.join('\n')}\n`);
    for (const [path, content] of Object.entries({ [`usr/share/doc/${pkg.name}/version`]: `${pkg.version}\n`, ...pkg.files })) {
      mkdirSync(join(staging, path, '..'), { recursive: true });
      writeFileSync(join(staging, path), content);
    }
    const deb = join(pool, `${pkg.name}_${pkg.version}_all.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z1', '--build', staging, deb], { stdio: 'pipe' });
    debs.set(`${pkg.name}=${pkg.version}`, deb);
  }
  rmSync(join(directory, 'staging'), { recursive: true });
  writeFileSync(join(directory, 'Packages'), execFileSync(scanPackages, ['--multiversion', 'pool', '/dev/null'], { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] }));
  const sourcesLine = `deb [trusted=yes] file:${resolve(directory)} ./`;
  const template = join(directory, 'lists-root');
  for (const path of ROOT_DIRECTORIES) mkdirSync(join(template, path), { recursive: true });
  writeFileSync(join(template, 'etc/apt/sources.list'), `${sourcesLine}\n`);
  writeFileSync(join(template, 'var/lib/dpkg/status'), '');
  execFileSync(requireTool('apt'), ['-qq', '-o', 'APT::Sandbox::User=root', 'update'], { env: { ...process.env, LC_ALL: 'C', APT_CONFIG: aptConfig(template) }, stdio: 'pipe' });
  return { directory, sourcesLine, debs, listsDirectory: join(template, 'var/lib/apt/lists') };
}

/** apt reads a root's own configuration only when `Dir` comes from APT_CONFIG (as the agent does). */
function aptConfig(root: string): string {
  const path = join(root, '..', `${root.split('/').pop()}-apt.conf`);
  writeFileSync(path, `Dir "${root}/";\n`);
  return path;
}

export interface TestHost {
  name: string;
  /** Holds `root/`, `state/` (the agent's), `reboot.sh`, `reboots.log` and `agent.log`. */
  directory: string;
  root: string;
  stateDirectory: string;
  rebootCommand: string;
  labels: Record<string, string>;
  /** Installed packages, name → version, read from the root's dpkg status. */
  installed(): Map<string, string>;
  /** The agent's step log: one line per step it executed. */
  stepLog(): StepLogLine[];
  bootId(): string;
  runningKernel(): string;
  /** One line per simulated reboot: time and the kernel it booted. */
  reboots(): string[];
}

export interface TestHostOptions {
  name: string;
  repository: TestAptRepository;
  /** `name=version` of packages in the repository, installed at creation. */
  installed?: string[];
  labels?: Record<string, string>;
}

/**
 * A Debian 12 directory root with its own dpkg database (the packages installed with
 * `dpkg --root`), apt sources and lists for the test repository, and the proc files the agent
 * reads (boot id, running kernel: the newest installed one, boot time).
 *
 * @example const host = createTestHost(directory, { name: 'web-1', repository, installed: DEMO_INSTALLED, labels: { bucket: 'web' } })
 */
export function createTestHost(directory: string, options: TestHostOptions): TestHost {
  const hostDirectory = join(directory, options.name);
  const root = join(hostDirectory, 'root');
  const stateDirectory = join(hostDirectory, 'state');
  for (const path of ROOT_DIRECTORIES) mkdirSync(join(root, path), { recursive: true });
  mkdirSync(stateDirectory, { recursive: true, mode: 0o700 });
  writeFileSync(join(root, 'etc/os-release'), DEBIAN_12_OS_RELEASE);
  writeFileSync(join(root, 'etc/hostname'), `${options.name}\n`);
  writeFileSync(join(root, 'etc/apt/sources.list'), `${options.repository.sourcesLine}\n`);
  writeFileSync(join(root, 'var/lib/dpkg/status'), '');
  writeFileSync(join(root, 'var/lib/dpkg/available'), '');
  cpSync(options.repository.listsDirectory, join(root, 'var/lib/apt/lists'), { recursive: true });
  const installed = options.installed ?? DEMO_INSTALLED;
  const debs = installed.map((spec) => {
    const deb = options.repository.debs.get(spec);
    if (!deb) throw new Error(`${spec} is not in the test repository`);
    return deb;
  });
  if (debs.length > 0) execFileSync(requireTool('dpkg'), [`--root=${root}`, '--install', ...debs], { stdio: 'pipe' });
  // Installed but not yet rebooted into: the newer kernel's reboot-required flag would be stale.
  rmSync(join(root, 'var/run/reboot-required'), { force: true });
  writeFileSync(join(root, 'proc/sys/kernel/random/boot_id'), `${randomUUID()}\n`);
  writeFileSync(join(root, 'proc/sys/kernel/osrelease'), '6.1.0-18-amd64\n');
  writeFileSync(join(root, 'proc/stat'), `cpu 1 2 3\nbtime ${Math.floor(Date.now() / 1000) - 86_400}\n`);
  const rebootScript = join(hostDirectory, 'reboot.sh');
  writeFileSync(rebootScript, rebootScriptText(hostDirectory), { mode: 0o755 });
  // The first boot runs the newest installed kernel, as the reboot script picks it.
  execFileSync('sh', [rebootScript, '--boot-only'], { stdio: 'pipe' });
  const read = (path: string) => readFileSync(join(hostDirectory, path), 'utf8');
  return {
    name: options.name,
    directory: hostDirectory,
    root,
    stateDirectory,
    rebootCommand: `sh ${shellQuote(rebootScript)}`,
    labels: options.labels ?? {},
    installed: () => new Map(parseDpkgStatus(read('root/var/lib/dpkg/status'), 'status', 'Debian:12').packages.map((pkg) => [pkg.name, pkg.version])),
    stepLog: () => (existsSync(join(stateDirectory, 'step-log.jsonl')) ? read('state/step-log.jsonl').split('\n').filter(Boolean).map((line) => JSON.parse(line) as StepLogLine) : []),
    bootId: () => read('root/proc/sys/kernel/random/boot_id').trim(),
    runningKernel: () => read('root/proc/sys/kernel/osrelease').trim(),
    reboots: () => (existsSync(join(hostDirectory, 'reboots.log')) ? read('reboots.log').split('\n').filter(Boolean) : []),
  };
}

/**
 * The simulated reboot: boots the newest installed kernel with a new boot id, clears the
 * reboot-required flag, then (unless `--boot-only`) marks the host as rebooting and kills its
 * agent as a power cycle would; the harness starts the agent again when it sees the mark.
 */
function rebootScriptText(hostDirectory: string): string {
  return `#!/bin/sh
set -eu
host=${shellQuote(hostDirectory)}
root="$host/root"
kernel=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f '\${db:Status-Abbrev} \${Package}\\n' 'linux-image-*' 2>/dev/null \\
  | awk '$1 == "ii" { sub(/^linux-image-/, "", $2); if ($2 ~ /^[0-9]+\\.[0-9]+/) print $2 }' | sort -V | tail -n 1)
[ -n "$kernel" ] && printf '%s\\n' "$kernel" > "$root/proc/sys/kernel/osrelease"
cat /proc/sys/kernel/random/uuid > "$root/proc/sys/kernel/random/boot_id"
printf 'cpu 1 2 3\\nbtime %s\\n' "$(date +%s)" > "$root/proc/stat"
rm -f "$root/var/run/reboot-required" "$root/run/reboot-required"
[ "\${1:-}" = --boot-only ] && exit 0
printf '%s %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$kernel" >> "$host/reboots.log"
touch "$host/rebooting"
kill -KILL "$(cat "$host/agent.pid")"
`;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

export interface TestAgentOptions {
  serverUrl: string;
  enrollToken: string;
  /** Seconds between check-ins (default 5). */
  intervalSeconds?: number;
  /** The agent's long-poll wait (default 2, so a stopped server is noticed soon). */
  jobWaitSeconds?: number;
  /** The host does not come back after a reboot: its agent stays down. */
  neverReturns?: boolean;
}

export interface TestAgent {
  /** Agent processes started so far: 1 + restarts after reboots (and `start()` calls). */
  starts(): number;
  running(): boolean;
  /** Exit codes of agent processes that ended on their own (not by a reboot, kill or stop). */
  unexpectedExits(): Array<number | string>;
  /** The agent's stderr and stdout, all its processes. */
  log(): string;
  /** SIGKILL, not started again. */
  kill(): Promise<void>;
  /** SIGTERM, not started again. */
  stop(): Promise<void>;
  /** Starts the agent again after kill(), stop() or a reboot that never returned. */
  start(): void;
}

const ENTRY = resolve(repoRoot, 'test/fixtures/fleetpatch.ts');
const liveAgents = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveAgents) child.kill('SIGKILL');
});

/**
 * A real `fleetpatch agent` process for the host (from source, as test/cli.ts runs the CLI), with
 * the host's reboot command; restarted after each simulated reboot unless `neverReturns`.
 *
 * @example const agent = startTestAgent(host, { serverUrl: server.url, enrollToken: server.enrollmentToken })
 */
export function startTestAgent(host: TestHost, options: TestAgentOptions): TestAgent {
  const logPath = join(host.directory, 'agent.log');
  const pidPath = join(host.directory, 'agent.pid');
  const markPath = join(host.directory, 'rebooting');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let starts = 0;
  let stopping = false;
  const unexpected: Array<number | string> = [];
  const args = [
    '--import', 'tsx', ENTRY, 'agent', '--server', options.serverUrl, '--enroll-token', options.enrollToken,
    '--state-dir', host.stateDirectory, '--root', host.root, '--hostname', host.name,
    ...Object.entries(host.labels).flatMap(([key, value]) => ['--label', `${key}=${value}`]),
    '--interval', String(options.intervalSeconds ?? 5), '--job-wait-seconds', String(options.jobWaitSeconds ?? 2),
    '--reboot-command', host.rebootCommand,
  ];
  const spawnAgent = () => {
    const output = openSync(logPath, 'a');
    const agentProcess = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', output, output] });
    closeSync(output);
    starts++;
    child = agentProcess;
    liveAgents.add(agentProcess);
    writeFileSync(pidPath, String(agentProcess.pid));
    exited = new Promise((resolveExit) => {
      agentProcess.on('exit', (code, signal) => {
        liveAgents.delete(agentProcess);
        child = undefined;
        if (existsSync(markPath)) {
          rmSync(markPath);
          const comesBack = !options.neverReturns && !stopping;
          appendFileSync(logPath, `test harness: ${host.name} rebooted${comesBack ? '' : ', its agent stays down'}\n`);
          if (comesBack) spawnAgent();
        } else if (!stopping) unexpected.push(code ?? signal ?? 'unknown');
        resolveExit();
      });
    });
  };
  const end = async (signal: NodeJS.Signals) => {
    stopping = true;
    child?.kill(signal);
    await exited;
  };
  spawnAgent();
  return {
    starts: () => starts,
    running: () => child !== undefined,
    unexpectedExits: () => [...unexpected],
    log: () => (existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''),
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
    start: () => {
      if (child) throw new Error(`the agent of ${host.name} is running`);
      // A reboot script still running when the agent was killed may have left its mark.
      rmSync(markPath, { force: true });
      stopping = false;
      spawnAgent();
    },
  };
}

/**
 * Polls `check` until it returns a value other than undefined or false; fails after `timeoutMs`
 * with `what` in the message.
 *
 * @example await waitFor('web-1 rebooted', () => host.reboots().length === 1, 30_000)
 */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
