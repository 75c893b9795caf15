import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { createProgress } from './progress.js';

/** A stream that keeps what is written; `tty` makes it look like a terminal to cli-progress. */
function capture(tty: boolean, columns = 120): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      chunks.push(chunk.toString());
      done();
    },
  }) as unknown as NodeJS.WriteStream & { isTTY: boolean; columns: number };
  stream.isTTY = tty;
  stream.columns = columns;
  return { stream, text: () => chunks.join('') };
}

describe('createProgress', () => {
  it('prints only the epoch lines when the stream is not a terminal', () => {
    const out = capture(false);
    const p = createProgress({ stream: out.stream, totalEpochs: 2 });
    for (let s = 1; s <= 600; s++) p.step({ epoch: 0, step: s, steps: 600 });
    p.epochDone('epoch 1/2  line');
    p.stop();
    expect(out.text()).toBe('epoch 1/2  line\n');
  });

  it('draws a bar on a terminal, at most once per interval, then the epoch line in its place', () => {
    const out = capture(true);
    let now = 0;
    const p = createProgress({ stream: out.stream, totalEpochs: 15, intervalMs: 100, clock: () => now });
    const steps = 6000;
    for (let s = 1; s <= steps; s++) {
      now = s * 0.1; // 10,000 steps/s: 600 ms for the epoch
      p.step({ epoch: 2, step: s, steps });
    }
    const drawn = out.text().match(/epoch 3\/15 \|/g) ?? [];
    // The first step, one redraw per 100 ms, and the last step: about 7, never 6,000.
    expect(drawn.length).toBeGreaterThanOrEqual(6);
    expect(drawn.length).toBeLessThanOrEqual(9);
    expect(out.text()).toContain('| 100% | 6,000/6,000 steps | 10,000 steps/s');
    // 12 epochs of 6,000 steps at 10,000 steps/s are left after this one.
    expect(out.text()).toContain('| ETA 0s, run 7s');
    expect(out.text()).toContain('█');

    p.epochDone('epoch  3/15  the log line');
    expect(out.text().endsWith('epoch  3/15  the log line\n')).toBe(true);
    p.stop(); // idempotent
  });

  it('starts a new bar for each epoch', () => {
    const out = capture(true);
    let now = 0;
    const p = createProgress({ stream: out.stream, totalEpochs: 2, clock: () => now });
    for (const epoch of [0, 1]) {
      for (let s = 1; s <= 10; s++) {
        now += 200;
        p.step({ epoch, step: s, steps: 10 });
      }
      p.epochDone(`done ${epoch + 1}`);
    }
    expect(out.text()).toContain('epoch 1/2 |');
    expect(out.text()).toContain('epoch 2/2 |');
    expect(out.text().endsWith('done 2\n')).toBe(true);
  });

  it('fits every redraw in a narrow terminal', () => {
    const out = capture(true, 50);
    let now = 0;
    const p = createProgress({ stream: out.stream, totalEpochs: 15, clock: () => now });
    for (let s = 1; s <= 600; s++) {
      now += 2;
      p.step({ epoch: 0, step: s, steps: 600 });
    }
    p.workers(3);
    p.stop();
    // Each redraw: the cursor to column 0, the line, then clear to the end of the line.
    const lines = [...out.text().matchAll(/\x1b\[1G(.*?)\x1b\[0K/g)].map((m) => m[1]!);
    expect(lines.length).toBeGreaterThan(2);
    for (const line of lines) expect(line.length, line).toBeLessThan(50);
    expect(lines.at(-1)).toContain('ETA');
  });
});
