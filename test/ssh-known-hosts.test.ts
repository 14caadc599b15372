// fleetpatch's known_hosts, read as OpenSSH reads it: names and patterns, other ports, names
// hashed by ssh-keygen -H itself, revoked keys; and the one-write append of trust on first use.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendKnownHost, hostKeyFingerprint, hostKeyOf, knownHostsLine, knownHostsName, KnownHosts, type HostKey } from '../src/executors/ssh/known-hosts.js';

const directory = mkdtempSync(join(tmpdir(), 'fp-known-hosts-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

function newKey(name: string): { key: HostKey; publicLine: string; fingerprint: string } {
  const path = join(directory, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  const publicLine = readFileSync(`${path}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  const fingerprint = execFileSync('ssh-keygen', ['-l', '-f', `${path}.pub`], { encoding: 'utf8' }).split(' ')[1]!;
  return { key: hostKeyOf(Buffer.from(publicLine.split(' ')[1]!, 'base64')), publicLine, fingerprint };
}

function knownHosts(text: string): KnownHosts {
  const path = join(directory, `known_hosts-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, text);
  return KnownHosts.read(path);
}

describe('known_hosts', () => {
  const web = newKey('web');
  const other = newKey('other');

  it('fingerprints a key as ssh-keygen -l does', () => {
    expect(web.key.type).toBe('ssh-ed25519');
    expect(hostKeyFingerprint(web.key)).toBe(web.fingerprint);
  });

  it('files a host under its name on port 22 and [name]:port on any other', () => {
    expect(knownHostsName('10.0.0.7', 22)).toBe('10.0.0.7');
    expect(knownHostsName('10.0.0.7', 2222)).toBe('[10.0.0.7]:2222');
    const pins = knownHosts(`${knownHostsLine('[10.0.0.7]:2222', web.key)}\n`);
    expect(pins.judge('[10.0.0.7]:2222', web.key)).toEqual({ kind: 'pinned' });
    expect(pins.judge('10.0.0.7', web.key)).toEqual({ kind: 'unknown' });
  });

  it('tells a pinned key from a changed one and from a host it never saw', () => {
    const pins = knownHosts(`# comment\n\nweb-1,10.0.0.7 ${web.publicLine} web-1's key\nnot a key line\n`);
    expect(pins.judge('10.0.0.7', web.key)).toEqual({ kind: 'pinned' });
    expect(pins.judge('web-1', web.key)).toEqual({ kind: 'pinned' });
    expect(pins.judge('10.0.0.7', other.key)).toEqual({ kind: 'changed', pinnedTypes: ['ssh-ed25519'] });
    expect(pins.judge('10.0.0.8', web.key)).toEqual({ kind: 'unknown' });
    expect(pins.pinnedTypes('10.0.0.7')).toEqual(['ssh-ed25519']);
  });

  it('matches patterns and their negations', () => {
    const pins = knownHosts(`*.web.example,!bad.web.example ${web.publicLine}\n10.0.0.? ${other.publicLine}\n`);
    expect(pins.judge('a.web.example', web.key)).toEqual({ kind: 'pinned' });
    expect(pins.judge('bad.web.example', web.key)).toEqual({ kind: 'unknown' });
    expect(pins.judge('10.0.0.9', other.key)).toEqual({ kind: 'pinned' });
    expect(pins.judge('10.0.0.10', other.key)).toEqual({ kind: 'unknown' });
  });

  it('reads names hashed by ssh-keygen -H', () => {
    const path = join(directory, 'hashed');
    writeFileSync(path, `10.0.0.7 ${web.publicLine}\n[10.0.0.7]:2222 ${other.publicLine}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', path], { stdio: 'pipe' });
    expect(readFileSync(path, 'utf8')).not.toContain('10.0.0.7');
    const pins = KnownHosts.read(path);
    expect(pins.judge('10.0.0.7', web.key)).toEqual({ kind: 'pinned' });
    expect(pins.judge('[10.0.0.7]:2222', other.key)).toEqual({ kind: 'pinned' });
    expect(pins.judge('10.0.0.8', web.key)).toEqual({ kind: 'unknown' });
  });

  it('refuses a revoked key whatever name it comes under', () => {
    const pins = knownHosts(`@revoked * ${other.publicLine}\n10.0.0.7 ${other.publicLine}\n`);
    expect(pins.judge('10.0.0.7', other.key)).toEqual({ kind: 'revoked' });
    expect(pins.judge('10.0.0.7', web.key)).toEqual({ kind: 'changed', pinnedTypes: ['ssh-ed25519'] });
  });

  it('knows no host when the file does not exist yet, and appends whole lines to it', () => {
    const path = join(directory, 'fresh/known_hosts');
    expect(KnownHosts.read(path).judge('10.0.0.7', web.key)).toEqual({ kind: 'unknown' });
    appendKnownHost(path, knownHostsLine('10.0.0.7', web.key));
    writeFileSync(path, `${readFileSync(path, 'utf8')}# edited by hand, no newline`);
    appendKnownHost(path, knownHostsLine('10.0.0.8', other.key));
    expect(readFileSync(path, 'utf8')).toBe(`10.0.0.7 ${web.publicLine}\n# edited by hand, no newline\n10.0.0.8 ${other.publicLine}\n`);
    expect(KnownHosts.read(path).judge('10.0.0.8', other.key)).toEqual({ kind: 'pinned' });
  });
});
