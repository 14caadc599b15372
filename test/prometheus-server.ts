/**
 * A real Prometheus (Debian's package) for tests: it scrapes the given loopback targets every
 * second, keeps its data in a temporary directory, and is stopped with the test.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireTool } from './required-tools.js';

export interface PrometheusServer {
  url: string;
  stop(): Promise<void>;
}

export type PromSample = { metric: Record<string, string>; value: [number, string] };

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts Prometheus scraping `targets` (host:port, one job each) and waits until it is ready.
 *
 * @example const prometheus = await startPrometheus({ fleetpatch: '127.0.0.1:8080' })
 */
export async function startPrometheus(targets: Record<string, string>): Promise<PrometheusServer> {
  const binary = requireTool('prometheus');
  const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const jobs = Object.entries(targets).map(([job, target]) => `  - job_name: ${job}\n    static_configs:\n      - targets: ['${target}']\n`);
  writeFileSync(join(directory, 'prometheus.yml'), `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n${jobs.join('')}`);
  const child = spawn(binary, [`--config.file=${join(directory, 'prometheus.yml')}`, `--storage.tsdb.path=${join(directory, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(directory, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then((response) => response.ok, () => false);
    if (ready) return { url, stop };
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Prometheus did not become ready at ${url} within 30 s (exit code ${child.exitCode})`);
    }
    await sleep(100);
  }
}

/** An instant query's vector, or [] when Prometheus cannot answer yet. */
export async function promQuery(base: string, query: string): Promise<PromSample[]> {
  const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await response.json()) as { data?: { result: PromSample[] } };
  return body.data?.result ?? [];
}

/**
 * Polls a query until `accept` takes its vector; fails after `timeoutMs`.
 *
 * @example await waitForQuery(prometheus.url, 'up{job="exporter"}', (samples) => samples[0]?.value[1] === '1', 30_000)
 */
export async function waitForQuery(base: string, query: string, accept: (samples: PromSample[]) => boolean, timeoutMs: number): Promise<PromSample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await promQuery(base, query).catch(() => []);
    if (accept(samples)) return samples;
    if (Date.now() > deadline) throw new Error(`${query} did not give the expected answer within ${timeoutMs} ms (last: ${JSON.stringify(samples)})`);
    await sleep(250);
  }
}
