import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/cluster.js';

// The golden weight hashes, end to end: `mnist-lr train` with two local worker threads over
// WebSocket, then `mnist-lr eval` prints the hash, which must be the in-process one (the core
// test weights-hash.test.ts checks that one) and those of docs/exactness.md.
const GOLDEN = [
  { config: 'config_1', epochs: 2, sha256: '9146f7600b9fe277d0191d7a950ddbdd73ac808dcf33265640c49fe09aa197ae' },
  { config: 'config_sample', epochs: 1, sha256: '9fe9949bb1cbe702e402bca1e892d1954097606e8c44a953ae4650a567d08e70' },
];

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
