import { JsKernel } from './js-kernel.js';
import type { Kernel, KernelFactory, KernelName, KernelVariant } from './kernel-api.js';
import type { SparseImages } from './sparse.js';
import { WasmKernel, wasmKernelAvailable } from './wasm/wasm-kernel.js';

/** Which implementation of the exact kernel to run; both give the same bits. */
export type KernelChoice = 'auto' | KernelName;

/**
 * The kernel for `data`, chosen once. 'auto' (default): WebAssembly SIMD where the runtime has it
 * and the data fit, else JS. 'wasm': WebAssembly or an error. 'js': the JS kernel. A factory
 * builds any other Kernel. `variant`: the same kernel computing with another exp and log, for a
 * benchmark's baseline only (see KernelVariant).
 */
export function createKernel(data: SparseImages, choice: KernelChoice | KernelFactory = 'auto', variant?: KernelVariant): Kernel {
  if (typeof choice === 'function') return choice(data);
  if (choice === 'js') return new JsKernel(data, variant);
  if (choice === 'wasm') return new WasmKernel(data, variant);
  if (wasmKernelAvailable()) {
    try {
      return new WasmKernel(data, variant);
    } catch {
      // Data the module refuses (a label or pixel index out of range): the JS kernel takes it as before.
    }
  }
  return new JsKernel(data, variant);
}
