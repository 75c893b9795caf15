import { describe, expect, it } from 'vitest';
import { skipFor } from '../../../../test/helpers/requires.js';

import { interleaved, peakMemoryUnavailable, runOnce } from './processes.js';

const noGnuTime = peakMemoryUnavailable();

describe('runOnce', () => {
  it.skipIf(skipFor('the peak-memory checks', noGnuTime))("reads a child's peak resident set from the operating system", async () => {
    // A child that touches 120 MiB and then frees it: the peak, not the end state, is reported.
    const touch = 'let b = Buffer.alloc(120 * 1024 * 1024, 1); b = null; globalThis.gc?.();';
    const small = await runOnce({ label: 'node -e 0', file: process.execPath, args: ['-e', '0'] });
    const big = await runOnce({ label: 'node 120 MiB', file: process.execPath, args: ['-e', touch] });
    expect(small.peakMiB).toBeLessThan(100);
    expect(big.peakMiB!).toBeGreaterThan(small.peakMiB! + 110);
  });

  it("counts a worker thread's memory in its process's peak", async () => {
    const thread = `new (require('node:worker_threads').Worker)("Buffer.alloc(120 * 1024 * 1024, 1)", { eval: true })`;
    const run = await runOnce({ label: 'thread', file: process.execPath, args: ['-e', thread] });
    if (run.peakMiB !== null) expect(run.peakMiB).toBeGreaterThan(120);
    expect(run.seconds).toBeGreaterThan(0);
  });

  it('rejects with the command and its last words when it fails', async () => {
    await expect(runOnce({ label: 'failing', file: process.execPath, args: ['-e', 'console.error("out of luck"); process.exit(3)'] })).rejects.toThrow(/failing exited with 3: out of luck/);
  });
});

describe('interleaved', () => {
  it('runs the commands in turn and reports one median per command, in order', async () => {
    const lines: string[] = [];
    const a = { label: 'a', file: process.execPath, args: ['-e', '0'] };
    const b = { label: 'b', file: process.execPath, args: ['-e', '0'] };
    const measured = await interleaved([a, b], 2, (line) => lines.push(line));
    expect(measured.map((m) => [m.label, m.runs])).toEqual([['a', 2], ['b', 2]]);
    expect(lines.map((l) => l.split(':')[0])).toEqual(['a', 'b', 'a', 'b']);
  });
});
