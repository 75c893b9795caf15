import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';

import { afterAll, describe, expect, it } from 'vitest';

import { exitCodeOf } from '../errors.js';
import { compareRunNames, reportCommand } from './report.js';

const root = mkdtempSync(join(tmpdir(), 'mnist-lr-report-cmd-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function sink(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(c: Buffer, _e, done) {
      chunks.push(c.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

const config = { num_epoches: 2, batch_size: 100, learning_rate: 0.0025, learning_decay: 0, decay_factor: 0.75, momentum: 0, mu: 0.9 };
function metricsFile(dir: string, name: string, epochs: number, end = true): void {
  const lines = [JSON.stringify({ type: 'start', name, config, dataset: 'x', workers: 0 })];
  for (let e = 1; e <= epochs; e++) {
    lines.push(JSON.stringify({ type: 'epoch', epoch: e, lr: 0.0025, trainLoss: 0.5, testLossSum: 4000 - e, testLoss: 0.4, testAccuracy: 0.85 + e / 100, seconds: 0.2 }));
  }
  if (end) lines.push('{"type":"end"}');
  writeFileSync(join(dir, `${name}.metrics.jsonl`), `${lines.join('\n')}\n`);
}

describe('compareRunNames', () => {
  it("puts the origin's configs first, in its order, then the rest by name", () => {
    const names = ['zeta', 'config_3', 'alpha', 'config_1', 'config_sample', 'config_10', 'config_2'];
    expect(names.sort(compareRunNames)).toEqual(['config_sample', 'config_1', 'config_2', 'config_3', 'alpha', 'config_10', 'zeta']);
  });
});

describe('reportCommand', () => {
  const logs = join(root, 'run', 'logs');
  mkdirSync(logs, { recursive: true });
  metricsFile(logs, 'mine', 2);
  metricsFile(logs, 'config_2', 1, false);
  metricsFile(logs, 'config_sample', 2);
  writeFileSync(join(logs, 'broken.metrics.jsonl'), '{"type":"start"\n');

  it('orders the runs, draws their plots beside the logs, and skips what it cannot read', async () => {
    const out = sink();
    const err = sink();
    const table = await reportCommand({ logs }, out.stream, err.stream);
    expect(out.text()).toBe(table);
    expect(table.split('\n')[0]).toBe('|  | config_sample | config_2 | mine |');
    expect(table).toContain('| Optimal Test Accuracy | 0.8700 @ Epoch 2 | 0.8600 @ Epoch 1 | 0.8700 @ Epoch 2 |');
    for (const f of ['loss_sample.png', 'accr_sample.png', 'loss_2.png', 'accr_mine.png']) {
      expect(existsSync(join(root, 'run', 'assets', f))).toBe(true);
    }
    expect(err.text()).toContain('warning: skipping');
    expect(err.text()).toContain('broken.metrics.jsonl:1');
    expect(err.text()).toContain('config_2 is incomplete (1 of 2 epochs');
  });

  it('checks the README markers before drawing anything', async () => {
    const readme = join(root, 'NO_MARKERS.md');
    writeFileSync(readme, '# nothing here\n');
    const assets = join(root, 'never');
    const err = await reportCommand({ logs, assets, readme }, sink().stream, sink().stream).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/--readme .*NO_MARKERS\.md: marker <!-- results:start --> not found/);
    expect(exitCodeOf(err)).toBe(2);
    expect(existsSync(assets)).toBe(false);
  });

  it('replaces the README section', async () => {
    const readme = join(root, 'README.md');
    writeFileSync(readme, '# R\n\n<!-- results:start -->\nold\n<!-- results:end -->\n\nafter\n');
    const table = await reportCommand({ logs, readme }, sink().stream, sink().stream);
    expect(readFileSync(readme, 'utf8')).toBe(`# R\n\n<!-- results:start -->\n${table}<!-- results:end -->\n\nafter\n`);
  });

  it('says what to do when there is nothing to report', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(reportCommand({ logs: empty }, sink().stream, sink().stream)).rejects.toThrow(/no \*\.metrics\.jsonl files there; train first/);
    await expect(reportCommand({ logs: join(root, 'nope') }, sink().stream, sink().stream)).rejects.toThrow(/no such folder/);
  });
});
