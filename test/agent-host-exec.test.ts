// The agent's jobs through a host-exec prefix, for real. The prefix is a test stand-in for
// `nsenter -t 1 -m -u -i -n -p --`: a script that records the argv and environment it is given,
// then runs the command in a mount namespace of its own chrooted into a test host's root (this
// machine's programs and libraries bound in read-only), so the command sees that root as `/` as a
// host's own commands see theirs. The agent reads the same root from outside through `--root`, as
// the DaemonSet reads /host. Also: the enrollment token from a file or the environment.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readInstalledPackages } from '../src/agent/host-facts.js';
import { runJob } from '../src/agent/job-runner.js';
import { RPM_QUERY_FORMAT } from '../src/domain/inventory/rpm-qa.js';
import { installCommandLine } from '../src/domain/rollout/install-command.js';
import { hostJobSchema, jobResultSchema, type HostJob, type JobResult } from '../src/protocol/job-protocol.js';
import { runCli, startCli } from './cli.js';
import { requireTool } from './required-tools.js';
import { buildTestAptRepository, createTestHost, waitFor, type TestAptRepository, type TestHost } from './test-hosts.js';

const HOUR_LATER = () => new Date(Date.now() + 3_600_000).toISOString();
const log = () => undefined;

/**
 * The stand-in for nsenter: `sh host-exec.sh ROOT RECORDS [DIRECTORY…] -- COMMAND [ARG…]`. Each
 * call writes RECORDS/NNNN.argv (the command's words, NUL-terminated) and NNNN.env, then runs the
 * command chrooted into ROOT, with the DIRECTORYs (the apt repository) bound at their own paths.
 */
const HOST_EXEC_SCRIPT = `#!/bin/sh
set -eu
root=$1
records=$2
shift 2
binds=
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do binds="$binds $1"; shift; done
[ "$#" -gt 0 ] && shift
mkdir -p "$records"
record="$records/$(printf %04d "$(find "$records" -name '*.argv' | wc -l)")"
printf '%s\\0' "$@" > "$record.argv"
printf 'FLEETPATCH_ROOT=%s\\nAPT_CONFIG=%s\\nFLEETPATCH_ENROLL_TOKEN=%s\\n' "\${FLEETPATCH_ROOT-(unset)}" "\${APT_CONFIG-(unset)}" "\${FLEETPATCH_ENROLL_TOKEN-(unset)}" > "$record.env"
exec unshare --mount --propagation private -- sh -eu -c '
root=$1 binds=$2
shift 2
bind() {
  if [ -d "$1" ]; then mkdir -p "$root$1"; else mkdir -p "$(dirname "$root$1")"; [ -e "$root$1" ] || : > "$root$1"; fi
  mount --bind "$1" "$root$1"
  mount -o remount,bind,ro "$root$1"
}
for top in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$top" ]; then [ -L "$root/$top" ] || ln -s "$(readlink "/$top")" "$root/$top"
  elif [ -d "/$top" ]; then bind "/$top"; fi
done
for path in /usr/bin /usr/sbin /usr/lib /usr/lib32 /usr/lib64 /usr/libx32 /usr/libexec /usr/share/dpkg /etc/ld.so.cache; do
  if [ -e "$path" ]; then bind "$path"; fi
done
for path in $binds; do bind "$path"; done
mkdir -p "$root/dev" "$root/tmp"
mount --rbind /dev "$root/dev"
exec chroot "$root" "$@"
' host-exec "$root" "$binds" "$@"
`;

interface HostExec {
  /** The prefix, as runJob takes it. */
  argv: string[];
  /** The prefix as `--host-exec` takes it (the wrapper's directory has a space in its name). */
  flag: string;
  /** The argv of each command run through the prefix, in order. */
  commands(): string[][];
  /** FLEETPATCH_ROOT, APT_CONFIG and FLEETPATCH_ENROLL_TOKEN as each command saw them. */
  environments(): Array<Record<string, string>>;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

function hostExecInto(wrapper: string, root: string, records: string, binds: string[]): HostExec {
  const argv = ['sh', wrapper, root, records, ...binds, '--'];
  const files = (suffix: string) => (existsSync(records) ? readdirSync(records).filter((file) => file.endsWith(suffix)).sort().map((file) => readFileSync(join(records, file), 'utf8')) : []);
  return {
    argv,
    flag: argv.map(shellQuote).join(' '),
    commands: () => files('.argv').map((text) => text.split('\0').slice(0, -1)),
    environments: () => files('.env').map((text) => Object.fromEntries(text.split('\n').filter(Boolean).map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]))),
  };
}

function check(name: string, command: string) {
  return { name, command, timeoutMs: 60_000, allowedExitCodes: [0] };
}

describe('jobs through a host-exec prefix', () => {
  const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-host-exec-'));
  // The prefix is split like a shell command: a path with a space must survive the CLI's splitting.
  const wrapperDirectory = mkdtempSync(join(tmpdir(), 'fleetpatch host exec-'));
  const wrapper = join(wrapperDirectory, 'host-exec.sh');
  let repository: TestAptRepository;
  let hostNumber = 0;

  const newHost = () => {
    const host = createTestHost(directory, { name: `node-${++hostNumber}`, repository });
    return { host, hostExec: hostExecInto(wrapper, host.root, join(host.directory, 'host-exec'), [repository.directory]) };
  };
  const job = (host: TestHost, step: HostJob['step'], fields: Partial<HostJob> = {}) =>
    hostJobSchema.parse({ key: `9:${host.name}:${step}:1`, rolloutId: 9, step, deadline: HOUR_LATER(), ...fields });
  const run = (host: TestHost, hostExec: HostExec, hostJob: HostJob, rebootCommand = 'false') =>
    runJob(hostJob, { root: host.root, hostExec: hostExec.argv, stateDirectory: host.stateDirectory, rebootCommand, log });

  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('these tests need root: the host-exec stand-in chroots in a mount namespace of its own (unshare --mount)');
    for (const tool of ['/usr/bin/unshare', '/usr/sbin/chroot', '/usr/bin/mount']) if (!existsSync(tool)) throw new Error(`${tool} is missing (Debian packages util-linux, coreutils, mount)`);
    writeFileSync(wrapper, HOST_EXEC_SCRIPT, { mode: 0o755 });
    repository = buildTestAptRepository(join(directory, 'repository'));
  });
  afterAll(() => {
    // Nothing is mounted here: every bind lived in a wrapper's own mount namespace.
    rmSync(directory, { recursive: true, force: true });
    rmSync(wrapperDirectory, { recursive: true, force: true });
  });

  it('installs exactly the job\'s version with the command built for root /, run through the prefix, and reads the result back under --root', async () => {
    const { host, hostExec } = newHost();
    const targets = [{ name: 'fp-demo-lib', version: '1.1-1' }];
    const { result } = await run(host, hostExec, job(host, 'upgrade', { packages: targets }));
    expect(result, result.output).toMatchObject({ outcome: 'succeeded', exitCode: 0, replaced: [{ name: 'fp-demo-lib', from: '1.0-1', to: '1.1-1' }] });
    expect(jobResultSchema.parse(result)).toEqual(result);

    const simulation = installCommandLine('dpkg-status', '/', targets, { simulate: true });
    const install = installCommandLine('dpkg-status', '/', targets, {});
    expect(hostExec.commands()).toEqual([[simulation.command, ...simulation.args], [install.command, ...install.args]]);
    expect(simulation.args).toContain('--simulate');
    expect(install.args).not.toContain('--simulate');
    // Nothing names the root the agent reads: the package manager is the host's, on its own /.
    for (const word of hostExec.commands().flat()) expect(word).not.toMatch(/--root|Dir::State::status|Sandbox::User|fleetpatch-host-exec-/);
    expect(hostExec.environments()).toEqual([
      { FLEETPATCH_ROOT: '/', APT_CONFIG: '(unset)', FLEETPATCH_ENROLL_TOKEN: '(unset)' },
      { FLEETPATCH_ROOT: '/', APT_CONFIG: '(unset)', FLEETPATCH_ENROLL_TOKEN: '(unset)' },
    ]);

    expect(Object.fromEntries(host.installed())).toEqual({ 'fp-demo-lib': '1.1-1', 'fp-demo-tool': '2.0-1', 'linux-image-6.1.0-98-fp': '6.1.76-1' });
    expect(readFileSync(join(host.root, 'usr/share/doc/fp-demo-lib/version'), 'utf8')).toBe('1.1-1\n');
    expect(result.output).toContain(`$ ${[...hostExec.argv, install.command, ...install.args].join(' ')}\n`);
    // This machine's own dpkg database never heard of the package.
    expect(spawnSync('dpkg-query', ['-W', 'fp-demo-lib'], { encoding: 'utf8' }).stderr).toContain('no packages found matching fp-demo-lib');
  });

  it('rolls an upgrade back through the prefix, reporting what it replaced', async () => {
    const { host, hostExec } = newHost();
    const upgrade = await run(host, hostExec, job(host, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '1.2-1' }] }));
    expect(upgrade.result, upgrade.result.output).toMatchObject({ outcome: 'succeeded', replaced: [{ name: 'fp-demo-lib', from: '1.0-1', to: '1.2-1' }] });
    const rollback = await run(host, hostExec, job(host, 'rollback', { previous: [{ name: 'fp-demo-lib', version: '1.0-1' }] }));
    expect(rollback.result, rollback.result.output).toMatchObject({ outcome: 'succeeded', replaced: [{ name: 'fp-demo-lib', from: '1.2-1', to: '1.0-1' }] });
    expect(hostExec.commands().map((argv) => [argv[0], argv.includes('--simulate'), argv.at(-1)])).toEqual([
      ['apt-get', true, 'fp-demo-lib=1.2-1'], ['apt-get', false, 'fp-demo-lib=1.2-1'],
      ['apt-get', true, 'fp-demo-lib=1.0-1'], ['apt-get', false, 'fp-demo-lib=1.0-1'],
    ]);
    expect(host.installed().get('fp-demo-lib')).toBe('1.0-1');
  });

  it('refuses, after the dry run through the prefix, a transaction that would change another package', async () => {
    const { host, hostExec } = newHost();
    const status = readFileSync(join(host.root, 'var/lib/dpkg/status'), 'utf8');
    // fp-demo-tool 2.1-1 needs fp-demo-lib >= 1.1, which the host's apt would pull in.
    const { result } = await run(host, hostExec, job(host, 'upgrade', { packages: [{ name: 'fp-demo-tool', version: '2.1-1' }] }));
    expect(result).toMatchObject({ outcome: 'failed', replaced: [] });
    expect(result.error).toContain('would also change fp-demo-lib');
    expect(hostExec.commands()).toHaveLength(1);
    expect(hostExec.commands()[0]).toContain('--simulate');
    expect(readFileSync(join(host.root, 'var/lib/dpkg/status'), 'utf8')).toBe(status);
  });

  it('runs the policy\'s checks through the prefix, on the host\'s root as /', async () => {
    const { host, hostExec } = newHost();
    const commands = [
      check('on the host', 'test "$FLEETPATCH_ROOT" = / && cat /etc/hostname'),
      check('library version', "dpkg-query -W -f '${Version}\\n' fp-demo-lib"),
    ];
    const { result } = await run(host, hostExec, job(host, 'pre-check', { commands }));
    expect(result, result.output).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
    expect(hostExec.commands()).toEqual(commands.map((command) => ['sh', '-c', command.command]));
    // Only inside the test host's root is /etc/hostname the host's name and fp-demo-lib installed.
    expect(result.output).toContain(`${host.name}\n`);
    expect(result.output).toContain('1.0-1\n');
  });

  it('fails a check the host fails, and names it', async () => {
    const { host, hostExec } = newHost();
    const { result } = await run(host, hostExec, job(host, 'post-check', { commands: [check('new library', "test \"$(dpkg-query -W -f '${Version}' fp-demo-lib)\" = 1.1-1")] }));
    expect(result).toMatchObject({ outcome: 'failed', exitCode: 1 });
    expect(result.error).toContain('new library failed (exit 1');
    expect(hostExec.commands()).toHaveLength(1);
  });

  it('runs a rollback command through the prefix and reports what it changed, read under --root', async () => {
    const { host, hostExec } = newHost();
    const deb = repository.debs.get('fp-demo-lib=1.2-1')!;
    const { result } = await run(host, hostExec, job(host, 'rollback', { commands: [check('restore snapshot', `dpkg --root="$FLEETPATCH_ROOT" --install ${deb}`)] }));
    expect(result, result.output).toMatchObject({ outcome: 'succeeded', replaced: [{ name: 'fp-demo-lib', from: '1.0-1', to: '1.2-1' }] });
    expect(hostExec.commands()).toEqual([['sh', '-c', `dpkg --root="$FLEETPATCH_ROOT" --install ${deb}`]]);
    expect(host.installed().get('fp-demo-lib')).toBe('1.2-1');
  });

  it('runs the reboot command through the prefix once the start is reported', async () => {
    const { host, hostExec } = newHost();
    const rebootCommand = 'echo "reboot of $(cat /etc/hostname)" > /reboot-requested';
    const run1 = await run(host, hostExec, job(host, 'reboot'), rebootCommand);
    expect(run1.result.outcome).toBe('started');
    expect(hostExec.commands()).toEqual([]);
    await run1.afterReport!();
    expect(hostExec.commands()).toEqual([['sh', '-c', rebootCommand]]);
    expect(readFileSync(join(host.root, 'reboot-requested'), 'utf8')).toBe(`reboot of ${host.name}\n`);
  });

  it('changes nothing when the prefix cannot run', async () => {
    const { host } = newHost();
    const status = readFileSync(join(host.root, 'var/lib/dpkg/status'), 'utf8');
    const missing = join(directory, 'no-such-nsenter');
    const { result } = await runJob(job(host, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '1.1-1' }] }), { root: host.root, hostExec: [missing, '--'], stateDirectory: host.stateDirectory, rebootCommand: 'false', log });
    expect(result).toMatchObject({ outcome: 'failed', replaced: [] });
    expect(result.error).toContain(`${missing} is not installed`);
    expect(readFileSync(join(host.root, 'var/lib/dpkg/status'), 'utf8')).toBe(status);
  });

  describe('on an rpm host', () => {
    let rpms: Map<string, string>;
    let rpmRoot: string;
    let hostExec: HostExec;

    beforeAll(() => {
      const rpm = requireTool('rpm');
      const rpmbuild = join(rpm, '..', 'rpmbuild');
      if (!existsSync(rpmbuild)) throw new Error(`${rpmbuild} is missing: install the Debian package rpm`);
      const top = join(directory, 'rpmbuild');
      rpms = new Map();
      for (const version of ['1.0', '1.1']) {
        mkdirSync(join(top, 'SPECS'), { recursive: true });
        const spec = join(top, 'SPECS', `fp-demo-rpmlib-${version}.spec`);
        writeFileSync(spec, [
          'Name: fp-demo-rpmlib', `Version: ${version}`, 'Release: 1', 'Summary: fleetpatch test package', 'License: MIT', 'BuildArch: noarch',
          '%description', 'fleetpatch test package',
          '%install', 'mkdir -p %{buildroot}/usr/share/doc/fp-demo-rpmlib', `echo ${version} > %{buildroot}/usr/share/doc/fp-demo-rpmlib/version`,
          '%files', '/usr/share/doc/fp-demo-rpmlib/version', '',
        ].join('\n'));
        execFileSync(rpmbuild, ['--quiet', '--define', `_topdir ${top}`, '-bb', spec], { stdio: 'pipe' });
        rpms.set(version, join(top, 'RPMS/noarch', `fp-demo-rpmlib-${version}-1.noarch.rpm`));
      }
      // A host whose own rpm keeps its database in /var/lib/rpm, as Fedora's and RHEL's do.
      rpmRoot = join(directory, 'rpm-host/root');
      mkdirSync(join(rpmRoot, 'etc/rpm'), { recursive: true });
      mkdirSync(join(rpmRoot, 'var/lib/rpm'), { recursive: true });
      writeFileSync(join(rpmRoot, 'etc/rpm/macros'), '%_dbpath /var/lib/rpm\n');
      writeFileSync(join(rpmRoot, 'etc/os-release'), 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.4"\n');
      execFileSync(rpm, ['--root', rpmRoot, '--dbpath', '/var/lib/rpm', '--install', '--nodeps', rpms.get('1.1')!], { stdio: 'pipe' });
      hostExec = hostExecInto(wrapper, rpmRoot, join(directory, 'rpm-host/host-exec'), [top]);
    });

    it('queries the host\'s rpm database through the prefix, without --root', async () => {
      const { format, packages } = await readInstalledPackages(rpmRoot, { hostExec: hostExec.argv });
      expect(format).toBe('rpm');
      expect(packages.map((pkg) => [pkg.name, pkg.version])).toEqual([['fp-demo-rpmlib', '1.1-1']]);
      expect(hostExec.commands().at(-1)).toEqual(['rpm', '-qa', '--queryformat', RPM_QUERY_FORMAT]);
    });

    it('reads the packages before and after a rollback command with the host\'s rpm', async () => {
      const stateDirectory = join(directory, 'rpm-host/state');
      const before = hostExec.commands().length;
      const command = `rpm --upgrade --oldpackage --nodeps ${rpms.get('1.0')}`;
      const hostJob = hostJobSchema.parse({ key: '9:rpm-host:rollback:1', rolloutId: 9, step: 'rollback', deadline: HOUR_LATER(), commands: [check('downgrade', command)] });
      const { result } = await runJob(hostJob, { root: rpmRoot, hostExec: hostExec.argv, stateDirectory, rebootCommand: 'false', log });
      expect(result, result.output).toMatchObject({ outcome: 'succeeded', replaced: [{ name: 'fp-demo-rpmlib', from: '1.1-1', to: '1.0-1' }] });
      const query = ['rpm', '-qa', '--queryformat', RPM_QUERY_FORMAT];
      expect(hostExec.commands().slice(before)).toEqual([query, ['sh', '-c', command], query]);
      expect(readFileSync(join(rpmRoot, 'usr/share/doc/fp-demo-rpmlib/version'), 'utf8')).toBe('1.0\n');
    });
  });

  describe('the agent command', () => {
    interface Enrollment {
      token: string;
      hostname: string;
    }

    /** A loopback stand-in for the server's agent and job protocols: one offered job at a time. */
    let server: Server;
    let url: string;
    const enrollments: Enrollment[] = [];
    const checkIns: Array<{ host: string; kind: string; added?: Array<{ name: string; version: string }> }> = [];
    const results = new Map<string, JobResult>();
    let offered: HostJob | undefined;

    beforeAll(async () => {
      server = createServer((request, response) => {
        void (async () => {
          let text = '';
          for await (const chunk of request) text += chunk;
          const body = (text ? JSON.parse(text) : {}) as Record<string, unknown>;
          const send = (status: number, answer?: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(answer === undefined ? undefined : JSON.stringify(answer));
          const path = new URL(request.url!, 'http://localhost');
          const [, , , , host, what, key] = path.pathname.split('/');
          if (path.pathname === '/api/v1/enroll') {
            enrollments.push({ token: String(body.token), hostname: String(body.hostname) });
            return send(200, { credential: `fph_${String(body.hostname)}`, hostname: body.hostname });
          }
          if (what === 'inventory' || what === 'heartbeat') {
            checkIns.push({ host: host!, kind: what === 'heartbeat' ? 'heartbeat' : String(body.kind), ...(body.added ? { added: body.added as Array<{ name: string; version: string }> } : {}) });
            return send(200, {});
          }
          if (what === 'job') {
            if (offered && !results.has(offered.key)) return send(200, offered);
            await new Promise((resolve) => setTimeout(resolve, 500));
            return send(204);
          }
          if (what === 'jobs') {
            results.set(decodeURIComponent(key!), jobResultSchema.parse(body));
            return send(200, { recorded: true });
          }
          send(404, { error: { code: 'not-found', message: path.pathname } });
        })();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    const once = (host: TestHost, extra: string[], env: Record<string, string> = {}) =>
      runCli(['agent', '--once', '--server', url, '--state-dir', host.stateDirectory, '--root', host.root, '--hostname', host.name, ...extra], env);

    it('enrolls with the token in --enroll-token-file, read when it enrolls, and never needs the file again', async () => {
      const { host } = newHost();
      const tokenFile = join(host.directory, 'token');
      writeFileSync(tokenFile, 'fpe_from_a_file\n');
      const first = await once(host, ['--enroll-token-file', tokenFile]);
      expect(first, first.stderr).toMatchObject({ code: 0, stdout: 'check-in: full\n' });
      expect(enrollments.filter((each) => each.hostname === host.name)).toEqual([{ token: 'fpe_from_a_file', hostname: host.name }]);
      rmSync(tokenFile);
      const second = await once(host, ['--enroll-token-file', tokenFile]);
      expect(second, second.stderr).toMatchObject({ code: 0, stdout: 'check-in: heartbeat\n' });
      expect(enrollments.filter((each) => each.hostname === host.name)).toHaveLength(1);
    });

    it('says which token file it cannot read, or finds empty, and enrolls nothing', async () => {
      const { host } = newHost();
      const missing = join(host.directory, 'secrets/token');
      const result = await once(host, ['--enroll-token-file', missing]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`fleetpatch: ${missing}: cannot read the enrollment token file (no such file)`);
      const empty = join(host.directory, 'empty-token');
      writeFileSync(empty, '\n');
      const emptyResult = await once(host, ['--enroll-token-file', empty]);
      expect(emptyResult.code).toBe(2);
      expect(emptyResult.stderr).toContain(`fleetpatch: ${empty}: the enrollment token file is empty`);
      expect(enrollments.filter((each) => each.hostname === host.name)).toEqual([]);
      expect(existsSync(join(host.stateDirectory, 'credential.json'))).toBe(false);
    });

    it('refuses two sources of the token at once', async () => {
      const { host } = newHost();
      const tokenFile = join(host.directory, 'token');
      writeFileSync(tokenFile, 'fpe_from_a_file\n');
      const both = await once(host, ['--enroll-token', 'fpe_in_argv', '--enroll-token-file', tokenFile]);
      expect(both.code).toBe(2);
      expect(both.stderr).toContain("option '--enroll-token-file <file>' cannot be used with option '--enroll-token <token>'");
      const withEnvironment = await once(host, ['--enroll-token-file', tokenFile], { FLEETPATCH_ENROLL_TOKEN: 'fpe_in_env' });
      expect(withEnvironment.code).toBe(2);
      expect(withEnvironment.stderr).toContain("cannot be used with environment variable 'FLEETPATCH_ENROLL_TOKEN'");
      expect(enrollments.filter((each) => each.hostname === host.name)).toEqual([]);
    });

    it('refuses a --host-exec it cannot split, naming the flag', async () => {
      const { host } = newHost();
      const result = await once(host, ['--enroll-token', 'fpe_x', '--host-exec', `nsenter -t 1 'unclosed --`]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('fleetpatch: field --host-exec: unterminated single quote');
      expect(enrollments.filter((each) => each.hostname === host.name)).toEqual([]);
    });

    it('enrolls with FLEETPATCH_ENROLL_TOKEN, runs a job through --host-exec, and keeps the token from the job\'s commands', async () => {
      const { host, hostExec } = newHost();
      const agent = startCli(
        ['agent', '--server', url, '--state-dir', host.stateDirectory, '--root', host.root, '--hostname', host.name, '--interval', '600', '--job-wait-seconds', '1', '--host-exec', hostExec.flag],
        { FLEETPATCH_ENROLL_TOKEN: 'fpe_from_the_environment' },
      );
      try {
        await waitFor('the first check-in', () => checkIns.some((checkIn) => checkIn.host === host.name && checkIn.kind === 'full'), 60_000);
        expect(enrollments.filter((each) => each.hostname === host.name)).toEqual([{ token: 'fpe_from_the_environment', hostname: host.name }]);
        offered = job(host, 'upgrade', { packages: [{ name: 'fp-demo-lib', version: '1.1-1' }] });
        const result = await waitFor('the upgrade\'s result', () => results.get(offered!.key), 120_000);
        expect(result, result.output).toMatchObject({ outcome: 'succeeded', replaced: [{ name: 'fp-demo-lib', from: '1.0-1', to: '1.1-1' }] });
        expect(hostExec.commands().map((argv) => argv[0])).toEqual(['apt-get', 'apt-get']);
        expect(hostExec.environments().map((env) => env.FLEETPATCH_ENROLL_TOKEN)).toEqual(['(unset)', '(unset)']);
        // The check-in after the job reports the new version, read under --root.
        const delta = await waitFor('the check-in after the upgrade', () => checkIns.find((checkIn) => checkIn.host === host.name && checkIn.kind === 'delta'), 60_000);
        expect(delta.added?.map((pkg) => `${pkg.name}=${pkg.version}`)).toEqual(['fp-demo-lib=1.1-1']);
        expect(host.installed().get('fp-demo-lib')).toBe('1.1-1');
      } finally {
        offered = undefined;
        agent.child.kill('SIGTERM');
        await agent.done;
      }
    }, 180_000);
  });
});
