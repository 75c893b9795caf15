/**
 * Running the BUILT `mnist-lr` command (packages/cli/dist/bin.js) as a child process, as a user
 * does, and a model trained by it for the tests that use one. Build first: `pnpm build`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'packages/cli/dist/bin.js');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the cli from the repository root with stdout and stderr piped (so: not a TTY). */
export function cli(...args: string[]): Promise<Run> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run "pnpm build" first`);
  return new Promise((done) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      done({ code, stdout, stderr });
    });
  });
}

/**
 * Trains config_1 for one epoch in-process (about a second of training) into a fresh temporary
 * folder and returns the model file's path and the folder.
 */
export async function trainedModel(): Promise<{ model: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mnist-lr-model-'));
  const run = await cli('train', '--config', 'configs/config_1.json', '--epochs', '1', '--out', dir);
  if (run.code !== 0) throw new Error(`training the test model failed:\n${run.stderr}`);
  return { model: join(dir, 'models/config_1.model.json'), dir };
}
