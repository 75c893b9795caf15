import { describe, expect, it } from 'vitest';
import * as L from './layout.js';

/** [first byte, end) of each named field: *_WORD are Int32 indices, *_AT byte offsets of f64 (or of areas). */
function fields(prefix: string, sizes: Record<string, number>): Array<[string, number, number]> {
  const out: Array<[string, number, number]> = [];
  for (const [name, value] of Object.entries(L)) {
    if (!name.startsWith(prefix) || typeof value !== 'number') continue;
    if (name.endsWith('_WORD')) out.push([name, value * 4, value * 4 + 4]);
    else if (name.endsWith('_AT')) out.push([name, value, value + (sizes[name] ?? 8)]);
  }
  return out.sort((a, b) => a[1] - b[1]);
}

function overlaps(list: Array<[string, number, number]>): string[] {
  const bad: string[] = [];
  for (let i = 1; i < list.length; i++) if (list[i]![1] < list[i - 1]![2]) bad.push(`${list[i - 1]![0]} and ${list[i]![0]}`);
  return bad;
}

describe('the shared-memory plane\'s layout', () => {
  it('gives every field of the board and of a slot bytes of its own, f64 fields 8-byte aligned', () => {
    const board = fields('BOARD_', { BOARD_W_AT: 62720, BOARD_B_AT: 80, BOARD_LIST_AT: 1568, BOARD_ROWS_AT: 62720 });
    expect(overlaps(board)).toEqual([]);
    expect(board.at(-1)![2]).toBeLessThanOrEqual(L.BOARD_BYTES);
    const slot = fields('SLOT_', { SLOT_PROOF_AT: L.SLOT_PROOF_BYTES, SLOT_INDICES_AT: 4 });
    expect(overlaps(slot)).toEqual([]);
    const result = fields('RESULT_', { RESULT_LIST_AT: 1568, RESULT_ROWS_AT: 62720, RESULT_GB_AT: 80 });
    expect(overlaps(result)).toEqual([]);
    expect(result.at(-1)![2]).toBeLessThanOrEqual(L.RESULT_BYTES);
    for (const [name, at] of [...board, ...slot, ...result]) {
      if (name.endsWith('_AT') && !name.endsWith('LIST_AT') && !name.endsWith('PROOF_AT') && !name.endsWith('INDICES_AT')) expect(at % 8, name).toBe(0);
    }
  });
});
