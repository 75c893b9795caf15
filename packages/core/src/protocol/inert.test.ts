import { describe, expect, it } from 'vitest';
import { inert, LABEL_MAX } from './inert.js';

describe('inert', () => {
  it('removes escape sequences’ ESC and every control character, and turns line breaks into spaces', () => {
    expect(inert('evil\n\x1b[31mred\x07\x00\x7f\x9b2J\r\nend')).toBe('evil [31mred2J end');
    expect(inert('a\u2028b\u2029c\u0085d\te')).toBe('a b c d e');
  });

  it('removes bidirectional controls and other invisible format characters, and lone surrogates', () => {
    expect(inert('invoice\u202Egpj.exe')).toBe('invoicegpj.exe');
    expect(inert('a\u2066b\u2069c\u200Bd\uFEFFe\uD800f')).toBe('abcdef');
  });

  it('keeps ordinary text, accents, other scripts and emoji', () => {
    const text = 'worker 3 (héllo 日本 👍, host-1:4242)';
    expect(inert(text)).toBe(text);
  });

  it('cuts to the limit in characters, never half a surrogate pair, with an ellipsis', () => {
    expect(inert('x'.repeat(100), LABEL_MAX)).toBe(`${'x'.repeat(LABEL_MAX - 1)}…`);
    const emoji = '👍'.repeat(10);
    expect(inert(emoji, 5)).toBe('👍👍👍👍…');
    expect(inert(emoji, 10)).toBe(emoji);
  });
});
