// Regenerates host-math.wasm.ts from core's kernel.wat: the kernel's module with the host's exp and
// log imported in place of its own, the baseline `mnist-lr bench kernel` measures them against.
// `node src/bench/build-host-math.mjs` in packages/cli, after a change to kernel.wat; the generated
// file is committed (the command needs no assembler) and host-math.test.ts checks it is current.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assemble, kernelSource, render } from '../../../core/src/math/wasm/build-wasm.mjs';

/**
 * kernel.wat with $exp and $log imported from "env" instead of defined: every call of the forward
 * pass goes to the imports, and the module's own two stay, renamed, behind their exports.
 */
export function hostMathSource(source) {
  const memory = '(import "env" "memory" (memory 1 65536 shared))';
  const out = source
    .replace(memory, `${memory}\n  (import "env" "exp" (func $exp (param f64) (result f64)))\n  (import "env" "log" (func $log (param f64) (result f64)))`)
    .replace('(func $exp (export "exp")', '(func $ownExp (export "exp")')
    .replace('(func $log (export "log")', '(func $ownLog (export "log")');
  if (out.split('$ownExp').length !== 2 || out.split('$ownLog').length !== 2 || !out.includes('"env" "exp"')) {
    throw new Error('kernel.wat changed shape: say here how its exp and log are imported instead');
  }
  return out;
}

/** The text of host-math.wasm.ts for the kernel.wat of today. */
export async function hostMathFile() {
  return render(await assemble(hostMathSource(kernelSource())), 'HOST_MATH_WASM_BASE64', 'cli/src/bench/build-host-math.mjs (exp and log imported)');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(fileURLToPath(new URL('./host-math.wasm.ts', import.meta.url)), await hostMathFile());
  console.log('host-math.wasm.ts written');
}
