import { describe, expect, it } from 'vitest';
import { SliceSizer } from './slice-sizer.js';
import { SplitPolicy } from './split-policy.js';

/** Runs `steps` steps whose time is `time(shared)`; returns how many were shared. */
function run(policy: SplitPolicy, steps: number, time: (shared: boolean) => number): number {
  let shared = 0;
  for (let i = 0; i < steps; i++) {
    const s = policy.share();
    if (s) shared++;
    policy.record(time(s));
  }
  return shared;
}

describe('the split policy', () => {
  it('keeps to whichever kind of step measured faster, trying the other now and then', () => {
    const policy = new SplitPolicy();
    // Sharing is twice as fast: after measuring both, nearly every step is shared.
    run(policy, 400, (s) => (s ? 1 : 2));
    expect(run(policy, 5000, (s) => (s ? 1 : 2))).toBeGreaterThan(4800);
    // The machine changes (say, another process takes the second core): alone is faster now.
    run(policy, 20_000, (s) => (s ? 3 : 2));
    const shared = run(policy, 10_000, (s) => (s ? 3 : 2));
    expect(shared).toBeGreaterThan(0); // it still tries sharing...
    expect(shared).toBeLessThan(500); // ...seldom
  });

  it('does not count the first steps after a switch (a worker waking up)', () => {
    const policy = new SplitPolicy();
    let sinceSwitch = 0;
    let last = true;
    // Shared steps are faster, except the first 10 after each switch, which are very slow.
    const shared = run(policy, 20_000, (s) => {
      sinceSwitch = s === last ? sinceSwitch + 1 : 0;
      last = s;
      return s ? (sinceSwitch < 10 ? 100 : 1) : 2;
    });
    expect(shared).toBeGreaterThan(19_000);
  });
});

describe('the slice sizer', () => {
  it('splits a batch in proportion to each party\'s measured speed, the untimed counting as the average', () => {
    const sizer = new SliceSizer<string>();
    expect(sizer.bounds(['a', null], 100)).toEqual([0, 50, 100]);
    sizer.record('a', 50, 100); // 2 ms a sample
    sizer.record(null, 50, 50); // 1 ms a sample: twice as fast
    expect(sizer.bounds(['a', null], 90)).toEqual([0, 30, 90]);
    // 'b' is untimed: as fast as the average of the others (1.5 ms a sample).
    const [, x, y] = sizer.bounds(['a', 'b', null], 130);
    expect([x, y! - x!, 130 - y!]).toEqual([30, 40, 60]);
    sizer.forget('a');
    expect(sizer.bounds(['a', null], 10)).toEqual([0, 5, 10]);
  });

  it('gives every party at least one sample, and contiguous slices that cover the batch', () => {
    const sizer = new SliceSizer<string>();
    sizer.record('slow', 1, 1000);
    sizer.record(null, 100, 1);
    for (const n of [2, 3, 10, 8192]) {
      const b = sizer.bounds(['slow', null], n);
      expect(b[0]).toBe(0);
      expect(b.at(-1)).toBe(n);
      for (let i = 1; i < b.length; i++) expect(b[i]! - b[i - 1]!).toBeGreaterThanOrEqual(1);
    }
  });
});
