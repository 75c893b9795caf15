import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTrainingData } from '../../data/training-data.js';
import type { TrainingData } from '../../train/engine.js';
import { Rng } from '../rng.js';
import { toSparse } from '../sparse.js';
import { allocKernelImages, claimScratch, kernelMemoryOf, SCRATCH_PAGES } from './shared-images.js';
import { PAGE } from './wasm-api.js';
import { WasmKernel } from './wasm-kernel.js';

let data: TrainingData;
beforeAll(() => {
  data = loadTrainingData();
});

/** Weights uniform in ±0.05, from `seed`. */
function weights(seed: number): { W: Float64Array; b: Float64Array } {
  const rng = new Rng(seed, 73, 0);
  const u = (): number => ((2 * rng.next()) / 4294967296 - 1) * 0.05;
  return { W: Float64Array.from({ length: 7840 }, u), b: Float64Array.from({ length: 10 }, u) };
}

/** The bytes of the data set: what a kernel would copy. */
function dataBytes(d: TrainingData['train']): number {
  return d.offsets.byteLength + d.pixels.byteLength + d.values.byteLength + d.labels.byteLength;
}

describe('training images in a shared kernel memory', () => {
  it('are what loadTrainingData gives, and a kernel over them claims a scratch slot, not a copy', () => {
    const memory = kernelMemoryOf(data.train);
    expect(memory).not.toBeNull();
    expect(memory).toBe(data.train.memory);
    const before = memory!.buffer.byteLength;
    const kernel = new WasmKernel(data.train);
    // The memory grew by one slot (3 pages), not by the 28 MB of the data set, and the kernel's
    // sums live in it.
    expect(memory!.buffer.byteLength - before).toBe(SCRATCH_PAGES * PAGE);
    expect(dataBytes(data.train)).toBeGreaterThan(100 * SCRATCH_PAGES * PAGE);
    expect(kernel.sums.gW.buffer.byteLength).toBe(memory!.buffer.byteLength);
    expect(kernel.sums.gW.byteOffset).toBeGreaterThanOrEqual(before);
  });

  it('are copied when they are not all in the memory (replaced arrays, toSparse, a user\'s arrays)', () => {
    const replaced = { ...data.train, labels: data.train.labels.slice() };
    expect(replaced.memory).toBe(data.train.memory);
    expect(kernelMemoryOf(replaced)).toBeNull();
    // Another loader's memory with this one's arrays: the tags differ.
    const other = allocKernelImages(3, 4);
    expect(kernelMemoryOf({ ...data.train, memory: other.memory })).toBeNull();
    const sparse = toSparse(Uint8Array.from({ length: 784 * 2 }, (_, i) => i % 7), Uint8Array.of(3, 4), 2);
    expect(kernelMemoryOf(sparse)).toBeNull();

    // A kernel over the replaced labels reads them, not the memory's: here label 0 of image 0
    // instead of its own changes which class the gradient pushes down.
    const own = data.train.labels[0]!;
    replaced.labels[0] = (own + 1) % 10;
    const w = weights(1);
    const shared = new WasmKernel(data.train).compute(Uint32Array.of(0), w, 0).sums.gb.slice();
    const copy = new WasmKernel(replaced);
    expect(copy.sums.gW.buffer.byteLength).toBeGreaterThan(dataBytes(data.train));
    const gb = copy.compute(Uint32Array.of(0), w, 0).sums.gb;
    expect(Math.sign(gb[own]!)).toBe(-Math.sign(shared[own]!));
  });

  it('hand a released slot, zeroed, to the next kernel, and refuse one past the last', () => {
    const images = allocKernelImages(2, 3);
    const memory = images.memory!;
    const first = claimScratch(memory)!;
    new Uint8Array(memory.buffer, first.base, SCRATCH_PAGES * PAGE).fill(7);
    const second = claimScratch(memory)!;
    expect(second.base).toBe(first.base + SCRATCH_PAGES * PAGE);
    first.release();
    const again = claimScratch(memory)!;
    expect(again.base).toBe(first.base);
    expect(new Uint8Array(memory.buffer, again.base, SCRATCH_PAGES * PAGE).every((b) => b === 0)).toBe(true);
    const held = [first, second];
    for (let s; (s = claimScratch(memory)) !== null; ) held.push(s);
    expect(held.length).toBe(64);
  });

  it('are read in place by a kernel in another thread, which computes the same bits', async () => {
    const memory = data.train.memory!;
    const batch = Uint32Array.from({ length: 500 }, (_, i) => (i * 7919) % data.train.count);
    const w = weights(2);
    const here = new WasmKernel(data.train).compute(batch, w, 0).sums;
    const before = memory.buffer.byteLength;
    // The thread imports the built package (vitest does not transform a worker's imports).
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.core).then(({ createKernel }) => {
        const { train, batch, w } = workerData;
        const kernel = createKernel(train, 'wasm');
        const sums = kernel.compute(batch, w, 0).sums;
        parentPort.postMessage({ gW: sums.gW.slice(), gb: sums.gb.slice(), loss: sums.loss, buffer: sums.gW.buffer.byteLength, grown: train.memory.buffer.byteLength });
      });`;
    const coreUrl = new URL('../../../dist/engine.js', import.meta.url).href;
    const worker = new Worker(code, { eval: true, workerData: { core: coreUrl, train: data.train, batch, w } });
    const there = await new Promise<{ gW: Float64Array; gb: Float64Array; loss: number; buffer: number; grown: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    // The thread's kernel grew the same memory by one slot and keeps its sums there.
    expect(there.grown).toBe(before + SCRATCH_PAGES * PAGE);
    expect(memory.buffer.byteLength).toBe(there.grown);
    expect(there.buffer).toBe(there.grown);
    expect(there.loss).toBe(here.loss);
    expect(Buffer.from(there.gW.buffer).equals(Buffer.from(here.gW.buffer, here.gW.byteOffset, here.gW.byteLength))).toBe(true);
    expect(Buffer.from(there.gb.buffer).equals(Buffer.from(here.gb.buffer, here.gb.byteOffset, here.gb.byteLength))).toBe(true);
  });

  it('give a kernel weights to read in place: another kernel\'s resident weights, here and in another thread, with the bits of a copy', async () => {
    const batch = Uint32Array.from({ length: 300 }, (_, i) => (i * 104729) % data.train.count);
    const owner = new WasmKernel(data.train);
    const w = weights(3);
    const resident = owner.residentWeights(w);
    const reader = new WasmKernel(data.train);
    // The owner's weights lie in the shared memory, laid out as a scratch lays them out.
    expect(reader.inPlace(resident)).toBe(resident.W.byteOffset);
    // Arrays of this thread's heap, or laid out otherwise, are copied.
    expect(reader.inPlace(w)).toBe(-1);
    expect(reader.inPlace({ W: resident.W, b: w.b })).toBe(-1);
    const copied = new WasmKernel(data.train).compute(batch, w, 0).sums;
    const inPlace = reader.compute(batch, resident, 0).sums;
    expect(Buffer.from(inPlace.gW.buffer, inPlace.gW.byteOffset, inPlace.gW.byteLength).equals(Buffer.from(copied.gW.buffer, copied.gW.byteOffset, copied.gW.byteLength))).toBe(true);
    expect(inPlace.loss).toBe(copied.loss);
    // Read, not copied: a change to the owner's weights is what the reader computes with next,
    // under the same version; and back to a copy of other weights, it copies them.
    resident.W.fill(0);
    resident.b.fill(0);
    const zero = new WasmKernel(data.train).compute(batch, { W: new Float64Array(7840), b: new Float64Array(10) }, 0).sums;
    expect(reader.compute(batch, resident, 0).sums.loss).toBe(zero.loss);
    expect(reader.compute(batch, w, 0).sums.loss).toBe(copied.loss);

    // A kernel in another thread reads the same weights where they lie.
    resident.W.set(w.W);
    resident.b.set(w.b);
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.core).then(({ createKernel }) => {
        const { train, batch, at } = workerData;
        const kernel = createKernel(train, 'wasm');
        const W = new Float64Array(train.memory.buffer, at, 7840);
        const b = new Float64Array(train.memory.buffer, at + 62720, 10);
        const sums = kernel.compute(batch, { W, b }, 0).sums;
        parentPort.postMessage({ gW: sums.gW.slice(), loss: sums.loss, inPlace: kernel.inPlace({ W, b }) });
      });`;
    const coreUrl = new URL('../../../dist/engine.js', import.meta.url).href;
    const worker = new Worker(code, { eval: true, workerData: { core: coreUrl, train: data.train, batch, at: resident.W.byteOffset } });
    const there = await new Promise<{ gW: Float64Array; loss: number; inPlace: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(there.inPlace).toBe(resident.W.byteOffset);
    expect(there.loss).toBe(copied.loss);
    expect(Buffer.from(there.gW.buffer).equals(Buffer.from(copied.gW.buffer, copied.gW.byteOffset, copied.gW.byteLength))).toBe(true);
  });
});
