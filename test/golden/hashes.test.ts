import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/cluster.js';
import { GOLDEN } from '../helpers/golden.js';

// The golden weight hashes, end to end: `mnist-lr train` with two local worker threads over
// WebSocket, then `mnist-lr eval` prints the hash, which must be the in-process one (the core
// test weights-hash.test.ts checks that one) and those of docs/exactness.md.

const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-golden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout, stderr });
    });
  });
}

describe('golden weight hashes with 2 workers', () => {
  it.each(GOLDEN)('$config after $epochs epoch(s): eval prints weights sha256 $sha256', async ({ config, epochs, sha256 }) => {
    const out = join(tmp, config);
    const trained = await cli('train', '--config', `configs/${config}.json`, '--epochs', String(epochs), '--workers', '2', '--out', out);
    expect(trained.code, trained.stderr).toBe(0);
    const ev = await cli('eval', '--model', join(out, 'models', `${config}.model.json`));
    expect(ev.code, ev.stderr).toBe(0);
    expect(ev.stdout).toMatch(/^weights sha256 [0-9a-f]{64}$/m);
    expect(ev.stdout).toContain(`\nweights sha256 ${sha256}\n`);
  }, 300_000);
});
