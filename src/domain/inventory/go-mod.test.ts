// go.mod: require lines and blocks, comments, replace directives, malformed lines, the real trivy go.mod.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sharedData } from '../../../test/data-path.js';
import { parseGoMod } from './go-mod.js';

const GO_MOD = `// Shop API server.
module github.com/example/shop-api

go 1.21

toolchain go1.21.6

require github.com/gin-gonic/gin v1.9.1

require (
	golang.org/x/net v0.17.0 // indirect
	"github.com/quoted/module" v1.0.0
	github.com/docker/docker v20.10.11+incompatible // indirect
	github.com/example/shared v0.3.0
	golang.org/x/crypto v0.14.0
)

replace github.com/example/shared => ../shared

replace (
	golang.org/x/net v0.17.0 => golang.org/x/net v0.19.0
	golang.org/x/crypto => github.com/example/crypto-fork v0.14.1
)

exclude golang.org/x/text v0.3.6
`;

describe('parseGoMod', () => {
  it('reads require lines and blocks, strips the v, applies replace directives', () => {
    const parsed = parseGoMod(GO_MOD, 'go.mod');
    expect(parsed.packages).toEqual([
      { ecosystem: 'Go', name: 'github.com/gin-gonic/gin', version: '1.9.1' },
      { ecosystem: 'Go', name: 'golang.org/x/net', version: '0.19.0' },
      { ecosystem: 'Go', name: 'github.com/quoted/module', version: '1.0.0' },
      { ecosystem: 'Go', name: 'github.com/docker/docker', version: '20.10.11+incompatible' },
      { ecosystem: 'Go', name: 'github.com/example/crypto-fork', version: '0.14.1' },
    ]);
    expect(parsed.skipped).toBe(1);
    expect(parsed.warnings).toEqual(['1 module(s) replaced by a local directory skipped: github.com/example/shared']);
  });

  it('replaces only the named version when the replace names one', () => {
    const parsed = parseGoMod('module m\nrequire golang.org/x/net v0.18.0\nreplace golang.org/x/net v0.17.0 => golang.org/x/net v0.19.0\n', 'go.mod');
    expect(parsed.packages).toEqual([{ ecosystem: 'Go', name: 'golang.org/x/net', version: '0.18.0' }]);
  });

  it('names file, line and directive of a malformed requirement', () => {
    expect(() => parseGoMod('module m\n\nrequire (\n\tgolang.org/x/net\n)\n', 'go.mod')).toThrowError(/^go\.mod, line 4, field require: expected "module\/path vX\.Y\.Z"/);
    expect(() => parseGoMod('module m\nreplace golang.org/x/net => golang.org/x/net\n', 'go.mod')).toThrowError(/^go\.mod, line 2, field replace: /);
  });

  it('names the block that is never closed', () => {
    expect(() => parseGoMod('module m\nrequire (\n\tgolang.org/x/net v0.17.0\n', 'go.mod')).toThrowError(/^go\.mod, line 2, field require: the require block is never closed/);
  });

  it('parses the real trivy go.mod: every requirement, direct and indirect', () => {
    const text = readFileSync(sharedData('inventories/lang/trivy-gomod.go.mod'), 'utf8');
    const parsed = parseGoMod(text, 'trivy-gomod.go.mod');
    expect(parsed.packages).toHaveLength(text.match(/^\t\S+ v\d/gm)!.length);
    expect(parsed.packages).toHaveLength(18);
    expect(parsed.packages.find((pkg) => pkg.name === 'golang.org/x/net')?.version).toBe('0.0.0-20211111083644-e5c967477495');
    expect(parsed.packages.every((pkg) => pkg.ecosystem === 'Go' && /^\d/.test(pkg.version))).toBe(true);
  });
});
