/**
 * Peer text is inert: a worker label or a close reason holding a newline, an escape sequence or a
 * bidirectional override reaches the coordinator's terminal and log as plain, visible text that
 * can neither forge a line nor recolour the terminal.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { kernelFingerprint, loadTrainingData } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { encodeMessage, PROTOCOL_VERSION } from '@mnist-lr/core/protocol';
import { CLI, originConfig, ROOT, waitFor } from '../helpers/cluster.js';

const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-inert-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const FORGED = 'coordinator: worker 9 (admin) joined from 10.0.0.1';
const EVIL_LABEL = `evil\n\x1b[31m${FORGED}\u202e`;

describe('peer text', () => {
  it('a worker label holding \\n and \\x1b[31m prints inert on the coordinator’s terminal', async () => {
    const out = join(tmp, 'cli');
    const coordinator = spawn(process.execPath, [CLI, 'coordinator', '--config', 'configs/config_1.json', '--epochs', '1', '--port', '0', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let screen = '';
    coordinator.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    coordinator.stderr.on('data', (d: Buffer) => (screen += d.toString()));
    const exited = new Promise<number | null>((r) => coordinator.on('exit', (code) => r(code)));
    let worker: ReturnType<typeof spawn> | undefined;
    try {
      await waitFor(() => /listening on (ws:\/\/\S+);/.test(screen), 60_000, 'the coordinator to listen');
      const url = /listening on (ws:\/\/\S+);/.exec(screen)![1]!;
      worker = spawn(process.execPath, [CLI, 'worker', '--connect', url, '--token-file', join(out, 'coordinator.token'), '--label', EVIL_LABEL], { stdio: 'ignore' });
      expect(await exited, screen).toBe(0);
    } finally {
      coordinator.kill('SIGKILL');
      worker?.kill('SIGKILL');
    }
    // Not a single escape character, and the forged text never starts a line of its own.
    expect(screen).not.toContain('\x1b');
    expect(screen).not.toContain('\u202e');
    expect(screen.split('\n').some((l) => l.startsWith(FORGED))).toBe(false);
    // It is there, visible, inside the line that names the worker.
    expect(screen).toContain(`coordinator: worker 1 (evil [31m${FORGED}) joined from 127.0.0.1:`);
  });

  it('a label, a hello field and a close reason from a raw peer reach the log inert and cut', async () => {
    const log: string[] = [];
    const data = loadTrainingData();
    const coordinator = await Coordinator.start({ config: originConfig('config_1'), data, token: 't', log: (l) => log.push(l) });
    const hello = (worker: string, kernel = kernelFingerprint()): Promise<WebSocket> =>
      new Promise((resolve) => {
        const ws = new WebSocket(coordinator.url, { headers: { authorization: 'Bearer t' } });
        ws.on('open', () => {
          ws.send(encodeMessage({ type: 'hello', protocol: PROTOCOL_VERSION, dataset: data.fingerprint, kernel, worker }));
          resolve(ws);
        });
        ws.on('error', () => {});
      });
    try {
      const a = await hello(`long\r\n\x1b]0;title\x07${'x'.repeat(200)}`);
      await waitFor(() => log.some((l) => l.includes(' joined from ')), 10_000, 'the join');
      a.close(4000 + 99, 'bye\n\x1b[2Jforged line');
      await waitFor(() => log.some((l) => l.includes(' left: ')), 10_000, 'the departure');
      // A kernel id is quoted back in a refusal: inert too.
      await hello('k', 'other\n\x1b[1mkernel');
      await waitFor(() => log.some((l) => l.includes('[KERNEL_MISMATCH]')), 10_000, 'the refusal');
    } finally {
      await coordinator.close();
    }
    for (const line of log) {
      expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
    }
    const joined = log.find((l) => l.includes(' joined from '))!;
    // The label is cut to 64 characters.
    expect(joined).toMatch(/^worker 1 \(long ]0;titlex+…\) joined from 127\.0\.0\.1:\d+$/);
    expect(/\((.*)\) joined/.exec(joined)![1]!.length).toBe(64);
    expect(log.find((l) => l.includes(' left: '))).toContain('bye [2Jforged line');
    expect(log.find((l) => l.includes('[KERNEL_MISMATCH]'))).toContain('worker kernel other [1mkernel');
  });
});
