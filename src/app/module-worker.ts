/**
 * Starts a worker thread on one of fleetpatch's own modules, from the build (a plain .js file) or
 * from source (tsx, vitest: a .ts file, whose loader hooks a worker does not inherit, so the worker
 * registers tsx itself before importing the module).
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * @example startModuleWorker(new URL('./plan-worker', import.meta.url), import.meta.url, { workerData })
 */
export function startModuleWorker(moduleWithoutExtension: URL, callerUrl: string, options: WorkerOptions = {}): Worker {
  const fromSource = extname(fileURLToPath(callerUrl)) === '.ts';
  const entry = new URL(`${moduleWithoutExtension.href}${fromSource ? '.ts' : '.js'}`);
  return fromSource
    ? new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, { ...options, eval: true })
    : new Worker(entry, options);
}
