// connectSsh with a signal that aborted before the call: nothing is started (an abort that came
// first fires no event, so without the check the connection would be tried to its timeout).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectSsh } from '../src/executors/ssh/ssh-connection.js';

describe('connectSsh', () => {
  it('starts nothing when its signal has already aborted', async () => {
    const knownHostsPath = join(mkdtempSync(join(tmpdir(), 'fleetpatch-ssh-connect-')), 'known_hosts');
    writeFileSync(knownHostsPath, '');
    // A listener that never speaks SSH: a started connection would sit in its handshake until the timeout.
    let accepted = 0;
    const silent = createServer(() => void accepted++);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const stopped = new AbortController();
    stopped.abort();
    const connected = await connectSsh({ name: 'db-1', address: '127.0.0.1', port, user: 'root' }, {}, { knownHostsPath, trustOnFirstUse: false, log: () => undefined }, 60_000, stopped.signal);
    expect(connected).toEqual({ ok: false, failure: { kind: 'unreachable', message: 'stopped before the connection was made' } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(accepted).toBe(0);
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });
});
