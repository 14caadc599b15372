/**
 * Helpers for control-plane tests: a real `fleetpatch server` process on loopback, and a host root
 * tree (os-release, dpkg status, kernel release) for real `fleetpatch agent --root` runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from './cli.js';
import { sharedData } from './data-path.js';

export interface ServerProcess {
  url: string;
  adminToken: string;
  enrollmentToken: string;
  stop(): Promise<void>;
}

export async function startServerProcess(env: Record<string, string>, extraArgs: string[] = []): Promise<ServerProcess> {
  const { child, done } = startCli(['server', '--port', '0', '--sync-interval', '0', ...extraArgs], env);
  let stdout = '';
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on (http:\/\/\S+)/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.stdout!.on('data', (chunk: string) => (stdout += chunk));
    void done.then((result) => reject(new Error(`server exited early (${result.code}): ${result.stderr}`)));
  });
  // The first-start secrets follow the listening line on standard output.
  for (let attempt = 0; attempt < 50 && !/enrollment token/.test(stdout); attempt++) await new Promise((resolve) => setTimeout(resolve, 100));
  return {
    url,
    adminToken: /admin token:\s+(\S+)/.exec(stdout)?.[1] ?? '',
    enrollmentToken: /enrollment token:\s+(\S+)/.exec(stdout)?.[1] ?? '',
    async stop() {
      child.kill('SIGTERM');
      await done;
    },
  };
}

/** A Debian 12 root filesystem with the real image's package database, as `--root` reads it. */
export function debianRoot(options: { rebootRequired?: boolean; dpkgStatus?: string } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'fleetpatch-root-'));
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
  mkdirSync(join(root, 'proc/sys/kernel/random'), { recursive: true });
  writeFileSync(join(root, 'etc/os-release'), readFileSync(sharedData('inventories/debian12-node-image/os-release')));
  writeFileSync(join(root, 'var/lib/dpkg/status'), options.dpkgStatus ?? readFileSync(sharedData('inventories/debian12-node-image/dpkg-status'), 'utf8'));
  writeFileSync(join(root, 'proc/sys/kernel/osrelease'), '6.1.0-18-amd64\n');
  writeFileSync(join(root, 'proc/sys/kernel/random/boot_id'), '3f0c5c1e-6f1d-4a55-9a0e-1d2c3b4a5f60\n');
  writeFileSync(join(root, 'proc/stat'), `cpu 1 2 3\nbtime ${Math.floor(Date.now() / 1000) - 40 * 86_400}\n`);
  if (options.rebootRequired) {
    mkdirSync(join(root, 'var/run'), { recursive: true });
    writeFileSync(join(root, 'var/run/reboot-required'), '');
  }
  return root;
}

const NEWER_LIBUUID = `Package: libuuid1
Version: 2.38.1-5+deb12u4
Architecture: amd64
Multi-Arch: same
Source: util-linux
Depends: libc6 (>= 2.25)
Filename: ./libuuid1_2.38.1-5+deb12u4_amd64.deb
Size: 1000
Description: Universally Unique ID library

`;

/** A Debian root whose apt sources name a local flat repository, with its lists fetched by apt-get update. */
export function rootWithAptRepository(): string {
  const root = debianRoot();
  const repository = mkdtempSync(join(tmpdir(), 'fleetpatch-apt-repo-'));
  writeFileSync(join(repository, 'Packages'), NEWER_LIBUUID);
  for (const directory of ['etc/apt/apt.conf.d', 'etc/apt/preferences.d', 'etc/apt/sources.list.d', 'var/lib/apt/lists/partial', 'var/cache/apt/archives/partial']) mkdirSync(join(root, directory), { recursive: true });
  writeFileSync(join(root, 'etc/apt/sources.list'), `deb [trusted=yes] file:${repository} ./\n`);
  execFileSync('apt-get', ['-qq', '-o', `Dir=${root}`, '-o', 'Debug::NoLocking=true', 'update'], { env: { ...process.env, LC_ALL: 'C' }, stdio: 'pipe' });
  return root;
}

export async function apiGet<T>(server: ServerProcess, path: string, token = server.adminToken): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as T };
}

export async function apiSend<T>(server: ServerProcess, method: string, path: string, token: string | undefined, body: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}
