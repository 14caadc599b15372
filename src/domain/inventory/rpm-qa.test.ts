// rpm package lists: fleetpatch's query format (epochs, source rpms), plain NEVRA lines, malformed lines, the real AlmaLinux list.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { InputError } from '../errors.js';
import { parseRpmQa, RPM_QUERY_FORMAT } from './rpm-qa.js';

function errorOf(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('parseRpmQa with RPM_QUERY_FORMAT', () => {
  it('asks rpm for six tab-separated fields, the epoch as a number', () => {
    expect(RPM_QUERY_FORMAT).toBe('%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n');
  });

  it('keeps epochs (E:V-R when not 0), arches and source rpm names that differ from the binary name', () => {
    const text = [
      'podman\t4\t4.4.1\t5.el9\tx86_64\tpodman-4.4.1-5.el9.src.rpm',
      'bash\t0\t5.1.8\t6.el9_1\tx86_64\tbash-5.1.8-6.el9_1.src.rpm',
      'python3-libs\t0\t3.9.16\t1.el9_2.1\tx86_64\tpython3.9-3.9.16-1.el9_2.1.src.rpm',
      'gpg-pubkey\t0\tb86b3716\t61e69f29\t(none)\t(none)',
      '',
    ].join('\n');
    expect(parseRpmQa(text, 'rpm.txt', 'AlmaLinux:9').packages).toEqual([
      { ecosystem: 'AlmaLinux:9', name: 'podman', version: '4:4.4.1-5.el9', arch: 'x86_64', epochKnown: true },
      { ecosystem: 'AlmaLinux:9', name: 'bash', version: '5.1.8-6.el9_1', arch: 'x86_64', epochKnown: true },
      { ecosystem: 'AlmaLinux:9', name: 'python3-libs', version: '3.9.16-1.el9_2.1', arch: 'x86_64', sourceName: 'python3.9', epochKnown: true },
      { ecosystem: 'AlmaLinux:9', name: 'gpg-pubkey', version: 'b86b3716-61e69f29', epochKnown: true },
    ]);
  });

  it('names the line and field of a bad epoch', () => {
    const text = 'bash\t0\t5.1.8\t6.el9\tx86_64\tbash-5.1.8-6.el9.src.rpm\nzlib\t(none)\t1.2.11\t40.el9\tx86_64\tzlib-1.2.11-40.el9.src.rpm\n';
    expect(() => parseRpmQa(text, 'rpm.txt', 'AlmaLinux:9')).toThrowError(/^rpm\.txt, line 2, field EPOCHNUM: epoch "\(none\)" is not a number/);
  });

  it('names the line of a wrong field count and the field of an empty release', () => {
    expect(errorOf(() => parseRpmQa('bash\t0\t5.1.8\tx86_64\n', 'rpm.txt', 'AlmaLinux:9')).location).toEqual({ file: 'rpm.txt', line: 1 });
    expect(errorOf(() => parseRpmQa('\nbash\t0\t5.1.8\t\tx86_64\tbash.src.rpm\n', 'rpm.txt', 'AlmaLinux:9')).location).toEqual({ file: 'rpm.txt', line: 2, field: 'RELEASE' });
  });
});

describe('parseRpmQa with plain rpm -qa NEVRA lines', () => {
  it('splits from the right and marks the epoch unknown', () => {
    const parsed = parseRpmQa('python3.11-libs-3.11.2-2.el9.x86_64\nglibc-langpack-en-2.34-60.el9.i686\r\n', 'rpm-qa', 'AlmaLinux:9');
    expect(parsed.packages).toEqual([
      { ecosystem: 'AlmaLinux:9', name: 'python3.11-libs', version: '3.11.2-2.el9', arch: 'x86_64', epochKnown: false },
      { ecosystem: 'AlmaLinux:9', name: 'glibc-langpack-en', version: '2.34-60.el9', arch: 'i686', epochKnown: false },
    ]);
    expect(parsed.warnings).toEqual([]);
  });

  it('handles gpg-pubkey entries, which have no arch', () => {
    expect(parseRpmQa('gpg-pubkey-fd431d51-4ae0493b\n', 'rpm-qa', 'Rocky Linux:9').packages).toEqual([
      { ecosystem: 'Rocky Linux:9', name: 'gpg-pubkey', version: 'fd431d51-4ae0493b', epochKnown: false },
    ]);
  });

  it('reads the epoch when the list was printed with %{NEVRA} or by dnf', () => {
    expect(parseRpmQa('podman-4:4.4.1-5.el9.x86_64\nbash-0:5.1.8-6.el9_1.x86_64\n', 'rpm-qa', 'AlmaLinux:9').packages).toEqual([
      { ecosystem: 'AlmaLinux:9', name: 'podman', version: '4:4.4.1-5.el9', arch: 'x86_64', epochKnown: true },
      { ecosystem: 'AlmaLinux:9', name: 'bash', version: '5.1.8-6.el9_1', arch: 'x86_64', epochKnown: true },
    ]);
  });

  it('keeps a release whole when the last token is no known arch, and says so', () => {
    const parsed = parseRpmQa('bash-5.1.8-6.el9_1\n', 'rpm-qa', 'AlmaLinux:9');
    expect(parsed.packages[0]).toEqual({ ecosystem: 'AlmaLinux:9', name: 'bash', version: '5.1.8-6.el9_1', epochKnown: false });
    expect(parsed.warnings).toEqual(['1 NEVRA line(s) end in no known architecture (first: line 1); their release was kept whole']);
  });

  it('names the line of something that is not a NEVRA', () => {
    expect(() => parseRpmQa('bash-5.1.8-6.el9_1.x86_64\nPackage list:\n', 'rpm-qa', 'AlmaLinux:9')).toThrowError(/^rpm-qa, line 2: expected one name-version-release.arch per line/);
    expect(errorOf(() => parseRpmQa('bash-5.1.8.x86_64\n', 'rpm-qa', 'AlmaLinux:9')).location).toEqual({ file: 'rpm-qa', line: 1 });
    expect(errorOf(() => parseRpmQa('podman-x:4.4.1-5.el9.x86_64\n', 'rpm-qa', 'AlmaLinux:9')).location).toEqual({ file: 'rpm-qa', line: 1, field: 'EPOCH' });
  });
});

describe('the real AlmaLinux 9.2 rpm -qa list', () => {
  const text = readFileSync(sharedData('inventories/almalinux-9.2-rpm-qa.txt'), 'utf8');
  const parsed = parseRpmQa(text, 'almalinux-9.2-rpm-qa.txt', 'AlmaLinux:9');

  it('has one package per line, 1,277, none with a known epoch', () => {
    expect(parsed.packages).toHaveLength(text.split('\n').filter((line) => line.trim() !== '').length);
    expect(parsed.packages).toHaveLength(1277);
    expect(parsed.packages.every((pkg) => pkg.epochKnown === false && pkg.arch !== undefined)).toBe(true);
    expect(parsed.warnings).toEqual([]);
  });

  it('splits every NEVRA exactly as the epoch-inferred oracle does', () => {
    const oracle = JSON.parse(readFileSync(sharedData('inventories/almalinux-9.2-packages-epoch-inferred.json'), 'utf8')) as {
      packages: Array<{ nevra: string; name: string; version: string; release: string; arch: string }>;
    };
    expect(oracle.packages).toHaveLength(parsed.packages.length);
    const ours = parsed.packages.map((pkg) => `${pkg.name}|${pkg.version}|${pkg.arch}`).sort();
    const theirs = oracle.packages.map((entry) => `${entry.name}|${entry.version}-${entry.release}|${entry.arch}`).sort();
    expect(ours).toEqual(theirs);
  });
});
