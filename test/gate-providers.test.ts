// The gate providers, one contract for all (Prometheus, HTTP, command): a pass, a failure, an
// error, a timeout and an abort, each kept as a plain-JSON measurement with what was seen; the
// placeholders and environment reach the check. Then a real Prometheus scraping an exporter this
// test controls: the gate passes, fails once the scrape sees the new value, and a bad query is an
// error, never a pass.
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_GATE_OUTPUT_BYTES } from '../src/domain/gates/gate-measurement.js';
import { policySchema, type Gate } from '../src/domain/policy/policy-schema.js';
import type { GateCheckKind } from '../src/gates/gate-provider.js';
import { measureGate, nextGateStep, type GateContext, type GateMeasurement } from '../src/gates/gate-runner.js';
import { freePort, startPrometheus, waitForQuery, type PrometheusServer } from './prometheus-server.js';

function gateOf(check: Record<string, unknown>, extra: Record<string, unknown> = {}): Gate {
  const policy = policySchema.parse({ version: 1, buckets: [{ name: 'databases', owner: 'dba', strategy: { kind: 'in-place' }, gates: [{ name: 'gate', when: 'post-host', check, ...extra }] }] });
  return policy.buckets[0]!.gates[0]!;
}

/** Alive and not a zombie (an orphan killed here may wait for a PID 1 that never reaps it). */
function isRunning(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

const CONTEXT: GateContext = { host: 'db-1', bucket: 'databases', rolloutId: 7 };

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

/** A fake Prometheus API and some health endpoints; `/hang` and the query `hang` never answer. */
function fixtureServer(): Server {
  const hanging: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url!, 'http://fixture');
    const json = (status: number, body: unknown) => response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (url.pathname === '/api/v1/query') {
      const query = url.searchParams.get('query')!;
      if (query.startsWith('hang')) return void hanging.push(response);
      if (query.startsWith('syntax')) return json(400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": 1:7: parse error: unexpected end of input' });
      // The value the query names (`ratio_0.5{…}`), labelled with the query and time received, so a test sees both.
      const value = /^ratio_([0-9.]+)/.exec(query)?.[1] ?? '1';
      return json(200, { status: 'success', data: { resultType: 'vector', result: [{ metric: { query, time: url.searchParams.get('time')!, tenant: String(request.headers['x-scope-orgid']) }, value: [Number(url.searchParams.get('time')), value] }] } });
    }
    if (url.pathname === '/hang') return void hanging.push(response);
    const status = Number(/^\/status\/(\d+)/.exec(url.pathname)?.[1] ?? 404);
    response.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status} for ${url.pathname}${url.search}`);
  });
  server.on('close', () => hanging.forEach((response) => response.destroy()));
  return server;
}

/** One family of gate checks: how to build its pass, failure, error and hang, and where it shows what it saw. */
interface ProviderFamily {
  kind: GateCheckKind;
  pass: () => Record<string, unknown>;
  failure: () => Record<string, unknown>;
  error: () => Record<string, unknown>;
  /** Never answers: the timeout (1 s) must end it. */
  hang: () => Record<string, unknown>;
  /** What the check received, to see the host and bucket arrived. */
  seen: (measurement: GateMeasurement) => string;
}

let fixtureUrl: string;
let closedPort: number;
const fixture = fixtureServer();

const FAMILIES: ProviderFamily[] = [
  {
    kind: 'prometheus',
    pass: () => ({ kind: 'prometheus', url: fixtureUrl, query: 'ratio_0.01{host="$host", bucket="$bucket"}', successCondition: 'result[0] < 0.05', headers: { 'X-Scope-OrgID': 'ops' } }),
    failure: () => ({ kind: 'prometheus', url: fixtureUrl, query: 'ratio_0.5{host="$host", bucket="$bucket"}', successCondition: 'result[0] < 0.05' }),
    error: () => ({ kind: 'prometheus', url: fixtureUrl, query: 'syntax{', successCondition: 'result[0] < 0.05' }),
    hang: () => ({ kind: 'prometheus', url: fixtureUrl, query: 'hang', successCondition: 'result[0] < 0.05', timeout: '1s' }),
    seen: (measurement) => JSON.stringify(measurement.value),
  },
  {
    kind: 'http',
    pass: () => ({ kind: 'http', url: `${fixtureUrl}/status/200?host=$host&bucket=$bucket` }),
    failure: () => ({ kind: 'http', url: `${fixtureUrl}/status/503?host=$host&bucket=$bucket` }),
    error: () => ({ kind: 'http', url: `http://127.0.0.1:${closedPort}/health` }),
    hang: () => ({ kind: 'http', url: `${fixtureUrl}/hang`, timeout: '1s' }),
    seen: (measurement) => measurement.output ?? '',
  },
  {
    kind: 'command',
    pass: () => ({ kind: 'command', command: 'echo "host=$FLEETPATCH_HOST bucket=$FLEETPATCH_BUCKET rollout=$FLEETPATCH_ROLLOUT"' }),
    failure: () => ({ kind: 'command', command: 'echo "host=$FLEETPATCH_HOST bucket=$FLEETPATCH_BUCKET" >&2; exit 3' }),
    // A command cannot fail to be measured except by running too long: its error is the timeout.
    error: () => ({ kind: 'command', command: 'echo started; sleep 30', timeout: '1s' }),
    hang: () => ({ kind: 'command', command: 'sleep 30', timeout: '1s' }),
    seen: (measurement) => measurement.output ?? '',
  },
];

beforeAll(async () => {
  fixtureUrl = await listen(fixture);
  closedPort = await freePort();
});
afterAll(() => new Promise<void>((resolve) => fixture.close(() => resolve())));

describe.each(FAMILIES)('the $kind gate provider', (family) => {
  const measure = (check: Record<string, unknown>, context: GateContext = CONTEXT) => measureGate(gateOf(check), context);

  it('passes a healthy check and keeps what it saw, the host and bucket included', async () => {
    const measurement = await measure(family.pass());
    expect(measurement).toMatchObject({ phase: 'successful', value: expect.anything() });
    expect(measurement.error).toBeUndefined();
    expect(family.seen(measurement)).toMatch(/db-1/);
    expect(family.seen(measurement)).toMatch(/databases/);
    expect(JSON.parse(JSON.stringify(measurement))).toEqual(measurement);
  });

  it('fails an unhealthy check, saying why, with what it saw', async () => {
    const measurement = await measure(family.failure());
    expect(measurement.phase).toBe('failed');
    expect(measurement.detail).not.toBe('');
    expect(measurement.value).toBeDefined();
    expect(family.seen(measurement)).toMatch(/db-1/);
  });

  it('reports a check that cannot be measured as an error, never a pass', async () => {
    const measurement = await measure(family.error());
    expect(measurement.phase).toBe('error');
    expect(measurement.error).toMatch(/./);
  });

  it('ends a check that does not answer at its timeout, as an error', async () => {
    const measurement = await measure(family.hang());
    expect(measurement).toMatchObject({ phase: 'error', error: expect.stringMatching(/no answer within 1s/) });
  });

  it('ends a measurement when the engine aborts it, as an error', async () => {
    const controller = new AbortController();
    const measuring = measure({ ...family.hang(), timeout: '1m' }, { ...CONTEXT, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(await measuring).toMatchObject({ phase: 'error', error: expect.stringMatching(/aborted/) });
  });
});

describe('provider specifics', () => {
  it('Prometheus: queries at the instant measured, escapes placeholders for PromQL strings, sends the headers', async () => {
    const at = new Date('2026-12-01T10:00:00.250Z');
    const measurement = await measureGate(gateOf(FAMILIES[0]!.pass()), { ...CONTEXT, host: 'db"1\\' }, undefined, () => at);
    expect(measurement.takenAt).toBe(at.toISOString());
    expect(measurement.value).toMatchObject({ kind: 'vector', series: [{ labels: { query: 'ratio_0.01{host="db\\"1\\\\", bucket="databases"}', time: '1796119200.250', tenant: 'ops' } }] });
  });

  it('Prometheus: the query error names its type and message', async () => {
    const measurement = await measureGate(gateOf(FAMILIES[0]!.error()), CONTEXT);
    expect(measurement.error).toBe('query syntax{: bad_data: invalid parameter "query": 1:7: parse error: unexpected end of input');
  });

  it('Prometheus and HTTP: an unreachable endpoint is an error that names the reason', async () => {
    const unreachable = `http://127.0.0.1:${closedPort}`;
    expect((await measureGate(gateOf({ kind: 'prometheus', url: unreachable, query: 'up', successCondition: 'result[0] == 1' }), CONTEXT)).error).toMatch(/ECONNREFUSED/);
    expect((await measureGate(gateOf({ kind: 'http', url: `${unreachable}/health` }), CONTEXT)).error).toMatch(/ECONNREFUSED/);
  });

  it('HTTP: compares with the expected status and does not follow redirects', async () => {
    expect((await measureGate(gateOf({ kind: 'http', url: `${fixtureUrl}/status/302`, expectStatus: 302 }), CONTEXT)).phase).toBe('successful');
    expect(await measureGate(gateOf({ kind: 'http', url: `${fixtureUrl}/status/200`, expectStatus: 204 }), CONTEXT)).toMatchObject({ phase: 'failed', value: { kind: 'http', status: 200 }, detail: expect.stringMatching(/HTTP 200, expected 204$/) });
  });

  it('command: keeps the last 64 KiB of interleaved output', async () => {
    const measurement = await measureGate(gateOf({ kind: 'command', command: 'head -c 200000 /dev/zero | tr "\\0" x; echo; echo the-end >&2; exit 1' }), CONTEXT);
    expect(measurement).toMatchObject({ phase: 'failed', value: { kind: 'exit', code: 1 }, detail: 'exit status 1' });
    expect(Buffer.byteLength(measurement.output!)).toBeLessThanOrEqual(MAX_GATE_OUTPUT_BYTES);
    expect(measurement.output).toMatch(/^x+\nthe-end\n$/);
  });

  it('command: a timeout kills the whole process group, background children included', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'fleetpatch-gate-'));
    const pidFile = join(directory, 'child.pid');
    const measurement = await measureGate(gateOf({ kind: 'command', command: `sleep 30 & echo $! > ${pidFile}; wait`, timeout: '1s' }), CONTEXT);
    expect(measurement.phase).toBe('error');
    expect(existsSync(pidFile)).toBe(true);
    expect(isRunning(Number(readFileSync(pidFile, 'utf8')))).toBe(false);
  });

  it('command: a wave gate has no host in its environment', async () => {
    const measurement = await measureGate(gateOf({ kind: 'command', command: 'echo "host=${FLEETPATCH_HOST-unset}"' }, { when: 'post-wave' }), { bucket: 'databases', rolloutId: 7 });
    expect(measurement.output).toBe('host=unset\n');
  });
});

describe('a Prometheus gate against a real Prometheus', () => {
  let exporter: Server;
  let prometheus: PrometheusServer;
  let ratio = '0.01';

  beforeAll(async () => {
    exporter = createServer((_, response) => response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`# TYPE fleetpatch_test_error_ratio gauge\nfleetpatch_test_error_ratio{host="db-1"} ${ratio}\nfleetpatch_test_error_ratio{host="db-2"} 0.02\n`));
    const exporterUrl = await listen(exporter);
    prometheus = await startPrometheus({ exporter: new URL(exporterUrl).host });
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
    exporter?.close();
    if (exporter) await once(exporter, 'close');
  });

  const gate = (query: string) => gateOf({ kind: 'prometheus', url: prometheus.url, query, successCondition: 'result[0] < 0.05' });
  const ratioOf = (value: string) => (samples: Array<{ value: [number, string] }>) => samples[0]?.value[1] === value;

  it('passes while the error ratio is low, fails once the scrape sees it high, and an earlier instant still reads the old value', async () => {
    await waitForQuery(prometheus.url, 'fleetpatch_test_error_ratio{host="db-1"}', ratioOf('0.01'), 30_000);
    const before = new Date();
    const low = await measureGate(gate('fleetpatch_test_error_ratio{host="$host"}'), CONTEXT);
    expect(low).toMatchObject({ phase: 'successful', value: { kind: 'vector', seriesCount: 1, series: [{ labels: { host: 'db-1', job: 'exporter' }, value: '0.01' }] } });

    ratio = '0.5';
    await waitForQuery(prometheus.url, 'fleetpatch_test_error_ratio{host="db-1"}', ratioOf('0.5'), 30_000);
    const high = await measureGate(gate('fleetpatch_test_error_ratio{host="$host"}'), CONTEXT);
    expect(high).toMatchObject({ phase: 'failed', detail: 'result[0] < 0.05 is false for [0.5]' });
    expect(nextGateStep(gateOf({ kind: 'command', command: 'true' }), { startedAt: before, measurements: [high] }, new Date()).verdict).toMatchObject({ phase: 'failed', action: 'halt' });

    const earlier = await measureGate(gate('fleetpatch_test_error_ratio{host="$host"}'), CONTEXT, undefined, () => before);
    expect(earlier.phase).toBe('successful');
  }, 60_000);

  it('reports a query syntax error as an error with Prometheus\'s words', async () => {
    const measurement = await measureGate(gate('fleetpatch_test_error_ratio{host="$host"'), CONTEXT);
    expect(measurement).toMatchObject({ phase: 'error', error: expect.stringMatching(/: bad_data: .*parse error/) });
  });

  it('judges a host the exporter does not know as no data (inconclusive by default)', async () => {
    const measurement = await measureGate(gate('fleetpatch_test_error_ratio{host="$host"}'), { ...CONTEXT, host: 'db-9' });
    expect(measurement).toMatchObject({ phase: 'inconclusive', value: { kind: 'vector', series: [], seriesCount: 0 } });
  });
});
