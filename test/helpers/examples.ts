import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import type { Mnist } from '@mnist-lr/core';

/** The repository's examples/ folder. */
export const EXAMPLES = fileURLToPath(new URL('../../examples', import.meta.url));

export interface Run {
  code: number | null;
  output: string;
}

/**
 * Runs `node FILE ARGS` in `cwd` as a reader would, collecting stdout and stderr; kills it after
 * `timeoutMs` (a test must never wait without bound) and says so in the output.
 */
export function runNode(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onOutput?: (text: string) => void }): Promise<Run> {
  const child = spawn(process.execPath, [file, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const take = (d: Buffer): void => {
    output += d.toString();
    options.onOutput?.(output);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const timer = setTimeout(() => {
    output += `\n[killed after ${options.timeoutMs ?? 300_000} ms]`;
    child.kill('SIGKILL');
  }, options.timeoutMs ?? 300_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The last "test accuracy X" an example printed. */
export function accuracyOf(output: string): number {
  const all = [...output.matchAll(/test accuracy (\d\.\d+)/g)];
  if (all.length === 0) throw new Error(`no "test accuracy" line in:\n${output}`);
  return Number(all.at(-1)![1]);
}

/**
 * Writes the first `train` training and `test` test images of `mnist` as a folder of one's own
 * IDX files: the training files gzipped and named with dots, the test files raw with dashes, so
 * both spellings and both encodings are read.
 */
export function writeOwnIdx(dir: string, mnist: Mnist, train: number, test: number): void {
  const images = (count: number, pixels: Uint8Array): Buffer => {
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x803, 0);
    header.writeUInt32BE(count, 4);
    header.writeUInt32BE(28, 8);
    header.writeUInt32BE(28, 12);
    return Buffer.concat([header, pixels.subarray(0, count * 784)]);
  };
  const labels = (count: number, values: Uint8Array): Buffer => {
    const header = Buffer.alloc(8);
    header.writeUInt32BE(0x801, 0);
    header.writeUInt32BE(count, 4);
    return Buffer.concat([header, values.subarray(0, count)]);
  };
  writeFileSync(join(dir, 'train-images.idx3-ubyte.gz'), gzipSync(images(train, mnist.train.images)));
  writeFileSync(join(dir, 'train-labels.idx1-ubyte.gz'), gzipSync(labels(train, mnist.train.labels)));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), images(test, mnist.test.images));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), labels(test, mnist.test.labels));
}
