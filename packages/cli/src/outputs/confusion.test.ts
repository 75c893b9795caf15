import { describe, expect, it } from 'vitest';

import { formatConfusion } from './confusion.js';

describe('formatConfusion', () => {
  it('aligns every column and gives each digit its share right', () => {
    const m = new Uint32Array(100);
    for (let y = 0; y < 10; y++) {
      m[10 * y + y] = 900 + y;
      m[10 * y + ((y + 1) % 10)] = 100 - y;
    }
    m[11] = 1135; // digit 1: 1,135 right, 99 wrong
    const lines = formatConfusion(m).trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[0]).toMatch(/^true \\ predicted +0 +1 .* 9 +right$/);
    expect(lines[1]).toMatch(/^ +0 +900 +100 +0 .* 90\.0%$/);
    expect(lines[2]).toContain('1,135');
    expect(lines[2]).toMatch(/92\.0%$/);
  });
});
