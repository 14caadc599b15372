import { describe, expect, it } from 'vitest';
import { markdownText, utcMinute } from './incident-markdown.js';

describe('utcMinute', () => {
  it('writes UTC to the minute, whatever the seconds', () => {
    expect(utcMinute(new Date('2026-12-01T14:05:59.999+01:00'))).toBe('2026-12-01 13:05 UTC');
  });
});

describe('markdownText', () => {
  it('escapes what would break a table or start formatting, and keeps one line', () => {
    expect(markdownText('a|b *c* _d_ `e` [f](g) <h> #i \\j')).toBe('a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) \\<h\\> \\#i \\\\j');
    expect(markdownText('first line\r\n  second\nthird')).toBe('first line second third');
    expect(markdownText('web-1.example.com')).toBe('web-1.example.com');
  });
});
