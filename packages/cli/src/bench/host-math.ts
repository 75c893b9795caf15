import { createKernel, type Kernel, type KernelName, type SparseImages } from '@mnist-lr/core/engine';
import { HOST_MATH_WASM_BASE64 } from './host-math.wasm.js';

let wasm: Uint8Array | undefined;

/**
 * The exact kernel as it was before it had exp and log of its own: the same kernel, JS or
 * WebAssembly, computing with the host's Math.exp and Math.log, whose last bits depend on the
 * engine, its C library and the CPU. The baseline `bench kernel` measures the own exp and log
 * against; never for training. The WebAssembly module is kernel.wat with the two imported
 * (build-host-math.mjs).
 */
export function hostMathKernel(data: SparseImages, name: KernelName): Kernel {
  wasm ??= Uint8Array.from(Buffer.from(HOST_MATH_WASM_BASE64, 'base64'));
  return createKernel(data, name, { exp: Math.exp, log: Math.log, wasm });
}
