import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainingData } from '../data/training-data.js';
import type { TrainingData } from '../train/engine.js';
import { createKernel } from './choose-kernel.js';
import { hostMathKernel } from './host-math.js';
import { zeroWeights } from './model.js';
import { Rng } from './rng.js';

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
});

const source = (name: string): string => readFileSync(fileURLToPath(new URL(name, import.meta.url)), 'utf8');

describe('the host-math baseline of the benchmark', () => {
  it("is kernel.ts's accumulate with Math.exp and Math.log in place of exp and log, and nothing else", () => {
    const ours = source('./kernel.ts');
    const copy = source('./host-math.ts');
    const body = (s: string, name: string): string => s.slice(s.indexOf(`function ${name}(`)).replace(`function ${name}(`, 'function f(');
    expect(body(copy, 'accumulateHostMath')).toBe(
      body(ours, 'accumulate').replace('const e = exp(z[k]! - max);', 'const e = Math.exp(z[k]! - max);').replace('(log(sum) -', '(Math.log(sum) -'),
    );
  });

  it.runIf(process.arch === 'x64')('computes the same sums as the kernel on x64 Node, whose Math.exp and Math.log are fdlibm too', () => {
    const rng = new Rng(12, 0, 0);
    const w = zeroWeights();
    for (let i = 0; i < w.W.length; i++) w.W[i] = (rng.next() / 2 ** 32 - 0.5) * 0.2;
    for (let k = 0; k < 10; k++) w.b[k] = (rng.next() / 2 ** 32 - 0.5) * 2;
    const batch = Uint32Array.from({ length: 5000 }, () => rng.below(data.train.count));
    for (const name of ['js', 'wasm'] as const) {
      const a = createKernel(data.train, name).compute(batch, w, 1).sums;
      const b = hostMathKernel(data.train, name).compute(batch, w, 1).sums;
      expect(b.gW.every((v, i) => Object.is(v, a.gW[i])), name).toBe(true);
      expect([...b.gb]).toEqual([...a.gb]);
      expect(b.loss).toBe(a.loss);
      expect(b.correct).toBe(a.correct);
    }
  });
});
