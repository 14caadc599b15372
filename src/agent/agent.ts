/**
 * The fleetpatch agent: collects this host's facts and reports them to the server (pull model: the
 * agent calls the server, the server never reaches the host). First contact enrolls and sends a
 * full inventory; later check-ins send only what changed, or a heartbeat when nothing did. A
 * failed check-in is spooled to disk and retried with exponential backoff and jitter.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../domain/errors.js';
import type { HostInventory, InstalledPackage } from '../domain/types.js';
import { AGENT_PROTOCOL_VERSION, packageDelta, packageListDigest, type CheckIn } from '../protocol/agent-protocol.js';
import { collectHostFacts } from './host-facts.js';

export const AGENT_VERSION = `0.1.0+p${AGENT_PROTOCOL_VERSION}`;

export interface AgentOptions {
  serverUrl: string;
  stateDirectory: string;
  root: string;
  hostname?: string;
  labels: Record<string, string>;
  enrollToken?: string;
  log: (message: string) => void;
}

interface Credential {
  server: string;
  hostname: string;
  credential: string;
}

interface LastReport {
  digest: string;
  factsFingerprint: string;
  packages: InstalledPackage[];
}

/** The server could not be reached or answered 5xx: worth retrying later. */
export class ServerUnavailableError extends Error {
  override readonly name = 'ServerUnavailableError';
}

export type CycleOutcome = 'full' | 'delta' | 'heartbeat';

export class Agent {
  constructor(private readonly options: AgentOptions) {
    mkdirSync(options.stateDirectory, { recursive: true, mode: 0o700 });
  }

  private path(file: string): string {
    return join(this.options.stateDirectory, file);
  }

  private read<T>(file: string): T | undefined {
    return existsSync(this.path(file)) ? (JSON.parse(readFileSync(this.path(file), 'utf8')) as T) : undefined;
  }

  private write(file: string, value: unknown): void {
    writeFileSync(this.path(file), JSON.stringify(value), { mode: 0o600 });
  }

  /** One check-in: send any spooled check-in, then collect and report now. */
  async runOnce(): Promise<CycleOutcome> {
    const credential = await this.credential();
    const spooled = this.read<{ body: CheckIn }>('spool.json');
    if (spooled) {
      await this.send(credential, 'PUT', 'inventory', spooled.body);
      rmSync(this.path('spool.json'));
      this.options.log('sent the check-in spooled during the outage');
    }
    const inventory = await collectHostFacts({ root: this.options.root, hostname: credential.hostname, labels: this.options.labels, availableUpdates: { log: this.options.log } });
    const bootId = await readBootId(this.options.root);
    const digest = packageListDigest(inventory.packages);
    const facts = factsOf(inventory, bootId);
    const factsFingerprint = JSON.stringify(facts);
    const last = this.read<LastReport>('last-report.json');
    if (last && last.digest === digest && last.factsFingerprint === factsFingerprint) {
      await this.send(credential, 'POST', 'heartbeat', { packageDigest: digest });
      return 'heartbeat';
    }
    let body: CheckIn = last
      ? { kind: 'delta', ...facts, packageDigest: digest, baseDigest: last.digest, ...packageDelta(last.packages, inventory.packages) }
      : { kind: 'full', ...facts, packageDigest: digest, packages: inventory.packages };
    try {
      await this.send(credential, 'PUT', 'inventory', body);
    } catch (error) {
      if (!(error instanceof DeltaRejected)) {
        this.write('spool.json', { body });
        throw error;
      }
      this.options.log('the server has no base for a delta; sending the full inventory');
      body = { kind: 'full', ...facts, packageDigest: digest, packages: inventory.packages };
      await this.send(credential, 'PUT', 'inventory', body);
    }
    this.write('last-report.json', { digest, factsFingerprint, packages: inventory.packages } satisfies LastReport);
    return body.kind;
  }

  /**
   * Runs forever: a check-in every `intervalSeconds`; after a failure, retries with exponential
   * backoff (capped at the interval) and ±50% jitter so a recovering server is not hit by every
   * agent at once.
   */
  async runForever(intervalSeconds: number, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      let delaySeconds = intervalSeconds;
      try {
        const outcome = await this.runOnce();
        this.options.log(`check-in: ${outcome}`);
        failures = 0;
      } catch (error) {
        if (!(error instanceof ServerUnavailableError)) throw error;
        failures++;
        delaySeconds = Math.min(intervalSeconds, 5 * 2 ** Math.min(failures - 1, 10)) * (0.5 + Math.random());
        this.options.log(`${error.message}; retrying in ${delaySeconds.toFixed(0)} s`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delaySeconds * 1000);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
    }
  }

  private async credential(): Promise<Credential> {
    const stored = this.read<Credential>('credential.json');
    if (stored && stored.server === this.options.serverUrl) return stored;
    if (!this.options.enrollToken) throw new InputError('this agent is not enrolled', { file: this.path('credential.json') }, 'give --enroll-token (created on the server\'s first start, or with POST /api/v1/enrollment-tokens)');
    const hostname = this.options.hostname ?? (await collectHostFacts({ root: this.options.root })).hostname;
    const response = await this.request('POST', '/api/v1/enroll', undefined, { token: this.options.enrollToken, hostname, labels: this.options.labels });
    const enrolled = (await response.json()) as { credential: string; hostname: string };
    const credential = { server: this.options.serverUrl, hostname: enrolled.hostname, credential: enrolled.credential };
    this.write('credential.json', credential);
    this.options.log(`enrolled as ${hostname}`);
    return credential;
  }

  private async send(credential: Credential, method: 'PUT' | 'POST', what: 'inventory' | 'heartbeat', body: unknown): Promise<void> {
    await this.request(method, `/api/v1/hosts/${encodeURIComponent(credential.hostname)}/${what}`, credential.credential, body);
  }

  private async request(method: string, path: string, secret: string | undefined, body: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.options.serverUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ServerUnavailableError(`the server ${this.options.serverUrl} is unreachable (${cause})`);
    }
    if (response.status >= 500) throw new ServerUnavailableError(`the server answered ${response.status}`);
    if (!response.ok) {
      const error = ((await response.json().catch(() => ({}))) as { error?: { code?: string; message?: string; hint?: string } }).error ?? {};
      if (error.code === 'delta-base-mismatch') throw new DeltaRejected();
      // A credential that stops working was revoked, or its host retired: re-enrolling needs an operator.
      const hint = response.status === 401 && secret?.startsWith('fph_')
        ? `the server no longer accepts this host's credential (revoked, or the host was retired); an operator can run "fleetpatch hosts approve-enrollment <name>", then run the agent with --enroll-token after removing ${this.path('credential.json')}`
        : error.hint;
      throw new InputError(`the server refused ${method} ${path}: ${response.status} ${error.message ?? ''}`.trim(), {}, hint);
    }
    return response;
  }
}

class DeltaRejected extends Error {}

function factsOf(inventory: HostInventory, bootId: string | undefined) {
  return {
    rebootRequired: inventory.rebootRequired,
    labels: inventory.labels,
    agentVersion: AGENT_VERSION,
    ...(inventory.os ? { os: inventory.os } : {}),
    ...(inventory.osEcosystem ? { osEcosystem: inventory.osEcosystem } : {}),
    ...(inventory.arch ? { arch: inventory.arch } : {}),
    ...(inventory.kernel.running ? { runningKernel: inventory.kernel.running } : {}),
    ...(inventory.bootTime ? { bootTime: inventory.bootTime.toISOString() } : {}),
    ...(bootId ? { bootId } : {}),
    ...(inventory.availableUpdates ? { availableUpdates: inventory.availableUpdates } : {}),
  };
}

async function readBootId(root: string): Promise<string | undefined> {
  try {
    return (await readFile(join(root === '/' ? '/' : root, 'proc/sys/kernel/random/boot_id'), 'utf8')).trim();
  } catch {
    return undefined;
  }
}
