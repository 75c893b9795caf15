import { describe, expect, it } from 'vitest';
import { loadTrainingData } from '../../data/training-data.js';
import { jsRowMover } from '../../math/row-mover.js';
import { Rng } from '../../math/rng.js';
import { WasmKernel } from '../../math/wasm/wasm-kernel.js';
import { claimSharedRegion } from '../../math/wasm/shared-images.js';
import { zeroWeights, type Weights } from '../../math/model.js';
import { WeightsBoard } from './board.js';
import { BOARD_BYTES, BOARD_SEQ_WORD } from './layout.js';

/** Weights whose every entry differs from the last version's in the rows listed. */
function step(w: Weights, rows: number[], rng: Rng): void {
  for (const p of rows) for (let k = 0; k < 10; k++) w.W[p * 10 + k] = rng.next() / 2 ** 32 - 0.5;
  for (let k = 0; k < 10; k++) w.b[k] = rng.next() / 2 ** 32;
}

function same(a: Weights, b: Weights): boolean {
  for (let i = 0; i < a.W.length; i++) if (!Object.is(a.W[i], b.W[i])) return false;
  for (let k = 0; k < 10; k++) if (!Object.is(a.b[k], b.b[k])) return false;
  return true;
}

describe('the weights board', () => {
  it('brings a reader up to date from any version: the changed rows from the one before, all of W otherwise', () => {
    const board = WeightsBoard.create();
    const reader = new WeightsBoard(board.buffer, board.byteOffset);
    const rng = new Rng(5, 1, 0);
    const w = zeroWeights();
    const copy = zeroWeights();
    let held = -1;
    expect(reader.take(copy, held, 0)).toBe(-1); // nothing published yet: stale
    for (let v = 0; v < 40; v++) {
      const rows = v === 0 ? [] : Array.from({ length: 1 + (v * 37) % 300 }, (_, i) => (i * 13 + v) % 784);
      const changed = Uint16Array.from(new Set(rows));
      step(w, [...changed], rng);
      // Every fifth version says nothing of what changed (momentum): the board has no delta then.
      board.publish(w, v, v % 5 === 4 ? null : changed, changed.length);
      // A reader that skipped versions takes all of W; one a version behind takes the delta.
      if (v % 7 === 3) continue;
      held = reader.take(copy, held, v);
      expect(held).toBe(v);
      expect(same(copy, w)).toBe(true);
    }
  });

  it('refuses a version it does not hold and a read while the coordinator writes, and the reader then holds no version', () => {
    const board = WeightsBoard.create();
    const w = zeroWeights();
    board.publish(w, 0, null, 0);
    const copy = zeroWeights();
    expect(board.take(copy, -1, 1)).toBe(-1); // the task's version is not on the board yet
    expect(board.take(copy, -1, 0)).toBe(0);
    // A late task of version 0 while the board holds 1: stale unless the reader holds 0 already.
    w.W[5] = 1;
    board.publish(w, 1, Uint16Array.of(0), 1);
    expect(board.take(copy, -1, 0)).toBe(-1);
    expect(board.take(copy, 0, 0)).toBe(0);
    // The sequence word is odd while the board is written: nothing read then is trusted.
    const words = new Int32Array(board.buffer, board.byteOffset, 1);
    Atomics.add(words, BOARD_SEQ_WORD, 1);
    expect(board.take(copy, 0, 1)).toBe(-1);
    Atomics.add(words, BOARD_SEQ_WORD, 1);
    expect(board.take(copy, 0, 1)).toBe(1);
    expect(copy.W[5]).toBe(1);
  });

  it('moves rows in the kernels\' module when it lies in their shared memory, with the same bits as in JS', () => {
    const data = loadTrainingData();
    const region = claimSharedRegion(data.train)!;
    expect(region.byteLength).toBeGreaterThanOrEqual(BOARD_BYTES);
    const kernel = new WasmKernel(data.train);
    const replica = kernel.residentWeights(zeroWeights());
    const inMemory = WeightsBoard.create(region);
    const own = WeightsBoard.create();
    const rng = new Rng(9, 2, 0);
    const w = zeroWeights();
    const plain = zeroWeights();
    let heldA = -1;
    let heldB = -1;
    for (let v = 0; v < 10; v++) {
      const changed = Uint16Array.from({ length: 100 }, (_, i) => (i * 7 + v * 11) % 784);
      step(w, [...changed], rng);
      inMemory.publish(w, v, changed, changed.length, kernel.mover);
      own.publish(w, v, changed, changed.length, jsRowMover);
      heldA = inMemory.take(replica, heldA, v, kernel.mover);
      heldB = own.take(plain, heldB, v, jsRowMover);
      expect(same(replica, w)).toBe(true);
      expect(same(plain, w)).toBe(true);
    }
    region.release();
  });
});
