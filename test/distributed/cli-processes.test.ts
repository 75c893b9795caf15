import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/cluster.js';

// The promise as a user sees it: `mnist-lr train` leaves the same model file, byte for byte,
// in-process and with worker processes.
const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-cli-processes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function trainModel(out: string, ...args: string[]): Buffer {
  const r = spawnSync(process.execPath, [CLI, 'train', '--config', 'configs/config_1.json', '--epochs', '2', '--out', join(tmp, out), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr + r.stdout).toBe(0);
  return readFileSync(join(tmp, out, 'models', 'config_1.model.json'));
}

describe('mnist-lr train --workers 2 --worker-mode process', () => {
  it('writes a model file byte-identical to --workers 0', () => {
    const inProcess = trainModel('in-process', '--workers', '0');
    const processes = trainModel('processes', '--workers', '2', '--worker-mode', 'process');
    expect(processes.equals(inProcess)).toBe(true);
    const log = readFileSync(join(tmp, 'processes', 'logs', 'config_1.log'), 'utf8');
    // Two parties: the coordinator's thread and one worker process.
    expect(log).toContain('coordinator and 1 local worker process over WebSocket');
  });
});
