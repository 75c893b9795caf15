import { describe, expect, it } from 'vitest';
import { createKernel } from './choose-kernel.js';
import { DELTA_SCALE } from './exact.js';
import { exp } from './exp.js';
import { kernelFingerprint, kernelProbe } from './fingerprint.js';
import type { KernelFactory } from './kernel-api.js';
import { KERNEL_ID } from './kernel.js';

/** The JS kernel with one thing changed. */
function variant(change: { exp?: (x: number) => number; log?: (x: number) => number; deltaOffset?: number }): KernelFactory {
  return (images) => {
    const k = createKernel(images, 'js');
    return {
      name: k.name,
      count: k.count,
      exp: change.exp ?? k.exp,
      log: change.log ?? k.log,
      compute: (batch, weights, version) => {
        const out = k.compute(batch, weights, version);
        if (change.deltaOffset) out.sums.gb[0]! += change.deltaOffset;
        return out;
      },
      evaluate: (weights, indices) => k.evaluate(weights, indices),
    };
  };
}

/** x one ulp up (x > 0 finite). */
function nextUp(x: number): number {
  const f = new Float64Array([x]);
  const u = new BigUint64Array(f.buffer);
  u[0]! += 1n;
  return f[0]!;
}

describe('the kernel fingerprint', () => {
  it('is the same for the JS and the WebAssembly kernel, and names the arithmetic', () => {
    const js = kernelFingerprint('js');
    expect(js).toMatch(new RegExp(`^${KERNEL_ID.replace(/[/]/g, '\\/')}:[0-9a-f]{24}$`));
    expect(kernelFingerprint('wasm')).toBe(js);
    expect(kernelFingerprint()).toBe(js);
    // A factory of the very same kernel is hashed afresh and agrees.
    expect(kernelFingerprint((images) => createKernel(images, 'wasm'))).toBe(js);
  });

  it('changes when exp or log differs in one last bit on part of the domain, or one δ differs', () => {
    const base = kernelFingerprint('js');
    const seen = new Set([base]);
    for (const v of [
      variant({ exp: (x) => (x < -30 && x > -31 ? nextUp(exp(x)) : exp(x)) }),
      variant({ log: (x) => (x > 3 && x < 3.01 ? nextUp(Math.log(x)) : Math.log(x)) }),
      variant({ exp: (x) => Math.pow(2, x * Math.LOG2E) }),
      variant({ deltaOffset: 1 }),
    ]) {
      const f = kernelFingerprint(v);
      expect(seen.has(f), f).toBe(false);
      seen.add(f);
    }
  });

  it('probes δ next to the rounding half-points, extreme logits and ties', () => {
    const probe = kernelProbe();
    // The bias-only sets put softmax_0 · 2²⁴ within a few ulps of n + ½.
    let nearHalf = 0;
    for (const w of probe.weightSets) {
      if (w.W.some((v) => v !== 0)) continue;
      const b = w.b;
      let max = b[0]!;
      for (const v of b) if (v > max) max = v;
      let sum = 0;
      for (const v of b) sum += exp(v - max);
      const scaled = exp(b[0]! - max) * (1 / sum) * DELTA_SCALE;
      if (Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-8) nearHalf++;
    }
    expect(nearHalf).toBeGreaterThanOrEqual(16);
    // Some exponentials of the extreme set are subnormal and some 0.
    const extreme = probe.weightSets.find((w) => w.b[8] === -1e4)!;
    expect(exp(extreme.b[5]! - extreme.b[0]!)).toBeGreaterThan(0);
    expect(exp(extreme.b[5]! - extreme.b[0]!)).toBeLessThan(2.2250738585072014e-308);
    expect(exp(extreme.b[8]! - extreme.b[0]!)).toBe(0);
    // An image without pixels, and every label.
    expect(probe.images.offsets[1]).toBe(0);
    expect(new Set(probe.images.labels).size).toBe(10);
  });
});
