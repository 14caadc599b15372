/** Runs the real `fleetpatch` CLI as a child process: from source via tsx, or the build in dist/. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from './data-path.js';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ENTRY = resolve(repoRoot, 'test/fixtures/fleetpatch.ts');

export function startCli(args: string[], env: Record<string, string> = {}, input?: string): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.end(input ?? '');
  const done = new Promise<CliResult>((resolveResult, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolveResult({ code, stdout, stderr }));
  });
  return { child, done };
}

export function runCli(args: string[], env: Record<string, string> = {}, input?: string): Promise<CliResult> {
  return startCli(args, env, input).done;
}

const BIN = resolve(repoRoot, 'bin/fleetpatch.js');

export interface BuiltCliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs the built CLI (bin/fleetpatch.js over dist/, as users run it) with stdout on a pipe that is
 * read slowly, so the pipe fills and the CLI must wait for its reader; or with stdout redirected
 * to a file, which is written synchronously. Both must give the same bytes and exit code.
 */
export async function runBuiltCli(args: string[], options: { stdout: 'slow-pipe' | 'file'; env?: Record<string, string>; input?: string }): Promise<BuiltCliResult> {
  if (!existsSync(resolve(repoRoot, 'dist/cli/run.js'))) throw new Error('dist/ is missing: run `npm run build` before this test');
  const outputFile = options.stdout === 'file' ? join(mkdtempSync(join(tmpdir(), 'fleetpatch-stdout-')), 'stdout') : undefined;
  const outputDescriptor = outputFile ? openSync(outputFile, 'w') : undefined;
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', outputDescriptor ?? 'pipe', 'pipe'],
  });
  if (outputDescriptor !== undefined) closeSync(outputDescriptor);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin!.on('error', () => undefined).end(options.input ?? '');
  const exited = new Promise<number | null>((resolveExit, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolveExit(code));
  });
  let stdout: Buffer;
  if (child.stdout) {
    // Nothing is read for a while, then a chunk at a time with pauses: a writer that exits
    // without waiting for its reader loses everything past the pipe's 64 KiB.
    child.stdout.pause();
    await sleep(500);
    const chunks: Buffer[] = [];
    for await (const chunk of child.stdout) {
      chunks.push(chunk as Buffer);
      await sleep(5);
    }
    stdout = Buffer.concat(chunks);
  } else {
    await exited;
    stdout = readFileSync(outputFile!);
    rmSync(dirname(outputFile!), { recursive: true, force: true });
  }
  return { code: await exited, stdout, stderr };
}
