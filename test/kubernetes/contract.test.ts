/**
 * The contract between the manifests and the command, without a cluster: the base is rendered by
 * `kubectl kustomize`, and its pods run as local processes (helpers/pods.ts) with their command,
 * args, env, mounted Secret and ConfigMap, volume, ports and probes as written. The Service's
 * name resolves to 127.0.0.1 through the resolver the processes ask (service-dns.mjs), so the
 * workers' `--connect ws://mnist-lr-coordinator:7070` is used unchanged.
 *
 * One run of the config in the manifest (config_1, all its 15 epochs), as a cluster would see it:
 * the coordinator's Job and the workers' Deployment start; the kubelet's probes find the
 * coordinator started, alive and ready while it waits for its workers; a worker pod is deleted
 * (SIGTERM) mid-run and replaced; then the coordinator's pod (SIGTERM): it checkpoints and exits
 * 130 within its grace period, which the Job's pod failure policy ignores, and the Job's next pod
 * (the same args, --resume) continues; the workers are scaled 2 → 3 → 1. The model on the volume
 * has the weights of an uninterrupted in-process run, bit for bit.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseConfig, train, weightsSha256 } from '@mnist-lr/core';
import { statusSchema, type Status } from '@mnist-lr/watch/status';

import { CLI, ROOT } from '../helpers/cluster.js';
import { render, type KubeObject } from '../helpers/kubernetes.js';
import { LocalCluster, podFailureAction, Replicas, type Pod, type PodTemplate } from '../helpers/pods.js';

const tmp = mkdtempSync(join(tmpdir(), 'mnist-lr-k8s-contract-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const objects = render('base');
const of = (kind: string): KubeObject => objects.find((o) => o.kind === kind)!;
const job = of('Job');
const deployment = of('Deployment');
const service = of('Service');
const configMap = of('ConfigMap') as KubeObject & { data: Record<string, string> };
const jobTemplate = (job.spec as { template: PodTemplate }).template;
const servicePort = (service.spec as { ports: { port: number; targetPort: string }[] }).ports[0]!;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => s.close(() => resolve(true)));
  });
}

describe('the base, run as a cluster would run it', () => {
  it('Job and Deployment as local processes: probes, SIGTERM to a worker and the coordinator, a Job restart, 2 → 3 → 1 workers, and the weights of an uninterrupted run', async () => {
    const token = randomBytes(32).toString('hex');
    const cluster = new LocalCluster({ dir: tmp, objects, secrets: { 'mnist-lr-token': { token } }, hosts: { [service.metadata.name]: '127.0.0.1' } });
    const coordinatorPort = jobTemplate.spec.containers[0]!.ports!.find((p) => p.name === servicePort.targetPort)!.containerPort;
    // The processes listen on their containerPort, and the workers dial the Service's port: with
    // no kube-proxy in between, the two must be the same number (they are in the base).
    expect(servicePort.port).toBe(coordinatorPort);
    if (!(await portFree(coordinatorPort))) throw new Error(`port ${coordinatorPort}, the coordinator's containerPort, is in use on this machine; free it and run this test again`);

    const base = `http://127.0.0.1:${coordinatorPort}`;
    const status = async (): Promise<Status | undefined> => {
      try {
        const res = await fetch(`${base}/status`, { headers: { authorization: `Bearer ${token}` } });
        return res.ok ? statusSchema.parse(await res.json()) : undefined;
      } catch {
        return undefined;
      }
    };
    /** Waits, up to `ms`, until the coordinator's /status satisfies `until`; returns that status. */
    const reach = async (until: (s: Status) => boolean, what: string, ms = 120_000): Promise<Status> => {
      const deadline = Date.now() + ms;
      for (;;) {
        const s = await status();
        if (s && until(s)) return s;
        if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last status: ${JSON.stringify(s && { state: s.state, progress: s.progress })}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const connected = (s: Status): number => s.workers.filter((w) => w.state === 'connected').length;

    const coordinators: Pod[] = [];
    const workers = new Replicas(cluster, deployment);
    try {
      // The Job's first pod.
      const first = cluster.start(jobTemplate, `${job.metadata.name}-a1b2c`);
      coordinators.push(first);
      await first.started();
      const firstWatch = first.watch(250);
      expect(first.output()).toContain('--resume: no checkpoint at');
      // Waiting for its workers is ready (a Service routes to ready pods only), and a probe,
      // which carries no token, is told readiness and nothing else.
      await reach((s) => s.state === 'waiting', 'the coordinator to wait for workers');
      expect(await first.probe('readinessProbe')).toEqual({ ok: true, status: 200, body: 'ready' });
      expect(await first.probe('livenessProbe')).toEqual({ ok: true, status: 200, body: 'ok' });
      const noToken = await fetch(`${base}/status`);
      expect(noToken.status).toBe(401);

      // The Deployment's replicas.
      const replicas = (deployment.spec as { replicas: number }).replicas;
      expect(replicas).toBe(2);
      await workers.scale(replicas);
      const training = await reach((s) => s.state === 'training' && connected(s) === 2, 'training with 2 workers');
      // Each worker is named after its pod ($(POD_NAME) from the downward API).
      expect(training.workers.map((w) => w.label).sort()).toEqual(workers.pods.map((p) => p.name).sort());

      // A worker pod deleted mid-run: it leaves at once with its coded reason; a new pod replaces it.
      await reach((s) => s.progress.epoch >= 2, 'epoch 2');
      const leaving = workers.pods[0]!;
      const { exit: left, replacement } = await workers.delete(leaving);
      expect(left, leaving.output()).toEqual({ code: 0, signal: null });
      expect(leaving.output()).toMatch(/worker: stopped by SIGTERM; left the run after \d+ slices/);
      await reach((s) => s.workers.some((w) => w.label === leaving.name && w.state === 'gone' && w.reason === 'WORKER_SHUTDOWN'), 'the coordinator to see the worker leave');
      expect(first.output()).toContain(`(${leaving.name}) left: [WORKER_SHUTDOWN]`);
      await reach((s) => s.workers.some((w) => w.label === replacement.name && w.state === 'connected'), 'the replacement to join');

      // The coordinator's pod deleted mid-run: it checkpoints and exits 130 within its grace period.
      const before = await reach((s) => s.progress.epoch >= 4, 'epoch 4');
      // (A terminating pod is taken out of its Service's endpoints: its probes end here.)
      const firstSeen = await firstWatch.stop();
      const stopped = await first.terminate();
      expect(stopped, first.output()).toEqual({ code: 130, signal: null });
      expect(first.output()).toMatch(/error \[INTERRUPTED\]: interrupted by SIGTERM at epoch \d+\/15, step \d+\/600; its checkpoint holds that point/);
      expect(firstSeen.livenessFailuresInARow).toBeLessThan(jobTemplate.spec.containers[0]!.livenessProbe!.failureThreshold!);
      expect(firstSeen.readiness.length).toBeGreaterThan(0);
      expect(firstSeen.readiness.every((r) => r.ok && r.body === 'ready'), JSON.stringify(firstSeen.readiness.filter((r) => !r.ok))).toBe(true);

      // The Job's pod failure policy ignores it: the next pod, the same template and args.
      expect(podFailureAction(job, jobTemplate.spec.containers[0]!.name, stopped.code!)).toBe('Ignore');
      const second = cluster.start(jobTemplate, `${job.metadata.name}-d3e4f`);
      coordinators.push(second);
      expect(second.command).toEqual(first.command);
      await second.started();
      const secondWatch = second.watch(250);
      expect(second.output()).toMatch(/resuming config_1 from .*config_1\.ckpt: epoch \d+\/15 at step \d+\/600/);

      // The workers reconnect by themselves; then 2 → 3 → 1.
      await reach((s) => s.state === 'training' && connected(s) === 2 && s.progress.epoch > before.progress.epoch, 'the workers to rejoin the resumed run');
      await reach((s) => s.progress.epoch >= 6, 'epoch 6');
      await workers.scale(3);
      await reach((s) => connected(s) === 3, '3 workers');
      await reach((s) => s.progress.epoch >= 9, 'epoch 9');
      const removed = workers.history.filter((p) => p.running).slice(1);
      const exits = await workers.scale(1);
      expect(exits).toEqual([{ code: 0, signal: null }, { code: 0, signal: null }]);
      for (const p of removed) expect(p.output()).toContain('worker: stopped by SIGTERM');
      const afterScale = await reach((s) => connected(s) === 1, '1 worker');
      expect(afterScale.state, 'the scale-down happened mid-run').toBe('training');
      expect(afterScale.counters.leaves.WORKER_SHUTDOWN).toBe(2);

      // The run completes: the Job's pod exits 0, the last worker with it.
      const done = await Promise.race([second.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the run did not finish:\n${second.output()}`)), 120_000))]);
      const secondSeen = await secondWatch.stop();
      expect(done, second.output()).toEqual({ code: 0, signal: null });
      expect(secondSeen.livenessFailuresInARow).toBeLessThan(jobTemplate.spec.containers[0]!.livenessProbe!.failureThreshold!);
      const last = workers.pods[0]!;
      expect(await last.exited).toEqual({ code: 0, signal: null });
      expect(last.output()).toContain('training is complete');

      // The model on the volume: the weights of one uninterrupted in-process run of the same config.
      const [file, text] = Object.entries(configMap.data)[0]!;
      const expected = weightsSha256((await train({ config: parseConfig(JSON.parse(text), file) })).weights);
      const model = join(cluster.claim('mnist-lr-outputs'), 'models/config_1.model.json');
      const evaluated = execFileSync(process.execPath, [CLI, 'eval', '--model', model], { encoding: 'utf8' });
      expect(evaluated).toContain(`\nweights sha256 ${expected}\n`);
      // The documented table of 15-epoch hashes says the same.
      expect(readFileSync(join(ROOT, 'docs/exactness.md'), 'utf8')).toContain(`| config_1 | \`${expected}\` |`);
    } finally {
      for (const c of coordinators) c.kill();
      workers.killAll();
    }
  }, 300_000);
});
