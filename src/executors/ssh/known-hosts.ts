/**
 * The known_hosts file fleetpatch keeps for its SSH executor, in OpenSSH's format (`host key-type
 * base64-key`, `[host]:port …` for another port, comma-separated names, `*`/`?` patterns and
 * `!` negations, hashed `|1|salt|hash` names, `@revoked` lines), and the verdict on the key a host
 * presents: pinned, unknown, changed or revoked.
 */
import { createHash, createHmac } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface HostKey {
  /** The key's type as its wire format names it: `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  type: string;
  /** The key in SSH wire format (what known_hosts holds in base64). */
  blob: Buffer;
}

export type HostKeyVerdict =
  | { kind: 'pinned' }
  | { kind: 'unknown' }
  | { kind: 'changed'; pinnedTypes: string[] }
  | { kind: 'revoked' };

interface KnownHostLine {
  marker?: 'revoked' | 'cert-authority';
  names: string;
  key: HostKey;
}

/** The name a host is filed under: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's fingerprint: `SHA256:` and the unpadded base64 of the key's SHA-256. */
export function hostKeyFingerprint(key: HostKey): string {
  return `SHA256:${createHash('sha256').update(key.blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key a server presented (SSH wire format: a length-prefixed type name first). */
export function hostKeyOf(blob: Buffer): HostKey {
  const length = blob.length >= 4 ? blob.readUInt32BE(0) : 0;
  return { type: blob.subarray(4, 4 + length).toString('latin1'), blob };
}

/** The line that pins `key` for `name`. */
export function knownHostsLine(name: string, key: HostKey): string {
  return `${name} ${key.type} ${key.blob.toString('base64')}`;
}

export class KnownHosts {
  private constructor(private readonly lines: KnownHostLine[]) {}

  /** Reads the file; a missing file knows no host. Lines it cannot read are skipped, as OpenSSH does. */
  static read(path: string): KnownHosts {
    if (!existsSync(path)) return new KnownHosts([]);
    return new KnownHosts(readFileSync(path, 'utf8').split('\n').flatMap((line) => parseLine(line)));
  }

  /** The key types pinned for `name`: the only ones a connection should accept from it. */
  pinnedTypes(name: string): string[] {
    return [...new Set(this.lines.filter((line) => !line.marker && namesMatch(line.names, name)).map((line) => line.key.type))];
  }

  judge(name: string, key: HostKey): HostKeyVerdict {
    if (this.lines.some((line) => line.marker === 'revoked' && sameKey(line.key, key))) return { kind: 'revoked' };
    const pinned = this.lines.filter((line) => !line.marker && namesMatch(line.names, name));
    if (pinned.some((line) => sameKey(line.key, key))) return { kind: 'pinned' };
    return pinned.length > 0 ? { kind: 'changed', pinnedTypes: [...new Set(pinned.map((line) => line.key.type))] } : { kind: 'unknown' };
  }
}

/**
 * Appends `line` in one write to a file opened for appending, so readers and other appenders see
 * the whole line or none of it; on disk before the connection goes on.
 */
export function appendKnownHost(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const descriptor = openSync(path, 'a+', 0o600);
  try {
    const size = statSync(path).size;
    const last = Buffer.alloc(1);
    const needsNewline = size > 0 && readSync(descriptor, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    writeSync(descriptor, `${needsNewline ? '\n' : ''}${line}\n`);
    fsyncSync(descriptor);
  } finally {
    closeSync(descriptor);
  }
}

function parseLine(text: string): KnownHostLine[] {
  const fields = text.trim().split(/\s+/);
  if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) return [];
  let marker: KnownHostLine['marker'];
  if (fields[0] === '@revoked' || fields[0] === '@cert-authority') marker = fields.shift() === '@revoked' ? 'revoked' : 'cert-authority';
  const [names, type, base64] = fields;
  if (!names || !type || !base64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return [];
  const blob = Buffer.from(base64, 'base64');
  // The blob names its own type: a line whose two disagree is not a key.
  if (hostKeyOf(blob).type !== type) return [];
  return [{ ...(marker ? { marker } : {}), names, key: { type, blob } }];
}

function sameKey(a: HostKey, b: HostKey): boolean {
  return a.type === b.type && a.blob.equals(b.blob);
}

/** OpenSSH's rule: a name matches when some pattern matches it and no negated one does. */
function namesMatch(names: string, name: string): boolean {
  if (names.startsWith('|1|')) return hashedNameMatches(names, name);
  let matched = false;
  for (const pattern of names.split(',')) {
    const negated = pattern.startsWith('!');
    if (!globMatches(negated ? pattern.slice(1) : pattern, name)) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

/** `|1|base64(salt)|base64(HMAC-SHA1(salt, name))`, as `HashKnownHosts yes` writes it. */
function hashedNameMatches(hashed: string, name: string): boolean {
  const [, , salt, hash] = hashed.split('|');
  if (!salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

function globMatches(pattern: string, name: string): boolean {
  const expression = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  return new RegExp(`^${expression}$`).test(name.toLowerCase());
}
