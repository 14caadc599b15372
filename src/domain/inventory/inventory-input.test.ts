// The inventory parsers against the classes of bad input the reliability probe found (L2, L11 and
// bad text): every format gets every kind of bad character in a package field, raw and (for JSON)
// as an escape; deep nesting; and versions the ecosystem's own tools refuse. Each must be an
// InputError naming the file and, where the format has them, the line and field.
import { describe, expect, it } from 'vitest';
import { ALWAYS_BAD, BAD_CHARACTERS } from '../../../test/fuzz/bad-text.js';
import { InputError } from '../errors.js';
import { parseInventory, type InventoryFormat } from './index.js';

/** A minimal valid file of each format, its package name written as NAME. */
const SAMPLES: Record<InventoryFormat, { text: string; fileName: string; osEcosystem?: string; nameLine?: number; nameField?: string; json?: boolean }> = {
  'dpkg-status': { text: 'Package: NAME\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n\n', fileName: 'status', osEcosystem: 'Debian:12', nameLine: 1, nameField: 'Package' },
  rpm: { text: 'bash-5.1.8-6.el9_1.x86_64\nNAME-1.0-1.el9.x86_64\n', fileName: 'rpm-qa.txt', osEcosystem: 'AlmaLinux:9', nameLine: 2 },
  apk: { text: 'P:NAME\nV:1.0-r0\nA:x86_64\n\n', fileName: 'installed', osEcosystem: 'Alpine:v3.18', nameLine: 1, nameField: 'P' },
  cyclonedx: { text: '{"bomFormat":"CycloneDX","specVersion":"1.5","components":[{"type":"library","name":"NAME","purl":"pkg:npm/NAME@1.0.0"}]}', fileName: 'bom.json', json: true },
  spdx: {
    text: '{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"d","packages":[{"SPDXID":"SPDXRef-p","name":"NAME","versionInfo":"1.0.0","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/NAME@1.0.0"}]}]}',
    fileName: 'sbom.spdx.json',
    json: true,
  },
  'npm-lock': { text: '{"lockfileVersion":3,"packages":{"":{},"node_modules/NAME":{"version":"1.0.0"}}}', fileName: 'package-lock.json', json: true },
  'pipfile-lock': { text: '{"_meta":{},"default":{"NAME":{"version":"==1.0.0"}},"develop":{}}', fileName: 'Pipfile.lock', json: true },
  'go-mod': { text: 'module example.com/m\n\ngo 1.21\n\nrequire example.com/NAME v1.0.0\n', fileName: 'go.mod', nameLine: 5 },
};

function parse(format: InventoryFormat, text: string) {
  const sample = SAMPLES[format];
  return parseInventory({ text, fileName: sample.fileName, format, ...(sample.osEcosystem ? { osEcosystem: sample.osEcosystem } : {}) });
}

function refusal(format: InventoryFormat, text: string): InputError {
  let caught: unknown;
  try {
    parse(format, text);
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected an InputError').toBeInstanceOf(InputError);
  expect((caught as InputError).location.file).toBe(SAMPLES[format].fileName);
  return caught as InputError;
}

const FORMATS = Object.keys(SAMPLES) as InventoryFormat[];

describe('inventory parsers: bad text in any format', () => {
  it.each(FORMATS)('%s: the sample parses, as the baseline', (format) => {
    expect(parse(format, SAMPLES[format].text.replaceAll('NAME', 'pkg')).packages.length).toBeGreaterThan(0);
  });

  const raw = FORMATS.flatMap((format) => ALWAYS_BAD.map((character) => ({ format, character })));
  it.each(raw)('$format: $character.name written into the file', ({ format, character }) => {
    const sample = SAMPLES[format];
    const error = refusal(format, sample.text.replaceAll('NAME', `p${character.text}q`));
    expect(error.message).toMatch(/contains (a NUL character|a control character|a lone UTF-16 surrogate)/);
    if (sample.nameLine !== undefined) expect(error.location.line).toBe(sample.nameLine);
    if (sample.nameField !== undefined) expect(error.location.field).toBe(sample.nameField);
  });

  const escaped = FORMATS.filter((format) => SAMPLES[format].json).flatMap((format) => BAD_CHARACTERS.map((character) => ({ format, character })));
  it.each(escaped)('$format: $character.name as a JSON escape in a package name', ({ format, character }) => {
    const escape = JSON.stringify(character.text).slice(1, -1).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
    const error = refusal(format, SAMPLES[format].text.replaceAll('NAME', `p${escape}q`));
    // Free text may hold tab and newline; a package's name may not, so each is refused somewhere.
    expect(error.message).toMatch(/contains|invalid|purl|expected|name/i);
    expect(error.location.field ?? error.location.line).toBeDefined();
  });
});

describe('inventory parsers: deep nesting', () => {
  const cycloneDx = (depth: number) => {
    let component = '{"type":"library","name":"leaf","purl":"pkg:npm/leaf@1.0.0"}';
    for (let level = 1; level < depth; level++) component = `{"type":"library","name":"n${level}","components":[${component}]}`;
    return `{"bomFormat":"CycloneDX","specVersion":"1.5","components":[${component}]}`;
  };
  const npmV1 = (depth: number) => {
    let dependency = '{"version":"1.0.0"}';
    for (let level = 1; level < depth; level++) dependency = `{"version":"1.0.${level}","dependencies":{"d${level}":${dependency}}}`;
    return `{"lockfileVersion":1,"dependencies":{"root":${dependency}}}`;
  };

  it('reads CycloneDX components and npm v1 dependencies nested 1000 levels', () => {
    expect(parseInventory({ text: cycloneDx(1000), fileName: 'bom.json', format: 'cyclonedx' }).packages).toHaveLength(1);
    expect(parseInventory({ text: npmV1(1000), fileName: 'package-lock.json', format: 'npm-lock' }).packages).toHaveLength(1000);
  });

  it.each([
    ['cyclonedx', cycloneDx, 'bom.json', /components nested too deeply \(more than 1000 levels\)/, /^components\[0\]\.components\[0\].*…/],
    ['npm-lock', npmV1, 'package-lock.json', /dependencies nested too deeply \(more than 1000 levels\)/, /^dependencies\.root\.dependencies\.d\d+.*…/],
  ] as const)('refuses %s nested 100,000 levels, naming file and field', (format, build, fileName, message, field) => {
    const error = (() => {
      try {
        parseInventory({ text: build(100_000), fileName, format });
      } catch (caught) {
        return caught as InputError;
      }
      throw new Error('expected an InputError');
    })();
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(message);
    expect(error.location).toMatchObject({ file: fileName, field: expect.stringMatching(field) });
  });
});

describe('inventory parsers: versions the ecosystem refuses (L11)', () => {
  it.each(['x:1.0-1', ':', '1:', '1.0-', '1:-1', '-1:1.0', '2147483648:1.0'])('dpkg Version %j', (version) => {
    const error = refusal('dpkg-status', `Package: a\nStatus: install ok installed\nVersion: ${version}\n\n`);
    expect(error.message).toMatch(/^status, line 3, field Version: package a: invalid dpkg version/);
  });

  it('dpkg Source version', () => {
    const error = refusal('dpkg-status', 'Package: a\nStatus: install ok installed\nSource: b (x:1)\nVersion: 1.0\n\n');
    expect(error.location).toEqual({ file: 'status', line: 3, field: 'Source' });
  });

  it.each([
    ['a\t0\t~\t1\tx86_64\t(none)', /version "~" holds no letter or digit/],
    ['a\t0\t1.0\t~\tx86_64\t(none)', /release "~" holds no letter or digit/],
    [`a\t${'9'.repeat(256)}\t1.0\t1\tx86_64\t(none)`, /larger than 4294967295/],
    ['a\t0\t1:0\t1\tx86_64\t(none)', /holds ":"/],
    ['a-~-1.x86_64', /version "~" holds no letter or digit/],
    ['a-:-1.x86_64', /epoch "" is not a number/],
    ['a-1:-1.x86_64', /version after the epoch is empty|version is empty/],
    [`a-${'9'.repeat(256)}:1.0-1.x86_64`, /larger than 4294967295/],
  ])('rpm line %j', (line, reason) => {
    const error = refusal('rpm', `${line}\n`);
    expect(error.message).toMatch(reason);
    expect(error.location).toMatchObject({ file: 'rpm-qa.txt', line: 1, field: expect.stringMatching(/^(VERSION|EPOCH)$/) });
  });

  it.each(['1.0-rx', 'x1', '1.0-r', '1..0-r0'])('apk V:%s', (version) => {
    const error = refusal('apk', `P:a\nV:${version}\n\n`);
    expect(error.location).toEqual({ file: 'installed', line: 2, field: 'V' });
  });
});
