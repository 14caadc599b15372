/**
 * The Node flags a benchmark starts a server process with: the ones the `fleetpatch` command's
 * first line gives node (bin/fleetpatch.js), so the server is measured as users run it, then
 * BENCH_SERVER_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
import { readFileSync } from 'node:fs';

export function serverNodeArgs(): string[] {
  const firstLine = readFileSync(new URL('../bin/fleetpatch.js', import.meta.url), 'utf8').split('\n', 1)[0]!;
  const words = firstLine.split(/\s+/);
  const launcherFlags = words.slice(words.indexOf('node') + 1);
  return [...launcherFlags, ...(process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [])];
}
