// The deployment files in deploy/ against the code they deploy: every flag they pass is one the real
// CLI accepts, the image holds what the built server reads (a server is started from exactly the
// files its runtime stage copies), the DaemonSet reads the host read-only, the RBAC grants the
// rolling reboot its verbs and no others, and the systemd units pass `systemd-analyze verify`.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runCli } from './cli.js';
import { repoRoot } from './data-path.js';
import { createTestDatabase } from './postgres.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { fieldRef?: { fieldPath: string }; secretKeyRef?: { name: string; key: string } };
}

interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: { httpGet?: { path: string; port: string | number } };
  securityContext?: { privileged?: boolean; runAsUser?: number };
}

interface PodSpec {
  hostPID?: boolean;
  serviceAccountName?: string;
  tolerations?: { key?: string; operator?: string; effect?: string }[];
  containers: Container[];
  volumes?: { name: string; hostPath?: { path: string }; secret?: { secretName: string; items?: { key: string; path: string }[] } }[];
}

interface Manifest {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

interface Workload extends Manifest {
  spec: { replicas?: number; template: { spec: PodSpec }; volumeClaimTemplates?: { metadata: { name: string } }[] };
}

interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding']);
const NAMESPACED = new Set(['ServiceAccount', 'Service', 'DaemonSet', 'StatefulSet', 'Deployment', 'PodDisruptionBudget', 'ConfigMap', 'Secret', 'Role', 'RoleBinding']);

const KUBERNETES_DIR = resolve(repoRoot, 'deploy/kubernetes');
const documents = readdirSync(KUBERNETES_DIR)
  .filter((file) => /\.ya?ml$/.test(file))
  .flatMap((file) => parseAllDocuments(readFileSync(join(KUBERNETES_DIR, file), 'utf8')).map((document) => ({ file, document })));
const manifests = documents.map(({ document }) => document.toJS() as Manifest);

function only<T extends Manifest>(kind: string): T {
  const found = manifests.filter((manifest) => manifest.kind === kind);
  expect(found.map((manifest) => manifest.metadata?.name), `one ${kind} in deploy/kubernetes`).toHaveLength(1);
  return found[0] as T;
}

/** The value after `flag` in an argument list (`--root /host` or `--root=/host`). */
function flagValues(args: readonly string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1] ?? ''] : arg.startsWith(`${flag}=`) ? [arg.slice(flag.length + 1)] : []));
}

function envVar(container: Container, name: string): EnvVar {
  const found = container.env?.find((variable) => variable.name === name);
  expect(found, `${container.name} sets ${name}`).toBeDefined();
  return found!;
}

/** Every `--flag` of `fleetpatch <subcommand> --help`, from the CLI's source. */
async function cliFlags(subcommand: string): Promise<Set<string>> {
  const result = await runCli([subcommand, '--help']);
  expect(result.code, result.stderr).toBe(0);
  return new Set([...result.stdout.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)].map((match) => match[1]!));
}

const cli = new Map<string, Set<string>>();

beforeAll(async () => {
  for (const subcommand of ['agent', 'server']) cli.set(subcommand, await cliFlags(subcommand));
});

/** `args` is `<subcommand> [--flag value…]`: a subcommand deployed here, with flags it accepts. */
function expectCommandLine(args: readonly string[], where: string): void {
  const [subcommand, ...rest] = args;
  const accepted = cli.get(subcommand ?? '');
  expect(accepted, `${where}: "${subcommand}" is not a fleetpatch subcommand deployed here (agent, server)`).toBeDefined();
  for (const arg of rest.filter((each) => each.startsWith('--'))) {
    expect(accepted!.has(arg.split('=')[0]!), `${where}: fleetpatch ${subcommand} has no ${arg}`).toBe(true);
  }
}

describe('deploy/kubernetes', () => {
  it('has only well-formed YAML documents, each a named object, namespaced ones in the namespace defined here', () => {
    expect(documents.flatMap(({ file, document }) => document.errors.map((error) => `${file}: ${error.message}`))).toEqual([]);
    const namespaces = new Set(manifests.filter((manifest) => manifest.kind === 'Namespace').map((manifest) => manifest.metadata?.name));
    expect(namespaces.size).toBeGreaterThan(0);
    for (const manifest of manifests) {
      const what = `${manifest.kind}/${manifest.metadata?.name}`;
      expect(typeof manifest.apiVersion, what).toBe('string');
      expect(typeof manifest.kind, what).toBe('string');
      expect(typeof manifest.metadata?.name, what).toBe('string');
      expect(CLUSTER_SCOPED.has(manifest.kind!) || NAMESPACED.has(manifest.kind!), `${what}: a kind this test knows the scope of`).toBe(true);
      if (NAMESPACED.has(manifest.kind!)) expect(namespaces, what).toContain(manifest.metadata?.namespace);
      else expect(manifest.metadata?.namespace, what).toBeUndefined();
    }
  });

  it('runs the image\'s entrypoint with flags the real CLI accepts, every $(VAR) set in the container', () => {
    for (const workload of manifests.filter((manifest) => manifest.kind === 'DaemonSet' || manifest.kind === 'StatefulSet') as Workload[]) {
      for (const container of workload.spec.template.spec.containers) {
        const where = `${workload.kind}/${workload.metadata?.name} ${container.name}`;
        expect(container.command, `${where}: the image's ENTRYPOINT is fleetpatch`).toBeUndefined();
        expectCommandLine(container.args ?? [], where);
        // Kubernetes leaves a reference to an unset variable as it is: the literal text would be passed.
        for (const [, name] of (container.args ?? []).join(' ').matchAll(/\$\(([A-Z_][A-Z0-9_]*)\)/g)) envVar(container, name!);
      }
    }
  });

  describe('the agent DaemonSet', () => {
    const agentPod = () => {
      const pod = only<Workload>('DaemonSet').spec.template.spec;
      return { pod, agent: pod.containers[0]!, args: pod.containers[0]!.args ?? [] };
    };

    it('reads the host\'s root, mounted read-only at /host', () => {
      const { pod, agent, args } = agentPod();
      expect(args[0]).toBe('agent');
      expect(flagValues(args, '--root')).toEqual(['/host']);
      const mount = agent.volumeMounts?.find((each) => each.mountPath === '/host');
      expect(mount?.readOnly).toBe(true);
      expect(pod.volumes?.find((volume) => volume.name === mount?.name)?.hostPath?.path).toBe('/');
    });

    it('keeps its state on the node, reports as the node, labelled for the bucket', () => {
      const { pod, agent, args } = agentPod();
      const [stateDirectory] = flagValues(args, '--state-dir');
      const stateMount = agent.volumeMounts?.find((each) => each.mountPath === stateDirectory);
      expect(stateMount?.readOnly).toBeFalsy();
      expect(pod.volumes?.find((volume) => volume.name === stateMount?.name)?.hostPath?.path).toBeDefined();
      expect(flagValues(args, '--hostname')).toEqual(['$(NODE_NAME)']);
      expect(envVar(agent, 'NODE_NAME').valueFrom?.fieldRef?.fieldPath).toBe('spec.nodeName');
      expect(flagValues(args, '--label')).toContain('role=k8s-node');
    });

    it('takes its enrollment token from the Secret deploy/README.md creates, mounted as a file, never in argv', () => {
      const { pod, agent, args } = agentPod();
      expect(flagValues(args, '--enroll-token'), 'a token in argv is visible in ps').toEqual([]);
      const [tokenFile] = flagValues(args, '--enroll-token-file');
      const mount = agent.volumeMounts?.find((each) => tokenFile?.startsWith(`${each.mountPath}/`));
      expect(mount, `a volume mounted above ${tokenFile}`).toBeDefined();
      expect(mount!.readOnly).toBe(true);
      const secret = pod.volumes?.find((volume) => volume.name === mount!.name)?.secret;
      // The file is the Secret's key (or the path an item maps it to) under the mount.
      const key = secret?.items?.find((item) => posix.join(mount!.mountPath, item.path) === tokenFile)?.key ?? posix.relative(mount!.mountPath, tokenFile!);
      const readme = readFileSync(resolve(repoRoot, 'deploy/README.md'), 'utf8');
      const created = /kubectl -n fleetpatch create secret generic (\S+) --from-literal=(\w+)=fpe_/.exec(readme);
      expect(created, 'deploy/README.md creates the enrollment Secret').not.toBeNull();
      expect([secret?.secretName, key]).toEqual([created![1], created![2]]);
    });

    it('runs on every node, whatever its taints, within requests and limits', () => {
      const { pod, agent } = agentPod();
      expect(pod.tolerations).toContainEqual({ operator: 'Exists' });
      for (const bound of [agent.resources?.requests, agent.resources?.limits]) expect(Object.keys(bound ?? {}).sort()).toEqual(['cpu', 'memory']);
    });

    it('runs its jobs (upgrades, checks, the reboot) on the host through nsenter into PID 1, which needs hostPID and a privileged root container', () => {
      const { pod, agent, args } = agentPod();
      expect(flagValues(args, '--host-exec')).toEqual(['nsenter -t 1 -m -u -i -n -p --']);
      // The reboot command runs through the prefix too: an nsenter of its own would enter twice.
      for (const rebootCommand of flagValues(args, '--reboot-command')) expect(rebootCommand).not.toMatch(/^nsenter\b/);
      expect(pod.hostPID).toBe(true);
      expect(agent.securityContext).toMatchObject({ privileged: true, runAsUser: 0 });
    });

    it('reaches the server through the Service defined here', () => {
      const { args } = agentPod();
      const url = new URL(flagValues(args, '--server')[0] ?? '');
      const service = manifests.find((manifest) => manifest.kind === 'Service' && url.hostname === `${manifest.metadata?.name}.${manifest.metadata?.namespace}.svc`) as (Manifest & { spec: { ports: { port: number }[] } }) | undefined;
      expect(service, `a Service named by ${url.hostname}`).toBeDefined();
      expect(service!.spec.ports.map((port) => port.port)).toContain(Number(url.port));
    });
  });

  it('grants the server\'s ServiceAccount exactly the rolling reboot\'s verbs', () => {
    const rules = manifests.filter((manifest) => manifest.kind === 'ClusterRole' || manifest.kind === 'Role').flatMap((role) => (role as Manifest & { rules: PolicyRule[] }).rules);
    const grants = rules.flatMap((rule) => rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => `${group || 'core'}/${resource}: ${verb}`))));
    expect(grants.sort()).toEqual([
      'core/nodes: get', 'core/nodes: list', 'core/nodes: patch',
      'core/pods/eviction: create',
      'core/pods: get', 'core/pods: list',
      'policy/poddisruptionbudgets: get', 'policy/poddisruptionbudgets: list',
    ]);
    const role = only<Manifest>('ClusterRole');
    const binding = only<Manifest & { roleRef: { kind: string; name: string }; subjects: { kind: string; name: string; namespace: string }[] }>('ClusterRoleBinding');
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: role.metadata?.name });
    const server = only<Workload>('StatefulSet');
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: server.spec.template.spec.serviceAccountName, namespace: server.metadata?.namespace }]);
    expect(manifests.some((manifest) => manifest.kind === 'ServiceAccount' && manifest.metadata?.name === binding.subjects[0]!.name)).toBe(true);
  });

  it('runs server replicas on DATABASE_URL from a Secret, ready on /healthz, each home on a volume of its own', () => {
    const server = only<Workload>('StatefulSet');
    const container = server.spec.template.spec.containers[0]!;
    expect(server.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(envVar(container, 'DATABASE_URL').valueFrom?.secretKeyRef).toBeDefined();
    expect(container.readinessProbe?.httpGet?.path).toBe('/healthz');
    expect(container.ports?.map((port) => port.name)).toContain(container.readinessProbe?.httpGet?.port);
    const home = envVar(container, 'FLEETPATCH_HOME').value ?? '';
    // Strictly inside the mount: the server chmods its home to 0700, which it cannot do to a volume's root.
    const mount = container.volumeMounts?.find((each) => home.startsWith(`${each.mountPath}/`));
    expect(server.spec.volumeClaimTemplates?.map((claim) => claim.metadata.name)).toContain(mount?.name);
  });
});

interface DockerInstruction {
  keyword: string;
  rest: string;
}

interface DockerStage {
  base: string;
  name?: string;
  instructions: DockerInstruction[];
}

interface DockerCopy {
  from?: string;
  sources: string[];
  destination: string;
}

function parseDockerfile(text: string): DockerStage[] {
  const stages: DockerStage[] = [];
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  for (const line of lines) {
    const [, keyword, rest] = /^(\S+)\s+(.*)$/.exec(line)!;
    if (keyword!.toUpperCase() === 'FROM') {
      const [base, as, name] = rest!.split(/\s+/);
      stages.push({ base: base!, ...(as?.toUpperCase() === 'AS' ? { name: name! } : {}), instructions: [] });
    } else {
      stages.at(-1)!.instructions.push({ keyword: keyword!.toUpperCase(), rest: rest! });
    }
  }
  return stages;
}

function copiesOf(stage: DockerStage): DockerCopy[] {
  return stage.instructions.filter((instruction) => instruction.keyword === 'COPY').map((instruction) => {
    const words = instruction.rest.split(/\s+/);
    const from = words.find((word) => word.startsWith('--from='))?.slice('--from='.length);
    const paths = words.filter((word) => !word.startsWith('--'));
    return { ...(from ? { from } : {}), sources: paths.slice(0, -1), destination: paths.at(-1)! };
  });
}

function workdirOf(stage: DockerStage): string {
  return stage.instructions.filter((instruction) => instruction.keyword === 'WORKDIR').at(-1)?.rest ?? '/';
}

/** Where a COPY puts `source`, relative to the stage's WORKDIR. */
function copyTarget(stage: DockerStage, copy: DockerCopy, source: string): string {
  const workdir = workdirOf(stage);
  const destination = posix.resolve(workdir, copy.destination);
  const path = copy.destination.endsWith('/') || copy.sources.length > 1 ? posix.join(destination, posix.basename(source)) : destination;
  expect(path.startsWith(`${workdir}/`), `${source} is copied under ${workdir}`).toBe(true);
  return posix.relative(workdir, path);
}

/** Does the BuildKit ignore file keep `path` (or a directory above it) out of the context? */
function ignored(path: string, patterns: string[]): boolean {
  const segments = path.split('/');
  return segments.some((_, index) => {
    const prefix = segments.slice(0, index + 1).join('/');
    return patterns.some((pattern) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}$`).test(prefix));
  });
}

describe('deploy/Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(resolve(repoRoot, 'deploy/Dockerfile'), 'utf8'));
  const [build, runtime] = [stages[0]!, stages.at(-1)!];
  const packageJson = JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { bin: Record<string, string>; allowScripts: Record<string, boolean> };
  const runs = (stage: DockerStage) => stage.instructions.filter((instruction) => instruction.keyword === 'RUN').map((instruction) => instruction.rest);
  const jsonArray = (keyword: string) => JSON.parse(runtime.instructions.find((instruction) => instruction.keyword === keyword)?.rest ?? 'null') as string[] | null;

  it('builds in one stage and runs in another, both on node:20-bookworm-slim', () => {
    expect(stages).toHaveLength(2);
    expect(stages.map((stage) => stage.base)).toEqual(['node:20-bookworm-slim', 'node:20-bookworm-slim']);
    expect(copiesOf(runtime).some((copy) => copy.from === build.name)).toBe(true);
  });

  it('copies from the context only paths of the repository that Dockerfile.dockerignore lets through', () => {
    const patterns = readFileSync(resolve(repoRoot, 'deploy/Dockerfile.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    expect(patterns.filter((pattern) => pattern.startsWith('!')), 'exceptions are not modelled by this test').toEqual([]);
    for (const copy of stages.flatMap(copiesOf).filter((each) => !each.from)) {
      for (const source of copy.sources) {
        expect(existsSync(resolve(repoRoot, source)), `COPY ${source}: in the repository`).toBe(true);
        expect(ignored(source, patterns), `COPY ${source}: not in Dockerfile.dockerignore`).toBe(false);
      }
    }
  });

  it('takes from the build stage only what it copied in or compiled', () => {
    const { outDir } = (JSON.parse(readFileSync(resolve(repoRoot, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string } }).compilerOptions;
    const present = [outDir, ...copiesOf(build).flatMap((copy) => copy.sources.map((source) => copyTarget(build, copy, source)))];
    for (const copy of copiesOf(runtime).filter((each) => each.from === build.name)) {
      for (const source of copy.sources) expect(present, `COPY --from=${build.name} ${source}`).toContain(posix.relative(workdirOf(build), posix.resolve(workdirOf(build), source)));
    }
  });

  it('never lets npm run `prepare` (tsc) early, compiles after the sources, and runs the production install scripts package.json allows', () => {
    const installs = stages.flatMap(runs).filter((run) => /npm ci\b/.test(run));
    for (const install of installs) expect(install, 'npm ci without scripts: prepare would run tsc').toMatch(/npm ci\b[^&]*--ignore-scripts/);
    const buildIndex = build.instructions.findIndex((instruction) => instruction.keyword === 'RUN' && /npm run build\b/.test(instruction.rest));
    expect(buildIndex).toBeGreaterThan(-1);
    const copiedBefore = build.instructions.slice(0, buildIndex).filter((instruction) => instruction.keyword === 'COPY').map((instruction) => instruction.rest);
    for (const needed of ['src', 'tsconfig.json']) expect(copiedBefore.some((rest) => rest.split(/\s+/).includes(needed)), `${needed} copied before npm run build`).toBe(true);
    expect(runs(runtime).some((run) => /npm ci\b[^&]*--omit=dev/.test(run))).toBe(true);
    const lock = JSON.parse(readFileSync(resolve(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const allowed = Object.entries(packageJson.allowScripts).filter(([name, allow]) => allow && !lock.packages[`node_modules/${name}`]?.dev).map(([name]) => name);
    const rebuild = runs(runtime).join(' ').match(/npm rebuild ([^&]*)/)?.[1]?.split(/\s+/) ?? [];
    expect(rebuild).toEqual(expect.arrayContaining(allowed));
  });

  it('has the package\'s bin as its entrypoint, on the PATH, and a server command the CLI accepts, as a user other than root', () => {
    expect(jsonArray('ENTRYPOINT')).toEqual(['fleetpatch']);
    const bin = packageJson.bin.fleetpatch!;
    expect(runs(runtime).join(' ')).toContain(`ln -s ${posix.join(workdirOf(runtime), bin)} /usr/local/bin/fleetpatch`);
    expect(copiesOf(runtime).some((copy) => copy.sources.some((source) => copyTarget(runtime, copy, source) === dirname(bin)))).toBe(true);
    expect(statSync(resolve(repoRoot, bin)).mode & 0o111, `${bin} is executable (COPY keeps its mode)`).not.toBe(0);
    expectCommandLine(jsonArray('CMD') ?? [], 'CMD');
    const user = runtime.instructions.filter((instruction) => instruction.keyword === 'USER').at(-1)?.rest;
    expect(user === undefined || /^(root|0)(:|$)/.test(user), `USER ${user}`).toBe(false);
  });

  it('starts a server from exactly the files its runtime stage copies, on a database it migrates itself', async () => {
    if (!existsSync(resolve(repoRoot, 'dist/cli/run.js'))) throw new Error('dist/ is missing: run `npm run build` before this test');
    const image = mkdtempSync(join(tmpdir(), 'fleetpatch-image-'));
    const database = await createTestDatabase({ migrated: false });
    try {
      for (const copy of copiesOf(runtime)) {
        for (const source of copy.sources) {
          // The build stage's WORKDIR holds what the checkout has after `npm run build`.
          const inRepository = copy.from ? posix.relative(workdirOf(stages.find((stage) => stage.name === copy.from)!), source) : source;
          const target = join(image, copyTarget(runtime, copy, source));
          mkdirSync(dirname(target), { recursive: true });
          cpSync(resolve(repoRoot, inRepository), target, { recursive: true });
        }
      }
      // What `npm ci --omit=dev` installs; the checkout's tree has the dev dependencies as well.
      symlinkSync(resolve(repoRoot, 'node_modules'), join(image, 'node_modules'));
      const command = [join(image, 'bin', basename(packageJson.bin.fleetpatch!)), ...(jsonArray('CMD') ?? []), '--host', '127.0.0.1', '--port', '0', '--sync-interval', '0'];
      const child = spawn(process.execPath, command, { cwd: image, env: { ...process.env, DATABASE_URL: database.connectionString, FLEETPATCH_HOME: join(image, 'home') }, stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise<number | null>((resolveExit) => child.on('close', resolveExit));
      try {
        let stderr = '';
        const url = await new Promise<string>((resolveUrl, reject) => {
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
            stderr += chunk;
            const match = /listening on (http:\/\/\S+)/.exec(stderr);
            if (match) resolveUrl(match[1]!);
          });
          void exited.then((code) => reject(new Error(`the server exited (${code}): ${stderr}`)));
        });
        const health = await fetch(`${url}/healthz`);
        expect(await health.json()).toEqual({ status: 'ok' });
        const dashboard = await fetch(`${url}/`);
        expect(dashboard.status).toBe(200);
        expect(await dashboard.text()).toMatch(/^<!doctype html>/i);
        expect((await fetch(`${url}/assets/vendor/preact.mjs`)).status).toBe(200);
        const { rows } = await database.pool.query<{ count: string }>('SELECT count(*) FROM fleetpatch_migrations');
        expect(Number(rows[0]!.count)).toBe(readdirSync(resolve(repoRoot, 'src/store/migrations')).filter((file) => file.endsWith('.sql')).length);
      } finally {
        child.kill('SIGTERM');
        await exited;
      }
    } finally {
      await database.drop();
      rmSync(image, { recursive: true, force: true });
    }
  });
});

type Unit = Map<string, Map<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const line of text.split('\n').map((each) => each.trim())) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const equals = line.indexOf('=');
    const key = line.slice(0, equals).trim();
    section!.set(key, [...(section!.get(key) ?? []), line.slice(equals + 1).trim()]);
  }
  return unit;
}

describe('deploy/systemd', () => {
  const SYSTEMD_DIR = resolve(repoRoot, 'deploy/systemd');
  const unitFiles = readdirSync(SYSTEMD_DIR).filter((file) => file.endsWith('.service')).map((file) => join(SYSTEMD_DIR, file));
  const service = (file: string) => parseUnit(readFileSync(join(SYSTEMD_DIR, file), 'utf8')).get('Service')!;
  const systemdAnalyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((path) => existsSync(path));

  it('starts each unit with a real subcommand and flags the CLI accepts', () => {
    expect(unitFiles.map((file) => basename(file)).sort()).toEqual(['fleetpatch-agent.service', 'fleetpatch-server.service']);
    for (const file of unitFiles) {
      const [execStart, ...more] = service(basename(file)).get('ExecStart') ?? [];
      expect(more, `${basename(file)}: one ExecStart`).toEqual([]);
      const words = (execStart ?? '').split(/\s+/);
      expect(words.slice(0, 2), basename(file)).toEqual(['/usr/bin/env', 'fleetpatch']);
      expectCommandLine(words.slice(2), basename(file));
    }
  });

  it('runs the server as fleetpatch, only its home writable, restarted after it exits 3', () => {
    const server = service('fleetpatch-server.service');
    const value = (key: string) => server.get(key)?.at(-1);
    expect(value('ExecStart')).toMatch(/^\/usr\/bin\/env fleetpatch server /);
    expect(value('User')).toBe('fleetpatch');
    expect(server.get('EnvironmentFile')).toEqual(['/etc/fleetpatch/server.env']);
    expect(value('ProtectSystem')).toBe('strict');
    expect(value('NoNewPrivileges')).toBe('true');
    expect(server.get('Environment')).toContain(`FLEETPATCH_HOME=/var/lib/${value('StateDirectory')}`);
    // After 5 failed restarts of its embedded database the server exits 3 for systemd to start it afresh.
    expect(value('Restart')).toBe('on-failure');
    expect((value('RestartPreventExitStatus') ?? '').split(/\s+/)).not.toContain('3');
    expect(value('MemoryDenyWriteExecute') ?? 'false', 'V8 writes the code it runs').toBe('false');
  });

  it('leaves the system writable for the agent, whose rollout steps upgrade it', () => {
    const agent = service('fleetpatch-agent.service');
    expect(agent.get('User') ?? ['root']).toEqual(['root']);
    expect(agent.get('ProtectSystem') ?? ['false']).toEqual(['false']);
    expect(agent.get('NoNewPrivileges') ?? ['false']).toEqual(['false']);
  });

  it.skipIf(!systemdAnalyze)(`passes systemd-analyze verify${systemdAnalyze ? '' : ' (skipped: systemd-analyze is not installed; Debian package systemd)'}`, () => {
    const verified = spawnSync(systemdAnalyze!, ['verify', ...unitFiles], { encoding: 'utf8' });
    expect(verified.status, verified.stderr).toBe(0);
    // Unknown keys and bad values are only warnings (exit status 0): any line naming a unit here fails.
    expect(verified.stderr.split('\n').filter((line) => unitFiles.some((file) => line.includes(basename(file))))).toEqual([]);
  });
});
