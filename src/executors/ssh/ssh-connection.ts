/**
 * One SSH connection to a host (ssh2): its key checked against fleetpatch's known_hosts before
 * anything is sent, then commands run on it one channel each. Nothing here throws: a connection
 * that fails says why, a command says how it ended (its exit, or the connection lost under it).
 */
import ssh2, { type Client, type ClientChannel, type ConnectConfig, type ServerHostKeyAlgorithm } from 'ssh2';
import { appendKnownHost, hostKeyFingerprint, hostKeyOf, knownHostsLine, knownHostsName, KnownHosts, type HostKey, type HostKeyVerdict } from './known-hosts.js';

export interface SshEndpoint {
  /** The host's name in fleetpatch, for messages. */
  name: string;
  address: string;
  port: number;
  user: string;
}

export interface SshCredentials {
  privateKey?: Buffer;
  /** An SSH agent's socket (SSH_AUTH_SOCK). */
  agentSocket?: string;
}

export interface HostKeyPolicy {
  knownHostsPath: string;
  trustOnFirstUse: boolean;
  log(message: string): void;
}

export type ConnectFailure = {
  /** `unreachable` may answer later (a reboot); a refused key or a refused login will not. */
  kind: 'host-key' | 'authentication' | 'unreachable';
  message: string;
};

export type Connected = { ok: true; connection: SshConnection } | { ok: false; failure: ConnectFailure };

export interface ExecOptions {
  /** Written and closed; without it stdin stays open for the whole command (the remote side's lifeline). */
  stdin?: string;
  onStdout(chunk: Buffer): void;
  /** Ends the command: stdin is closed (the remote side kills what it runs) and the channel with it. */
  signal: AbortSignal;
}

export interface ExecOutcome {
  exitCode?: number;
  exitSignal?: string;
  /** The command's stderr, its last 16 KiB. */
  stderr: string;
  /** Set when the connection went away before the command ended. */
  connectionLost?: string;
  /** Set when the host refused to open a channel for the command (MaxSessions, say): it never ran. */
  channelError?: string;
  aborted: boolean;
}

const MAX_STDERR_BYTES = 16_384;
/** A host that stops answering mid-command (pulled cable, no RST) is noticed within a minute. */
const KEEPALIVE_INTERVAL_MS = 15_000;
const KEEPALIVE_COUNT_MAX = 4;

/** Host key algorithms ssh2 offers for each key type known_hosts may pin. */
const ALGORITHMS_OF_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Connects and authenticates, accepting only the host key pinned for the endpoint; an unknown key
 * is pinned (appended to known_hosts) only when the policy trusts on first use.
 *
 * @example const connected = await connectSsh({ name: 'web-1', address: '10.0.0.7', port: 22, user: 'root' }, { agentSocket }, policy, 20_000, signal)
 */
export function connectSsh(endpoint: SshEndpoint, credentials: SshCredentials, policy: HostKeyPolicy, timeoutMs: number, signal: AbortSignal): Promise<Connected> {
  // An abort that came first fires no event: nothing is started.
  if (signal.aborted) return Promise.resolve({ ok: false, failure: { kind: 'unreachable', message: 'stopped before the connection was made' } });
  const name = knownHostsName(endpoint.address, endpoint.port);
  let knownHosts: KnownHosts;
  try {
    knownHosts = KnownHosts.read(policy.knownHostsPath);
  } catch (error) {
    return Promise.resolve({ ok: false, failure: { kind: 'host-key', message: `cannot read ${policy.knownHostsPath}: ${(error as Error).message}` } });
  }
  const pinnedAlgorithms = knownHosts.pinnedTypes(name).flatMap((type) => ALGORITHMS_OF_KEY_TYPE[type] ?? []);
  let refusal: string | undefined;
  const client = new ssh2.Client();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (connected: Connected) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (!connected.ok) client.end();
      resolve(connected);
    };
    const onAbort = () => settle({ ok: false, failure: { kind: 'unreachable', message: 'stopped before the connection was made' } });
    signal.addEventListener('abort', onAbort, { once: true });
    client.once('ready', () => settle({ ok: true, connection: new SshConnection(client) }));
    client.on('error', (error: Error & { level?: string }) => {
      if (refusal) return settle({ ok: false, failure: { kind: 'host-key', message: refusal } });
      if (error.level === 'client-authentication') {
        return settle({ ok: false, failure: { kind: 'authentication', message: `${endpoint.user}@${describeEndpoint(endpoint)} refused fleetpatch's key (${error.message}): authorize its public key for ${endpoint.user}` } });
      }
      if (error.level === 'handshake' && pinnedAlgorithms.length > 0 && /host key/i.test(error.message)) {
        return settle({ ok: false, failure: { kind: 'host-key', message: `${describeEndpoint(endpoint)}: host key changed: it offers none of the key types pinned for ${name} in ${policy.knownHostsPath} (${knownHosts.pinnedTypes(name).join(', ')}); refused` } });
      }
      settle({ ok: false, failure: { kind: 'unreachable', message: `cannot connect to ${describeEndpoint(endpoint)}: ${error.message}` } });
    });
    client.on('close', () => settle({ ok: false, failure: { kind: 'unreachable', message: `${describeEndpoint(endpoint)} closed the connection during the handshake` } }));
    const config: ConnectConfig = {
      host: endpoint.address,
      port: endpoint.port,
      username: endpoint.user,
      readyTimeout: timeoutMs,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      ...(credentials.privateKey ? { privateKey: credentials.privateKey } : {}),
      ...(credentials.agentSocket ? { agent: credentials.agentSocket } : {}),
      // Only the pinned key types are asked for, so a host cannot dodge its pin with another type.
      ...(pinnedAlgorithms.length > 0 ? { algorithms: { serverHostKey: pinnedAlgorithms } } : {}),
      hostVerifier: (blob: Buffer, verify: (valid: boolean) => void) => {
        const key = hostKeyOf(blob);
        const verdict = knownHosts.judge(name, key);
        refusal = refusalOf(verdict, endpoint, name, key, policy);
        if (refusal || verdict.kind === 'pinned') return verify(!refusal);
        try {
          appendKnownHost(policy.knownHostsPath, knownHostsLine(name, key));
          policy.log(`${describeEndpoint(endpoint)}: trusted on first use, pinned ${key.type} ${hostKeyFingerprint(key)} as ${name} in ${policy.knownHostsPath}`);
          verify(true);
        } catch (error) {
          refusal = `${describeEndpoint(endpoint)}: cannot pin its host key in ${policy.knownHostsPath}: ${(error as Error).message}`;
          verify(false);
        }
      },
    };
    client.connect(config);
  });
}

/** Why the key is refused, or undefined when it is pinned or may be pinned now. */
function refusalOf(verdict: HostKeyVerdict, endpoint: SshEndpoint, name: string, key: HostKey, policy: HostKeyPolicy): string | undefined {
  const fingerprint = hostKeyFingerprint(key);
  const where = describeEndpoint(endpoint);
  switch (verdict.kind) {
    case 'pinned':
      return undefined;
    case 'revoked':
      return `${where}: its host key ${key.type} ${fingerprint} is revoked in ${policy.knownHostsPath}; refused`;
    case 'changed':
      return `${where}: host key changed: it presented ${key.type} ${fingerprint}, which is not the key pinned for ${name} in ${policy.knownHostsPath}; refused (if the host was reinstalled, check the new key on it and replace its line)`;
    case 'unknown':
      return policy.trustOnFirstUse
        ? undefined
        : `${where}: unknown host key ${key.type} ${fingerprint}; refused. To pin it, check that fingerprint on the host (ssh-keygen -lf /etc/ssh/ssh_host_${key.type.replace(/^ssh-|-sha2-nistp\d+$/g, '')}_key.pub) and add this line to ${policy.knownHostsPath}: ${knownHostsLine(name, key)} (or set trustOnFirstUse in the bucket's executor)`;
  }
}

/** `web-1 (10.0.0.7:22)`, or `web-1:22` when the name is the address. */
export function describeEndpoint(endpoint: SshEndpoint): string {
  return endpoint.address === endpoint.name ? `${endpoint.name}:${endpoint.port}` : `${endpoint.name} (${endpoint.address}:${endpoint.port})`;
}

export class SshConnection {
  private lostReason: string | undefined;

  constructor(private readonly client: Client) {
    client.on('error', (error: Error) => {
      this.lostReason ??= error.message;
    });
    const closed = () => {
      this.lostReason ??= 'the connection closed';
    };
    client.on('end', closed);
    client.on('close', closed);
  }

  /** Runs `command` (a line for the remote user's shell) on a channel of its own. */
  exec(command: string, options: ExecOptions): Promise<ExecOutcome> {
    const stderr: Buffer[] = [];
    let stderrSize = 0;
    let aborted = false;
    return new Promise((resolve) => {
      if (this.lostReason) return resolve({ stderr: '', connectionLost: this.lostReason, aborted: options.signal.aborted });
      let exit: Pick<ExecOutcome, 'exitCode' | 'exitSignal'> | undefined;
      let channelError: string | undefined;
      let settled = false;
      const settle = () => {
        if (settled) return;
        settled = true;
        options.signal.removeEventListener('abort', onAbort);
        this.client.removeListener('close', settle);
        const lost = exit === undefined && this.lostReason !== undefined && !aborted;
        resolve({ ...exit, stderr: Buffer.concat(stderr).toString('utf8'), ...(lost ? { connectionLost: this.lostReason } : {}), ...(channelError && !lost ? { channelError } : {}), aborted });
      };
      let channel: ClientChannel | undefined;
      const onAbort = () => {
        aborted = true;
        channel?.end();
        channel?.close();
        settle();
      };
      this.client.once('close', settle);
      if (options.signal.aborted) return onAbort();
      options.signal.addEventListener('abort', onAbort, { once: true });
      const onOpened = (error: Error | undefined, opened: ClientChannel) => {
        if (error) {
          channelError = error.message;
          return settle();
        }
        channel = opened;
        if (aborted) return onAbort();
        opened.on('data', (chunk: Buffer) => options.onStdout(chunk));
        opened.stderr.on('data', (chunk: Buffer) => {
          stderr.push(chunk);
          stderrSize += chunk.length;
          while (stderr.length > 1 && stderrSize - stderr[0]!.length >= MAX_STDERR_BYTES) stderrSize -= stderr.shift()!.length;
        });
        opened.on('exit', (code: number | null, signalName?: string) => {
          exit = code === null ? { ...(signalName ? { exitSignal: signalName } : {}) } : { exitCode: code };
        });
        opened.on('close', settle);
        if (options.stdin !== undefined) opened.end(options.stdin);
      };
      try {
        this.client.exec(command, onOpened);
      } catch (error) {
        // ssh2 throws when the socket is already gone.
        this.lostReason ??= (error as Error).message;
        settle();
      }
    });
  }

  close(): void {
    this.client.end();
  }
}
