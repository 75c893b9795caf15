import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MnistLrError } from '../errors.js';
import { parseIdx, readIdxBytes, readIdxFile } from './idx.js';

/** Builds IDX bytes: magic 00 00 <type> <ndims>, big-endian dims, then `data`. */
function idx(dims: number[], data: number[], type = 0x08): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = type;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/** Runs `fn`, expects a MnistLrError, returns it for further checks. */
function thrown(fn: () => unknown): MnistLrError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(MnistLrError);
    return e as MnistLrError;
  }
  throw new Error('expected a MnistLrError, nothing was thrown');
}

const dir = mkdtempSync(join(tmpdir(), 'mnist-lr-idx-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const GOOD = idx([2, 3], [1, 2, 3, 4, 5, 6]);

describe('parseIdx', () => {
  it('parses dims and data, and data is a view into the input', () => {
    const a = parseIdx(GOOD, 'good');
    expect(a.dims).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(a.data.buffer).toBe(GOOD.buffer);
    expect(a.data.byteOffset).toBe(12);
  });

  it('works on a view that does not start at offset 0', () => {
    const padded = new Uint8Array(GOOD.length + 5);
    padded.set(GOOD, 5);
    const a = parseIdx(padded.subarray(5), 'padded');
    expect(a.dims).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('accepts big dims read big-endian', () => {
    const a = parseIdx(idx([0x0102], new Array<number>(0x0102).fill(7)), 'big');
    expect(a.dims).toEqual([258]);
  });

  it('rejects truncated data with expected vs actual counts', () => {
    const e = thrown(() => parseIdx(GOOD.subarray(0, GOOD.length - 2), 'short.idx'));
    expect(e.code).toBe('IDX_BAD_LENGTH');
    expect(e.message).toContain('short.idx');
    expect(e.message).toContain('truncated');
    expect(e.message).toContain('6');
    expect(e.message).toContain('4');
  });

  it('rejects trailing bytes', () => {
    const long = new Uint8Array(GOOD.length + 1);
    long.set(GOOD);
    const e = thrown(() => parseIdx(long, 'long.idx'));
    expect(e.code).toBe('IDX_BAD_LENGTH');
    expect(e.message).toContain('long.idx');
    expect(e.message).toContain('trailing');
    expect(e.message).toMatch(/need 6 .* has 7/);
  });

  it('rejects a wrong magic', () => {
    const bad = GOOD.slice();
    bad[0] = 0x50;
    expect(() => parseIdx(bad, 'magic.idx')).toThrow(expect.objectContaining({ code: 'IDX_BAD_MAGIC' }));
    expect(() => parseIdx(bad, 'magic.idx')).toThrow(/magic\.idx/);
    // Even a 2-byte file of the wrong kind is "not IDX" rather than "truncated".
    expect(() => parseIdx(new Uint8Array([0x68, 0x69]), 'hi')).toThrow(
      expect.objectContaining({ code: 'IDX_BAD_MAGIC' }),
    );
  });

  it('rejects a type byte other than unsigned byte', () => {
    const e = thrown(() => parseIdx(idx([2], [0, 0, 0, 0, 0, 0, 0, 0], 0x0d), 'float.idx'));
    expect(e.code).toBe('IDX_BAD_MAGIC');
    expect(e.message).toContain('float.idx');
  });

  it('rejects 0 or more than 4 dimensions', () => {
    expect(() => parseIdx(idx([], []), 'zero')).toThrow(expect.objectContaining({ code: 'IDX_BAD_SHAPE' }));
    expect(() => parseIdx(idx([1, 1, 1, 1, 1], [9]), 'five')).toThrow(
      expect.objectContaining({ code: 'IDX_BAD_SHAPE' }),
    );
  });

  it('rejects a header shorter than declared', () => {
    // Declares 3 dims (needs 16 header bytes) but has only 10.
    const e = thrown(() => parseIdx(idx([5, 28, 28], []).subarray(0, 10), 'hdr.idx'));
    expect(e.code).toBe('IDX_BAD_LENGTH');
    expect(e.message).toContain('hdr.idx');
    expect(e.message).toContain('header');
    // Shorter than even the 4-byte magic, and empty.
    expect(() => parseIdx(new Uint8Array([0, 0, 8]), 'three')).toThrow(
      expect.objectContaining({ code: 'IDX_BAD_LENGTH' }),
    );
    expect(() => parseIdx(new Uint8Array(0), 'empty')).toThrow(expect.objectContaining({ code: 'IDX_BAD_LENGTH' }));
  });
});

describe('readIdxFile', () => {
  it('reads a good raw file', () => {
    const a = readIdxFile(write('good-idx1-ubyte', GOOD));
    expect(a.dims).toEqual([2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('detects gzip by content, not by extension', () => {
    const gz = gzipSync(GOOD);
    // Gzipped under a name without .gz …
    expect(readIdxFile(write('gz-without-ext', gz)).dims).toEqual([2, 3]);
    // … and raw under a name with .gz.
    expect(readIdxFile(write('raw-with-ext.gz', GOOD)).dims).toEqual([2, 3]);
    expect(Array.from(readIdxFile(write('good.gz', gz)).data)).toEqual([1, 2, 3, 4, 5, 6]);
    // readIdxBytes returns the whole inflated file, header included.
    expect(Array.from(readIdxBytes(join(dir, 'good.gz')))).toEqual(Array.from(GOOD));
  });

  it('reports a corrupt gzip file', () => {
    const gz = gzipSync(GOOD);
    const path = write('corrupt.gz', gz.subarray(0, gz.length - 6));
    const e = thrown(() => readIdxFile(path));
    expect(e.code).toBe('IDX_BAD_GZIP');
    expect(e.message).toContain(path);
    const garbled = gz.slice();
    garbled.fill(0xff, 10, garbled.length - 8);
    expect(() => readIdxFile(write('garbled.gz', garbled))).toThrow(expect.objectContaining({ code: 'IDX_BAD_GZIP' }));
  });

  it('names the file in errors about its contents', () => {
    const path = write('trunc-idx3-ubyte', GOOD.subarray(0, GOOD.length - 1));
    const e = thrown(() => readIdxFile(path));
    expect(e.code).toBe('IDX_BAD_LENGTH');
    expect(e.message).toContain(path);
  });

  it('reports an unreadable file', () => {
    const path = join(dir, 'does-not-exist');
    const e = thrown(() => readIdxFile(path));
    expect(e.code).toBe('FILE_UNREADABLE');
    expect(e.message).toContain(path);
    // A directory cannot be read as a file either.
    expect(() => readIdxFile(dir)).toThrow(expect.objectContaining({ code: 'FILE_UNREADABLE' }));
  });
});
