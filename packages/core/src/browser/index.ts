/**
 * @mnist-lr/core/browser: what a worker needs in an engine without Node's modules (a browser's Web
 * Worker): the kernel and its fingerprint, the dataset from its stream, the wire protocol and the
 * engine's name. Nothing here imports a `node:` module (a test bundles it for the browser and
 * looks); files, IDX from disk, plots and the coordinator's token check stay behind the main
 * entry. Call prepareEngine() once before anything else.
 */
import { compileKernelModule } from '../math/wasm/kernel-module.js';
import { useMsgpackr } from '../protocol/codec.js';

/**
 * Readies this engine: compiles the WebAssembly kernel asynchronously (as browsers ask) and gives
 * the protocol codec its msgpackr. Resolves to whether the WebAssembly kernel runs here; where it
 * does not, the JS kernel computes the same bits.
 */
export async function prepareEngine(): Promise<{ wasm: boolean }> {
  // Imported here, not at the top: a page that only reads this entry's constants bundles no msgpackr.
  useMsgpackr(await import('msgpackr'));
  return { wasm: await compileKernelModule() };
}

export { MnistLrError, isMnistLrError, type ErrorCode } from '../errors.js';
export { engineName, browserName } from '../runtime/engine-name.js';
export { kernelFingerprint } from '../math/fingerprint.js';
export { KERNEL_ID } from '../math/kernel.js';
export { LocalGradientSource, type KernelChoice, type BatchSums } from '../train/source.js';
export { zeroWeights, type Weights } from '../math/model.js';
export { rowList } from '../math/rows.js';
export { weightsSha256 } from '../model/weights-hash.js';
export type { TrainingData } from '../train/engine.js';
export type { SparseImages } from '../math/sparse.js';
export { fingerprintOf, splitDatasetStream } from '../data/dataset-stream.js';
export { trainingDataFromStream, STREAM_FILES } from '../data/dataset-bytes.js';
export { sha256, type Sha256 } from '../hash/sha256.js';

// The wire protocol (as @mnist-lr/core/protocol has it, less the coordinator's parts).
export * from '../protocol/messages.js';
export * from '../protocol/reasons.js';
export { encodeMessage, decodeCoordinatorMessage, DecodeBuffers, ProtocolError, maxTaskBytes, MAX_SLICE, ENGINE_MAX } from '../protocol/codec.js';
export { inert, LABEL_MAX, TEXT_MAX } from '../protocol/inert.js';
export { copyWeights } from '../protocol/plane/copy.js';
export * from '../protocol/join.js';
