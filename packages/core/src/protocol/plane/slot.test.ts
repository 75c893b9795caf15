import { describe, expect, it } from 'vitest';
import { loadTrainingData } from '../../data/training-data.js';
import { claimSharedRegion } from '../../math/wasm/shared-images.js';
import { WasmKernel } from '../../math/wasm/wasm-kernel.js';
import { jsRowMover } from '../../math/row-mover.js';
import { emptyRowSet, addRows } from '../../math/rows.js';
import { emptySums } from '../../math/exact.js';
import { zeroWeights } from '../../math/model.js';
import { TaskSlot } from './slot.js';

describe('a task slot', () => {
  it('carries a task to the worker and its answer back, each visible only once complete', () => {
    const host = TaskSlot.create(8);
    const worker = new TaskSlot(host.buffer, host.result);
    expect(host.answered()).toBe(true);
    host.open(true);
    const bound = worker.boundSeq();
    expect(worker.taskSeq()).toBe(bound);
    expect(worker.maySpin()).toBe(true);
    host.post(17, 3, 2, Uint32Array.of(5, 6, 7));
    expect(host.answered()).toBe(false);
    const seq = worker.taskSeq();
    expect(seq).not.toBe(bound);
    const t = worker.readTask(seq);
    expect(t).toMatchObject({ task: 17, version: 3, epoch: 2 });
    expect([...t.indices]).toEqual([5, 6, 7]);
    // The worker's sums: three touched rows.
    const sums = emptySums();
    const rows = emptyRowSet();
    addRows(rows, [700, 3, 42]);
    for (const p of [700, 3, 42]) for (let k = 0; k < 10; k++) sums.gW[p * 10 + k] = p * 100 + k;
    sums.gb[4] = -9;
    sums.loss = 12345;
    sums.correct = 2;
    sums.count = 3;
    worker.reply(t, sums, rows, jsRowMover);
    expect(host.answered()).toBe(true);
    const r = host.answer();
    expect(r).toMatchObject({ task: 17, ok: true });
    expect([...r.rows!]).toEqual([700, 3, 42]);
    // Packed in list order.
    expect(r.sums.gW[0]).toBe(70000);
    expect(r.sums.gW[11]).toBe(301);
    expect(r.sums.gW[29]).toBe(4209);
    expect(r.sums).toMatchObject({ loss: 12345, correct: 2, count: 3 });
    expect(r.sums.gb[4]).toBe(-9);
  });

  it('answers a full gradient whole, and a task whose weights are gone as stale', () => {
    const host = TaskSlot.create(4);
    const worker = new TaskSlot(host.buffer, host.result);
    host.open(false);
    expect(worker.maySpin()).toBe(false);
    host.post(1, 0, 0, Uint32Array.of(1));
    const sums = emptySums();
    sums.gW.fill(2);
    worker.reply(worker.readTask(worker.taskSeq()), sums, null);
    expect(host.answer().rows).toBeNull();
    expect(host.answer().sums.gW.every((x) => x === 2)).toBe(true);
    host.post(2, 1, 0, Uint32Array.of(1));
    worker.stale(worker.readTask(worker.taskSeq()));
    expect(host.answer()).toMatchObject({ task: 2, ok: false });
  });

  it('has a random proof of 16 bytes, different for every slot, and refuses a buffer that is not a slot', () => {
    const a = TaskSlot.create(1);
    const b = TaskSlot.create(1);
    expect(a.proof()).toMatch(/^[0-9a-f]{32}$/);
    expect(a.proof()).not.toBe(b.proof());
    expect(new TaskSlot(a.buffer, a.result).proof()).toBe(a.proof());
    expect(() => new TaskSlot(new SharedArrayBuffer(256), a.result)).toThrow(/not a task slot/);
    expect(() => a.post(1, 0, 0, Uint32Array.of(1, 2))).toThrow(/does not fit/);
  });

  it('wakes a sleeping worker when a task is posted or the slot is closed', async () => {
    const host = TaskSlot.create(2);
    const worker = new TaskSlot(host.buffer, host.result);
    host.open(false);
    const seen = worker.taskSeq();
    const started = performance.now();
    const slept = worker.sleep(seen, 5000);
    setTimeout(() => host.post(1, 0, 0, Uint32Array.of(0)), 20);
    await slept;
    expect(worker.taskSeq()).not.toBe(seen);
    expect(performance.now() - started).toBeLessThan(4000);
    const again = worker.sleep(worker.taskSeq(), 5000);
    setTimeout(() => host.close(), 20);
    await again;
    expect(worker.closed()).toBe(true);
  });

  it('packs its rows in the kernels\' module when its result lies in their shared memory', () => {
    const data = loadTrainingData();
    const kernel = new WasmKernel(data.train);
    const weights = kernel.residentWeights(zeroWeights());
    weights.W.fill(0.001);
    const out = kernel.compute(Uint32Array.of(0, 1, 2), weights, 0);
    const region = claimSharedRegion(data.train)!;
    const inMemory = TaskSlot.create(3, region);
    const own = TaskSlot.create(3);
    for (const slot of [inMemory, own]) {
      slot.open(false);
      slot.post(1, 0, 0, Uint32Array.of(0, 1, 2));
    }
    const w1 = new TaskSlot(inMemory.buffer, inMemory.result);
    const w2 = new TaskSlot(own.buffer, own.result);
    w1.reply(w1.readTask(w1.taskSeq()), out.sums, out.rows, kernel.mover);
    w2.reply(w2.readTask(w2.taskSeq()), out.sums, out.rows, jsRowMover);
    const a = inMemory.answer();
    const b = own.answer();
    expect(a.rows!.length).toBe(out.rows!.size);
    expect([...a.rows!]).toEqual([...b.rows!]);
    const n = a.rows!.length * 10;
    expect(Buffer.from(a.sums.gW.buffer, a.sums.gW.byteOffset, 8 * n).equals(Buffer.from(b.sums.gW.buffer, b.sums.gW.byteOffset, 8 * n))).toBe(true);
    region.release();
  });
});
