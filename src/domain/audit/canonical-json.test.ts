// RFC 8785 canonical JSON: the examples of the RFC's sections 3.2.2 and 3.2.3, and what it refuses.
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { auditEntryText, parseAuditEntry } from './audit-entry.js';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts members by UTF-16 code units, recursively, without whitespace', () => {
    // RFC 8785 §3.2.3: "\u20ac" (€) sorts after "\r", "1" and "\ud83d\ude00" sorts before "\ufb33" by code unit.
    const value = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    expect(canonicalJson(value)).toBe('{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}');
    expect(canonicalJson({ b: { d: 1, c: [true, null] }, a: [] })).toBe('{"a":[],"b":{"c":[true,null],"d":1}}');
  });

  it('prints numbers as ECMAScript does and strings with the minimal escapes', () => {
    // RFC 8785 §3.2.2.3 examples.
    expect(canonicalJson([333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001, -0])).toBe('[333333333.3333333,1e+30,4.5,0.002,1e-27,0]');
    expect(canonicalJson('\u20ac$\u000f\nA\'B"\\\\"/')).toBe('"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"');
    expect(canonicalJson({ skipped: undefined, kept: 1 })).toBe('{"kept":1}');
  });

  it('refuses what has no canonical form', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow(TypeError);
    expect(() => canonicalJson({ a: Infinity })).toThrow('$.a');
    expect(() => canonicalJson('\ud800')).toThrow('lone surrogate');
    expect(() => canonicalJson(new Date(0) as never)).toThrow('plain objects');
    expect(() => canonicalJson([undefined] as never)).toThrow('$[0]');
  });
});

describe('audit entries', () => {
  const entry = { v: 1 as const, seq: 7, at: '2027-01-31T09:00:00.000Z', action: 'api-token.revoked', actor: 'cli:alice', subject: 'api-token:3', reason: 'left the team', details: { name: 'grafana' } };

  it('serialise canonically and parse back', () => {
    const text = auditEntryText(entry);
    expect(text).toBe('{"action":"api-token.revoked","actor":"cli:alice","at":"2027-01-31T09:00:00.000Z","details":{"name":"grafana"},"reason":"left the team","seq":7,"subject":"api-token:3","v":1}');
    expect(parseAuditEntry(text)).toEqual({ entry });
  });

  it('name what is wrong with a stored text', () => {
    expect(parseAuditEntry('{')).toEqual({ problem: 'its stored text is not JSON' });
    expect(parseAuditEntry(JSON.stringify(entry, null, 1))).toEqual({ problem: 'its stored text is not in canonical form (it was rewritten)' });
    expect(parseAuditEntry(auditEntryText(entry).replace('"v":1', '"v":2'))).toHaveProperty('problem', expect.stringContaining('not a valid entry'));
    expect(() => auditEntryText({ ...entry, action: 'Revoked' })).toThrow('dotted');
    expect(() => auditEntryText({ ...entry, actor: 'alice' })).toThrow('<kind>:<name>');
  });
});
