import { describe, expect, it } from 'vitest';

import { EpochTally } from './epoch-tally.js';

describe('EpochTally', () => {
  it('gives one line per epoch, when the next begins and at the end', () => {
    const t = new EpochTally();
    expect(t.slice(0, 1)).toBeUndefined();
    expect(t.slice(0, 3)).toBeUndefined();
    expect(t.slice(0, 2)).toBeUndefined();
    expect(t.slice(1, 4)).toBe('epoch 1: 3 slices done, median 2.00 ms each');
    expect(t.slice(1, 6)).toBeUndefined();
    expect(t.flush()).toBe('epoch 2: 2 slices done, median 5.00 ms each');
    expect(t.flush()).toBeUndefined();
  });

  it('says nothing for tasks without an epoch', () => {
    const t = new EpochTally();
    expect(t.slice(undefined, 1)).toBeUndefined();
    expect(t.flush()).toBeUndefined();
  });
});
