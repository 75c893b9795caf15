import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrainingData, train, type TrainingData, type Weights } from '@mnist-lr/core';
import { Coordinator } from '@mnist-lr/coordinator';
import { firstDifference, originConfig, startProcessWorker } from '../helpers/cluster.js';

// wss:// with a certificate from the test's own CA: a worker given the CA trains to the same
// bytes; one without it stops at once with TLS_UNTRUSTED instead of retrying.
const config = originConfig('config_1', { num_epoches: 1 });
let data: TrainingData;
let reference: Weights;
let dir: string;
let cert: Buffer;
let key: Buffer;

beforeAll(async () => {
  data = loadTrainingData();
  reference = (await train({ config, data })).weights;
  dir = mkdtempSync(join(tmpdir(), 'mnist-lr-tls-'));
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=mnist-lr test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.pem');
  cert = readFileSync(join(dir, 'server.pem'));
  key = readFileSync(join(dir, 'server.key'));
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wss://', () => {
  it('trains to the in-process bytes with a worker that verifies the certificate', async () => {
    const token = 'tls-token';
    const coordinator = await Coordinator.start({ config, data, token, tls: { cert, key }, minWorkers: 1, workerWaitMs: 30_000 });
    expect(coordinator.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+$/);
    const untrusting = startProcessWorker(coordinator.url, token);
    const trusting = startProcessWorker(coordinator.url, token, ['--ca', join(dir, 'ca.pem')]);
    try {
      const refused = await untrusting.done;
      expect(refused.code).not.toBe(0);
      expect(refused.output).toContain('[TLS_UNTRUSTED]');
      const state = await coordinator.run();
      expect(firstDifference(state.weights, reference)).toBe(-1);
      const done = await trusting.done;
      expect(done.code, done.output).toBe(0);
    } finally {
      untrusting.child.kill('SIGKILL');
      trusting.child.kill('SIGKILL');
      await coordinator.close();
    }
  });
});
