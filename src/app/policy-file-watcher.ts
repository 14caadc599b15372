/**
 * `fleetpatch server --policy FILE`: the file is applied as a revision at start and again whenever
 * its content changes. Changes are noticed by `fs.watch` on the file's directory (editors replace
 * files by renaming, which a watch on the file itself would lose) and by a periodic hash check
 * (network filesystems and ConfigMap symlink swaps do not always raise events), debounced. A bad new
 * text is logged with every problem and the policy in force stays; a good one becomes a revision
 * (author `server:file`) and takes effect here at once and on every replica by notification.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { InputError } from '../domain/errors.js';
import { formatPolicyIssue, hasErrors, type PolicyJudgement } from '../domain/policy/policy-report.js';
import type pg from 'pg';
import type { PolicyReader } from './policy-reader.js';
import { reassignHosts } from './host-reassignment.js';
import { applyPolicy, policyContentHash, type PolicyInForce } from './policy-service.js';

export const POLICY_FILE_AUTHOR = 'server:file';

export interface PolicyFileOptions {
  pool: pg.Pool;
  reader: PolicyReader;
  /** The database the reader re-assigns the stored hosts in after a change (in line on `pool` without it). */
  connectionString?: string;
  inForce: PolicyInForce;
  log: (message: string) => void;
  /** Periodic hash check; 0 turns it off (tests call `check()` instead). Default 5 s. */
  pollMs?: number;
  /** Quiet time after the last change event before the file is read. Default 200 ms. */
  debounceMs?: number;
  now?: () => Date;
}

export interface PolicyFileWatcher {
  /** Reads the file now and applies it if its content changed; resolves when that is done. */
  check(): Promise<void>;
  stop(): void;
}

export interface LoadedPolicyFile {
  file: string;
  text: string;
  judgement: PolicyJudgement;
}

/**
 * Reads and judges the file; a bad one is logged with every problem and thrown as an InputError
 * naming its first error's line and column, so the server refuses to start (exit 2).
 *
 * @example const loaded = await loadPolicyFile('fleetpatch.yaml', reader, new Date(), console.error)
 */
export async function loadPolicyFile(file: string, reader: PolicyReader, now: Date, log: (message: string) => void): Promise<LoadedPolicyFile> {
  const text = await readPolicyText(file);
  const judgement = await reader.judge(text, now);
  if (hasErrors(judgement)) {
    for (const issue of judgement.issues) log(formatPolicyIssue(file, issue));
    const first = judgement.issues.find((issue) => issue.level === 'error')!;
    throw new InputError(first.message, { file, ...(first.line !== undefined ? { line: first.line, column: first.column ?? 1 } : {}), ...(first.field ? { field: first.field } : {}) }, 'the server does not start on a bad policy; fleetpatch policy check FILE lists every problem');
  }
  return { file, text, judgement };
}

function readPolicyText(file: string): Promise<string> {
  return readFile(resolve(file), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new InputError(`cannot read the policy: ${error.code ?? error.message}`, { file });
  });
}

/**
 * Applies the loaded file as a revision (no-op when the latest revision has its content), then
 * watches it for changes.
 *
 * @example const watcher = await watchPolicyFile(await loadPolicyFile(file, reader, new Date(), log), { pool, reader, inForce, log })
 */
export async function watchPolicyFile(loaded: LoadedPolicyFile, options: PolicyFileOptions): Promise<PolicyFileWatcher> {
  const now = options.now ?? (() => new Date());
  const { file } = loaded;
  const path = resolve(file);

  const apply = async (text: string, judgement: PolicyJudgement) => {
    const result = await applyPolicy(options.pool, { text, judgement, author: POLICY_FILE_AUTHOR, message: `${file} changed`, source: file, reader: options.reader });
    options.inForce.adopt(result.revision, text, result.policy);
    for (const warning of result.warnings) options.log(formatPolicyIssue(file, warning));
    if (result.status === 'unchanged') {
      options.log(`policy ${file} is revision ${result.revision.revision} already; nothing stored`);
      return;
    }
    // On the reader's worker thread when the server gives one: matching every stored host is CPU.
    const moved = options.connectionString ? await options.reader.reassign(options.connectionString, text) : await reassignHosts(options.pool, options.inForce);
    options.log(`policy ${file} applied as revision ${result.revision.revision}; ${moved.moved} of ${moved.hosts} hosts changed bucket or team`);
  };

  await apply(loaded.text, loaded.judgement);
  let lastHash = policyContentHash(loaded.text);

  let checking: Promise<void> = Promise.resolve();
  const check = () => {
    checking = checking.then(async () => {
      let text: string;
      try {
        text = await readPolicyText(file);
      } catch (error) {
        options.log(`${(error as Error).message}; ${options.inForce.describe()} stays in force`);
        return;
      }
      const hash = policyContentHash(text);
      if (hash === lastHash) return;
      const judgement = await options.reader.judge(text, now());
      if (hasErrors(judgement)) {
        for (const issue of judgement.issues) options.log(formatPolicyIssue(file, issue));
        options.log(`policy ${file} changed but has errors; ${options.inForce.describe()} stays in force`);
        // Reported once; the next edit is judged afresh.
        lastHash = hash;
        return;
      }
      try {
        await apply(text, judgement);
        lastHash = hash;
      } catch (error) {
        // The database refused or is down: the next check tries again.
        options.log(`applying policy ${file} failed (${error instanceof Error ? error.message : String(error)}); ${options.inForce.describe()} stays in force`);
      }
    });
    return checking;
  };

  const debounceMs = options.debounceMs ?? 200;
  let debounce: NodeJS.Timeout | undefined;
  const changed = () => {
    if (debounce) clearTimeout(debounce);
    debounce = setTimeout(() => void check(), debounceMs);
    debounce.unref();
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
      if (name === null || name === basename(path)) changed();
    });
    watcher.on('error', (error) => options.log(`watching ${file} failed (${error.message}); the periodic check goes on`));
  } catch (error) {
    options.log(`cannot watch ${file} (${(error as Error).message}); relying on the periodic check`);
  }
  const pollMs = options.pollMs ?? 5_000;
  const poll = pollMs > 0 ? setInterval(() => void check(), pollMs) : undefined;
  poll?.unref();
  return {
    check,
    stop() {
      watcher?.close();
      if (poll) clearInterval(poll);
      if (debounce) clearTimeout(debounce);
    },
  };
}
