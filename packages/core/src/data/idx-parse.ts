/**
 * Parser of the IDX format MNIST ships in (http://yann.lecun.com/exdb/mnist/).
 *
 * Layout: two zero bytes, a type byte (0x08 = unsigned byte, the only type MNIST uses and the
 * only one we accept), a dimension count byte, one big-endian uint32 per dimension, then the
 * data in row-major order. We check the length exactly, because a truncated download or a file
 * with junk appended would otherwise train silently on garbage.
 */
import { MnistLrError } from '../errors.js';

export interface IdxArray {
  /** Size of each dimension, outermost first (e.g. [60000, 28, 28]). */
  dims: number[];
  /** Row-major payload; a view into the bytes given to `parseIdx`, not a copy. */
  data: Uint8Array;
}

/** The one IDX element type we read: unsigned byte. */
const TYPE_UBYTE = 0x08;
/** IDX allows up to 255 dimensions, but anything past 4 is surely not an MNIST file. */
const MAX_DIMS = 4;

/** What to tell the user in every IDX error: the file is damaged, get a good one. */
export const REMEDY = 're-download it or point --data-dir at intact MNIST files';

/** An IDX header: the dimensions and where the data start. */
export interface IdxHeader {
  dims: number[];
  /** Bytes before the data: 4 + 4 per dimension. */
  headerLen: number;
}

/** The longest header `parseIdxHeader` reads: four dimensions. */
export const IDX_MAX_HEADER = 4 + 4 * 4;

/**
 * Parses and checks an IDX header against the length of the whole (decompressed) file, so that a
 * file can be checked before its data are read. `head` holds the file's first bytes: at least
 * IDX_MAX_HEADER of them, or all of a shorter file. `file` is only used in error messages.
 * Throws MnistLrError IDX_BAD_MAGIC / IDX_BAD_SHAPE / IDX_BAD_LENGTH.
 */
export function parseIdxHeader(head: Uint8Array, fileLength: number, file: string): IdxHeader {
  // Check the magic on whatever prefix exists first: a short file of the wrong kind is better
  // reported as "not IDX" than as "truncated".
  const magic = [0x00, 0x00, TYPE_UBYTE];
  for (let i = 0; i < Math.min(3, fileLength); i++) {
    if (head[i] !== magic[i]) {
      const got = Array.from(head.subarray(0, Math.min(4, fileLength)), (b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new MnistLrError(
        'IDX_BAD_MAGIC',
        `${file}: not an IDX file of unsigned bytes (header starts ${got}, expected 00 00 08 nn); ${REMEDY}`,
      );
    }
  }
  if (fileLength < 4) {
    throw new MnistLrError(
      'IDX_BAD_LENGTH',
      `${file}: header truncated (${fileLength} bytes, need at least 4); ${REMEDY}`,
    );
  }
  const ndims = head[3] ?? 0;
  if (ndims < 1 || ndims > MAX_DIMS) {
    throw new MnistLrError(
      'IDX_BAD_SHAPE',
      `${file}: IDX header declares ${ndims} dimensions (expected 1..${MAX_DIMS}); ${REMEDY}`,
    );
  }
  const headerLen = 4 + 4 * ndims;
  if (fileLength < headerLen) {
    throw new MnistLrError(
      'IDX_BAD_LENGTH',
      `${file}: header truncated (${fileLength} bytes, header of ${ndims} dimensions needs ${headerLen}); ${REMEDY}`,
    );
  }

  const view = new DataView(head.buffer, head.byteOffset, headerLen);
  const dims: number[] = [];
  let expected = 1;
  for (let d = 0; d < ndims; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    // Product of up to four uint32s may exceed 2^53 and lose precision, but then it is far
    // beyond any real file length, so the inequality below still (correctly) fails.
    expected *= size;
  }

  const actual = fileLength - headerLen;
  if (actual !== expected) {
    const what = actual < expected ? 'truncated' : 'has trailing bytes';
    throw new MnistLrError(
      'IDX_BAD_LENGTH',
      `${file}: ${what}: dimensions [${dims.join(', ')}] need ${expected} data bytes but the file has ${actual}; ${REMEDY}`,
    );
  }
  return { dims, headerLen };
}

/**
 * Parses IDX bytes (already decompressed). `file` is only used in error messages.
 * Throws MnistLrError IDX_BAD_MAGIC / IDX_BAD_SHAPE / IDX_BAD_LENGTH.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  const { dims, headerLen } = parseIdxHeader(bytes, bytes.length, file);
  return { dims, data: bytes.subarray(headerLen) };
}
