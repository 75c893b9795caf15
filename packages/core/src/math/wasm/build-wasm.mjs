// Regenerates kernel.wasm.ts (the module's bytes, base64) from kernel.wat with the `wabt`
// devDependency: `node src/math/wasm/build-wasm.mjs` in packages/core. The generated file is
// committed, so building and running need no assembler; kernel-wasm.test.ts checks it is current.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));

/**
 * kernel.wat with the host's Math.exp and Math.log imported in place of its own exp and log: the
 * kernel as it was before it had them, kept only as the benchmark's baseline.
 */
export function hostMathSource(source) {
  const out = source
    .replace('(import "env" "memory" (memory 1 65536 shared))', '(import "env" "memory" (memory 1 65536 shared))\n  (import "env" "exp" (func $exp (param f64) (result f64)))\n  (import "env" "log" (func $log (param f64) (result f64)))')
    .replace('(func $exp (export "exp")', '(func $ownExp (export "exp")')
    .replace('(func $log (export "log")', '(func $ownLog (export "log")');
  if (out.split('$ownExp').length !== 2 || out.split('$ownLog').length !== 2 || !out.includes('"env" "exp"')) throw new Error('kernel.wat changed shape');
  return out;
}

/** The module's bytes assembled from kernel.wat (or, with hostMath, from hostMathSource of it). */
export async function assemble(hostMath = false) {
  const wabt = await wabtInit();
  const wat = readFileSync(here('./kernel.wat'), 'utf8');
  const source = hostMath ? hostMathSource(wat) : wat;
  // threads: the memory is shared (several instances in several threads read one data set).
  const features = { simd: true, threads: true };
  const mod = wabt.parseWat('kernel.wat', source, features);
  try {
    mod.validate(features);
    return Uint8Array.from(mod.toBinary({ log: false, write_debug_names: false }).buffer);
  } finally {
    mod.destroy();
  }
}

/** The text of kernel.wasm.ts for the kernel's `bytes` and the baseline's `hostMathBytes`. */
export function render(bytes, hostMathBytes) {
  const constant = (name, b) =>
    `export const ${name} =\n` + (Buffer.from(b).toString('base64').match(/.{1,100}/g) ?? []).map((l) => `  '${l}'`).join(' +\n') + ';\n';
  return (
    '// Generated from kernel.wat by build-wasm.mjs; do not edit.\n' +
    '// prettier-ignore\n' +
    constant('KERNEL_WASM_BASE64', bytes) +
    '// The same with the host\'s Math.exp and Math.log imported: the benchmark\'s baseline only.\n' +
    '// prettier-ignore\n' +
    constant('KERNEL_HOST_MATH_WASM_BASE64', hostMathBytes)
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const bytes = await assemble();
  writeFileSync(here('./kernel.wasm.ts'), render(bytes, await assemble(true)));
  console.log(`kernel.wasm.ts: ${bytes.length} bytes`);
}
