// The command hook's optional JSON last line: taken when the job result would take it, plain
// output otherwise (a report the result refuses must never make the whole result invalid).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createCommandHookExecutor } from '../src/executors/command-hook.js';
import { hostJobSchema, jobResultSchema } from '../src/protocol/job-protocol.js';

const context = { signal: new AbortController().signal, log: () => undefined, firstStartedAt: new Date(), now: () => new Date() };
const target = { name: 'db-1', labels: {}, rolloutId: 5, bucket: 'databases' };
const upgrade = hostJobSchema.parse({ key: '5:db-1:upgrade:1', rolloutId: 5, step: 'upgrade', deadline: new Date(Date.now() + 60_000).toISOString(), packages: [{ name: 'libfp1', version: '1.1-1' }] });

function hookPrinting(lastLine: string): string {
  const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-hook-report-'));
  const hook = join(directory, 'patch-host.sh');
  writeFileSync(hook, `#!/bin/sh\necho "upgrading $FLEETPATCH_PACKAGES"\nprintf '%s\\n' '${lastLine}'\n`, { mode: 0o755 });
  return hook;
}

describe('the command hook\'s last-line report', () => {
  it('carries what the package manager replaced and the details', async () => {
    const hook = hookPrinting('{"replaced":[{"name":"libfp1","from":"1.0-1","to":"1.1-1"}],"details":{"ticket":"CHG-42"}}');
    const { result } = await createCommandHookExecutor({ command: hook }).run(upgrade, target, context);
    expect(result.outcome).toBe('succeeded');
    expect(result.replaced).toEqual([{ name: 'libfp1', from: '1.0-1', to: '1.1-1' }]);
    expect(result.details).toMatchObject({ ticket: 'CHG-42' });
    expect(jobResultSchema.safeParse(result).success).toBe(true);
  });

  it('is plain output when the result would refuse it (a control character in its error)', async () => {
    const hook = hookPrinting('{"error":"disk\\u0007full","replaced":[{"name":"libfp1","to":"1.1-1"}]}');
    const { result } = await createCommandHookExecutor({ command: hook }).run(upgrade, target, context);
    expect(result.outcome).toBe('succeeded');
    expect(result.replaced).toEqual([]);
    expect(result.error).toBeUndefined();
    expect(result.output).toContain('upgrading libfp1=1.1-1');
    expect(jobResultSchema.safeParse(result).success, JSON.stringify(jobResultSchema.safeParse(result).error?.issues)).toBe(true);
  });
});
