import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createKernel, loadTrainingData, zeroWeights, type TrainingData, type Weights } from '@mnist-lr/core/engine';
import { hostMathKernel } from './host-math.js';
import { HOST_MATH_WASM_BASE64 } from './host-math.wasm.js';
import { skipFor } from '../../../../test/helpers/requires.js';

// Node's Math.exp and Math.log are fdlibm's (the kernel's) on x64; elsewhere they need not be.
const notX64 = process.arch === 'x64' ? undefined : `Node on ${process.arch}, whose Math.exp and Math.log need not be fdlibm's`;

let data: TrainingData;
let weights: Weights;
beforeAll(() => {
  data = loadTrainingData();
  // Weights with every sign and magnitude a trained model has, reproducibly.
  weights = zeroWeights();
  for (let j = 0; j < weights.W.length; j++) weights.W[j] = Math.sin(j * 12.9898) * 0.2;
  for (let k = 0; k < 10; k++) weights.b[k] = Math.cos(k);
});

const batch = (): Uint32Array => Uint32Array.from({ length: 5000 }, (_, t) => (t * 7919) % data.train.count);

describe("the benchmark's host-math baseline", () => {
  it("is kernel.wat with exp and log imported: host-math.wasm.ts is current (else run build-host-math.mjs)", async () => {
    const build = (await import('./build-host-math.mjs' as string)) as { hostMathFile(): Promise<string> };
    const committed = readFileSync(fileURLToPath(new URL('./host-math.wasm.ts', import.meta.url)), 'utf8');
    expect(committed).toBe(await build.hostMathFile());
  });

  it.each(['js', 'wasm'] as const)('computes with the host\'s Math.exp and Math.log, every forward pass (%s)', (name) => {
    const calls = { exp: 0, log: 0 };
    const counting = createKernel(data.train, name, {
      exp: (x) => (calls.exp++, Math.exp(x)),
      log: (x) => (calls.log++, Math.log(x)),
      wasm: name === 'wasm' ? Uint8Array.from(Buffer.from(HOST_MATH_WASM_BASE64, 'base64')) : undefined,
    });
    counting.compute(batch(), weights, 1);
    expect(calls).toEqual({ exp: 50_000, log: 5000 });
    counting.evaluate(weights, [3, 1, 4]);
    expect(calls).toEqual({ exp: 50_030, log: 5003 });
    expect(hostMathKernel(data.train, name).exp).toBe(Math.exp);
  });

  it.skipIf(skipFor('the host-math sameness check', notX64))('computes the same sums as the kernel on x64 Node, whose Math.exp and Math.log are fdlibm too', () => {
    for (const name of ['js', 'wasm'] as const) {
      const a = createKernel(data.train, name).compute(batch(), weights, 1).sums;
      const b = hostMathKernel(data.train, name).compute(batch(), weights, 1).sums;
      expect(b.gW.every((v, i) => Object.is(v, a.gW[i])), name).toBe(true);
      expect([...b.gb]).toEqual([...a.gb]);
      expect(b.loss).toBe(a.loss);
      expect(b.correct).toBe(a.correct);
      expect(hostMathKernel(data.test, name).evaluate(weights)).toEqual(createKernel(data.test, name).evaluate(weights));
    }
  });
});
