/**
 * A small seeded PRNG (xoshiro128**, Blackman & Vigna) and the permutations derived from it.
 *
 * Every random choice of a run is a pure function of (seed, stream, index), so any party (the
 * in-process trainer, a coordinator, a coordinator resumed from a checkpoint) recomputes the same
 * epoch order without storing or sending it. Never Math.random.
 */

/** What a generator is drawn for; part of its seed so streams never overlap. */
export const STREAM = {
  /** The order of the training samples in epoch `index` (0-based). */
  epochOrder: 1,
  /** Which training samples are held out for validation (index 0). */
  validationSplit: 2,
} as const;

/** MurmurHash3's 32-bit finaliser: a bijective, well-mixing step for seeding. */
export function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** A generator for (seed, stream, index); seed is an unsigned 32-bit integer. */
  constructor(seed: number, stream = 0, index = 0) {
    // Splitmix-style expansion of the three words into four nonzero state words.
    let h = mix32((seed >>> 0) ^ 0x9e3779b9);
    h = mix32(h ^ Math.imul(stream + 1, 0x85ebca6b));
    h = mix32(h ^ Math.imul(index + 1, 0xc2b2ae35));
    this.a = mix32(h + 0x6a09e667);
    this.b = mix32(h + 0xbb67ae85);
    this.c = mix32(h + 0x3c6ef372);
    this.d = mix32(h + 0xa54ff53a) | 1;
  }

  /** Next unsigned 32-bit value. */
  next(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform integer in [0, n), n ≤ 2³², without modulo bias (rejection sampling). */
  below(n: number): number {
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const x = this.next();
      if (x < limit) return x % n;
    }
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A uniformly random permutation of 0..n−1 (Fisher–Yates, Durstenfeld's in-place form). */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/**
 * The order in which epoch `epoch` (0-based) visits `samples`: a permutation drawn from
 * (seed, epochOrder, epoch), applied to the given sample indices.
 */
export function epochOrder(seed: number, epoch: number, samples: Uint32Array): Uint32Array {
  const p = permutation(samples.length, new Rng(seed, STREAM.epochOrder, epoch));
  for (let i = 0; i < p.length; i++) p[i] = samples[p[i]!]!;
  return p;
}
