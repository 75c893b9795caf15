import { describe, expect, it } from 'vitest';
import { loadTrainingData } from '../data/training-data.js';
import { jsRowMover } from './row-mover.js';
import { claimSharedRegion } from './wasm/shared-images.js';
import { WasmKernel } from './wasm/wasm-kernel.js';

describe('moving rows', () => {
  it('gives the same bits in the kernel\'s module as in JS: gather, scatter, add rows, add all', () => {
    const data = loadTrainingData();
    const kernel = new WasmKernel(data.train);
    const region = claimSharedRegion(data.train)!;
    const at = region.byteOffset;
    // Four matrices and a list inside the shared memory, and the same in this thread's heap.
    const inMemory = {
      list: new Uint16Array(region.buffer, at, 784),
      toList: new Uint16Array(region.buffer, at + 1568, 784),
      a: new Float64Array(region.buffer, at + 3136, 7840),
      b: new Float64Array(region.buffer, at + 3136 + 62720, 7840),
    };
    const heap = { list: new Uint16Array(784), toList: new Uint16Array(784), a: new Float64Array(7840), b: new Float64Array(7840) };
    for (const m of [inMemory, heap]) {
      for (let i = 0; i < 7840; i++) {
        // Exact sums: integers of any sign, up to 2^40.
        m.a[i] = ((i * 2654435761) % 2 ** 40) - 2 ** 39;
        m.b[i] = ((i * 40503) % 2 ** 30) - 2 ** 29;
      }
      for (let i = 0; i < 300; i++) m.list[i] = (i * 277) % 784;
    }
    const moves = [
      (mv: typeof jsRowMover, m: typeof heap) => mv.gatherRows(m.list, 300, m.a, m.toList, m.b),
      (mv: typeof jsRowMover, m: typeof heap) => mv.scatterRows(m.list, 300, m.b, m.a),
      (mv: typeof jsRowMover, m: typeof heap) => mv.addRows(m.list, 300, m.a, m.b),
      (mv: typeof jsRowMover, m: typeof heap) => mv.addAll(m.b, m.a),
    ];
    for (const move of moves) {
      move(kernel.mover, inMemory);
      move(jsRowMover, heap);
      for (const k of ['a', 'b'] as const) {
        expect(Buffer.from(inMemory[k].buffer, inMemory[k].byteOffset, inMemory[k].byteLength).equals(Buffer.from(heap[k].buffer))).toBe(true);
      }
      expect([...inMemory.toList]).toEqual([...heap.toList]);
    }
    // Arrays outside its memory: the module's mover falls back to JS, with the same result.
    const other = { ...heap, a: heap.a.slice(), b: heap.b.slice() };
    kernel.mover.addRows(other.list, 300, other.a, other.b);
    jsRowMover.addRows(heap.list, 300, heap.a, heap.b);
    expect([...other.b]).toEqual([...heap.b]);
    region.release();
  });
});
