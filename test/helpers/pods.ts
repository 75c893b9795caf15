/**
 * Pods of rendered manifests run as local processes, as a kubelet would run them, without a
 * cluster (for test/kubernetes/contract.test.ts):
 *
 * - the container's command and args (the image's ENTRYPOINT, read from the Containerfile, when
 *   the pod gives no command; its `mnist-lr` is the built command line, tini only passes
 *   signals on), `$(VAR)` expanded from the container's env, fieldRefs included;
 * - volumes as folders: a Secret's or ConfigMap's keys as files, a PersistentVolumeClaim as one
 *   folder that outlives the pods that mount it; a path under a mountPath in an argument is
 *   that folder's path;
 * - the pod's network is this machine's: processes listen on their containerPorts as the args
 *   say, and Services' names resolve to 127.0.0.1 (service-dns.mjs, loaded with --import);
 * - probes as the kubelet sends them: HTTP GET of the path on the named port, no credentials,
 *   healthy on 200–399, within timeoutSeconds;
 * - termination: SIGTERM, then at most terminationGracePeriodSeconds before the kubelet would
 *   SIGKILL (here: the test fails);
 * - a Job's pod failure policy and a Deployment's replicas, for the controllers' part.
 *
 * Not emulated: users and security contexts, resource limits, read-only mounts, isolation.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { CLI, ROOT } from './cluster.js';
import type { KubeObject } from './kubernetes.js';

export interface Probe {
  httpGet: { path: string; port: string | number; scheme?: 'HTTP' | 'HTTPS' };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
}

export interface Container {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}

export interface PodSpec {
  containers: Container[];
  volumes?: {
    name: string;
    secret?: { secretName: string; defaultMode?: number; items?: { key: string; path: string }[] };
    configMap?: { name: string; items?: { key: string; path: string }[] };
    persistentVolumeClaim?: { claimName: string };
  }[];
  terminationGracePeriodSeconds?: number;
}

export interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: PodSpec;
}

export interface ProbeResult {
  ok: boolean;
  status?: number;
  body?: string;
  error?: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The image's ENTRYPOINT, as the Containerfile says, without tini (which only passes signals on). */
export function imageEntrypoint(): string[] {
  const line = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Containerfile'), 'utf8'))?.[1];
  if (!line) throw new Error('Containerfile: no ENTRYPOINT in exec form');
  const entry = JSON.parse(line) as string[];
  return entry[0] === 'tini' && entry[1] === '--' ? entry.slice(2) : entry;
}

const PRELOAD = pathToFileURL(join(ROOT, 'test/helpers/service-dns.mjs')).href;

/** A namespace's worth of objects, with the Secrets the user would create, run on this machine. */
export class LocalCluster {
  private readonly claims = new Map<string, string>();

  constructor(
    private readonly options: {
      /** Scratch space: the pods' folders and the volumes. */
      dir: string;
      /** The rendered objects (ConfigMaps are read from them). */
      objects: readonly KubeObject[];
      /** Secrets by name: key → value, as `kubectl create secret generic` would make them. */
      secrets: Record<string, Record<string, string>>;
      /** Service names and the address they resolve to. */
      hosts: Record<string, string>;
    },
  ) {}

  /** Starts a pod of `template` named `name`: its one container as a process. */
  start(template: PodTemplate, name: string): Pod {
    const spec = template.spec;
    if (spec.containers.length !== 1) throw new Error(`pod ${name}: one container expected, got ${spec.containers.length}`);
    const container = spec.containers[0]!;
    const root = join(this.options.dir, 'pods', name);
    const mounts = (container.volumeMounts ?? []).map((m) => ({ mountPath: m.mountPath, dir: this.volume(spec, m.name, join(root, 'volumes', m.name)) }));
    mounts.sort((a, b) => b.mountPath.length - a.mountPath.length);
    const onHost = (value: string): string => {
      const m = mounts.find((x) => value === x.mountPath || value.startsWith(`${x.mountPath}/`));
      return m ? m.dir + value.slice(m.mountPath.length) : value;
    };
    const env: Record<string, string> = {};
    for (const e of container.env ?? []) {
      const field = e.valueFrom?.fieldRef?.fieldPath;
      if (e.value !== undefined) env[e.name] = expand(e.value, env);
      else if (field === 'metadata.name') env[e.name] = name;
      else if (field === 'metadata.namespace') env[e.name] = 'default';
      else throw new Error(`pod ${name}: env ${e.name} comes from something not emulated here`);
    }
    const command = [...(container.command ?? imageEntrypoint()), ...(container.args ?? []).map((a) => expand(a, env))];
    if (command[0] !== 'mnist-lr') throw new Error(`pod ${name}: runs ${command[0]}, which is not emulated here (only the image's mnist-lr)`);
    const cwd = join(root, 'workdir');
    mkdirSync(cwd, { recursive: true });
    const child = spawn(process.execPath, [CLI, ...command.slice(1).map(onHost)], {
      cwd,
      env: {
        PATH: dirname(process.execPath),
        HOME: cwd,
        NODE_OPTIONS: `--import=${PRELOAD}`,
        MNIST_LR_TEST_HOSTS: JSON.stringify(this.options.hosts),
        ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, onHost(v)])),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Pod(name, child, container, spec.terminationGracePeriodSeconds ?? 30, command);
  }

  /** The folder a volume of the pod is: files for a Secret's or ConfigMap's keys, the claim's folder. */
  private volume(spec: PodSpec, name: string, dir: string): string {
    const v = spec.volumes?.find((x) => x.name === name);
    if (!v) throw new Error(`volume ${name} is mounted but not declared`);
    if (v.persistentVolumeClaim) {
      const claim = v.persistentVolumeClaim.claimName;
      if (!this.options.objects.some((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === claim)) throw new Error(`no PersistentVolumeClaim ${claim}`);
      if (!this.claims.has(claim)) {
        const path = join(this.options.dir, 'claims', claim);
        mkdirSync(path, { recursive: true });
        this.claims.set(claim, path);
      }
      return this.claims.get(claim)!;
    }
    let data: Record<string, string> | undefined;
    let items: { key: string; path: string }[] | undefined;
    let mode = 0o644;
    if (v.secret) {
      data = this.options.secrets[v.secret.secretName];
      if (!data) throw new Error(`Secret ${v.secret.secretName} does not exist: the pod would not start`);
      items = v.secret.items;
      mode = v.secret.defaultMode ?? mode;
    } else if (v.configMap) {
      const map = this.options.objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === v.configMap!.name);
      if (!map) throw new Error(`ConfigMap ${v.configMap.name} was not rendered`);
      data = (map as unknown as { data: Record<string, string> }).data;
      items = v.configMap.items;
    } else throw new Error(`volume ${name}: only Secrets, ConfigMaps and claims are emulated`);
    mkdirSync(dir, { recursive: true });
    for (const { key, path } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
      if (data[key] === undefined) throw new Error(`volume ${name}: no key ${key}`);
      writeFileSync(join(dir, path), data[key]!);
      chmodSync(join(dir, path), mode);
    }
    return dir;
  }

  /** A claim's folder, as a pod mounting it sees it (after a pod wrote to it). */
  claim(name: string): string {
    const dir = this.claims.get(name);
    if (!dir) throw new Error(`no pod has mounted claim ${name}`);
    return dir;
  }
}

/** `$(VAR)` from the container's env, `$$` an escaped dollar, as the kubelet expands arguments. */
function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string | undefined) => (name === undefined ? '$' : (env[name] ?? whole)));
}

/** One pod's process. */
export class Pod {
  private text = '';
  readonly exited: Promise<Exit>;
  private exit: Exit | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    readonly container: Container,
    /** terminationGracePeriodSeconds of the pod. */
    readonly graceSeconds: number,
    /** What the container runs, as it sees it: `$(VAR)` expanded, paths inside its mounts. */
    readonly command: string[],
  ) {
    child.stdout!.on('data', (d: Buffer) => (this.text += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.text += d.toString()));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  /** Everything the container printed so far. */
  output(): string {
    return this.text;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** A container port by name or number. */
  port(port: string | number): number {
    if (typeof port === 'number') return port;
    const p = this.container.ports?.find((x) => x.name === port);
    if (!p) throw new Error(`pod ${this.name}: no container port named ${port}`);
    return p.containerPort;
  }

  /** One probe, as the kubelet sends it. */
  probe(kind: 'startupProbe' | 'livenessProbe' | 'readinessProbe'): Promise<ProbeResult> {
    const probe = this.container[kind];
    if (!probe) throw new Error(`pod ${this.name} has no ${kind}`);
    const https = probe.httpGet.scheme === 'HTTPS';
    return new Promise((resolve) => {
      const req = (https ? httpsRequest : httpRequest)(
        {
          host: '127.0.0.1',
          port: this.port(probe.httpGet.port),
          path: probe.httpGet.path,
          headers: { 'user-agent': 'kube-probe/1.32', accept: '*/*' },
          timeout: (probe.timeoutSeconds ?? 1) * 1000,
          // The kubelet does not verify a probe's certificate.
          ...(https ? { rejectUnauthorized: false } : {}),
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ ok: res.statusCode! >= 200 && res.statusCode! < 400, status: res.statusCode, body: body.trim() }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${probe.timeoutSeconds ?? 1} s`)));
      req.on('error', (e) => resolve({ ok: false, error: e.message }));
      req.end();
    });
  }

  /**
   * Waits for the startup probe to succeed, within its budget (failureThreshold × periodSeconds;
   * asked more often than that here, which only makes the wait shorter).
   */
  async started(): Promise<void> {
    const probe = this.container.startupProbe;
    if (!probe) return;
    const until = Date.now() + (probe.failureThreshold ?? 3) * (probe.periodSeconds ?? 10) * 1000;
    let last: ProbeResult = { ok: false };
    while (Date.now() < until && this.running) {
      last = await this.probe('startupProbe');
      if (last.ok) return;
      await sleep(50);
    }
    throw new Error(`pod ${this.name}: the startup probe did not succeed (${last.error ?? last.status}); output:\n${this.text}`);
  }

  /**
   * Probes liveness and readiness every `everyMs` (more often than the manifest asks: stricter)
   * until the process exits. `stop()` ends the watch and returns what it saw.
   */
  watch(everyMs = 100): { stop: () => Promise<{ livenessFailuresInARow: number; readiness: ProbeResult[] }> } {
    let worst = 0;
    let inARow = 0;
    const readiness: ProbeResult[] = [];
    let stopped = false;
    const loop = (async () => {
      while (!stopped && this.running) {
        const [live, ready] = await Promise.all([this.probe('livenessProbe'), this.probe('readinessProbe')]);
        if (!this.running) break;
        inARow = live.ok ? 0 : inARow + 1;
        worst = Math.max(worst, inARow);
        readiness.push(ready);
        await sleep(everyMs);
      }
    })();
    return {
      stop: async () => {
        stopped = true;
        await loop;
        return { livenessFailuresInARow: worst, readiness };
      },
    };
  }

  /**
   * Deletes the pod as the kubelet does: SIGTERM, then terminationGracePeriodSeconds before a
   * SIGKILL, which here fails the test instead.
   */
  async terminate(): Promise<Exit> {
    if (!this.running) return this.exit!;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.graceSeconds * 1000)));
    const outcome = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.child.kill('SIGKILL');
      throw new Error(`pod ${this.name} did not exit within its grace period of ${this.graceSeconds} s after SIGTERM; output:\n${this.text}`);
    }
    return outcome;
  }

  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}

/** What a Job's podFailurePolicy does with a pod whose container exited with `code`. */
export function podFailureAction(job: KubeObject, container: string, code: number): 'Ignore' | 'FailJob' | 'FailIndex' | 'Count' {
  const rules = (job.spec as { podFailurePolicy?: { rules: { action: 'Ignore' | 'FailJob' | 'FailIndex' | 'Count'; onExitCodes?: { containerName?: string; operator: 'In' | 'NotIn'; values: number[] } }[] } }).podFailurePolicy?.rules ?? [];
  for (const rule of rules) {
    const on = rule.onExitCodes;
    if (!on || (on.containerName !== undefined && on.containerName !== container)) continue;
    if (on.operator === 'In' ? on.values.includes(code) : !on.values.includes(code)) return rule.action;
  }
  return 'Count';
}

/** A Deployment's pods: scaled up by starting pods, down by deleting the newest. */
export class Replicas {
  readonly pods: Pod[] = [];
  /** Every pod it ever started. */
  readonly history: Pod[] = [];
  private readonly hash = randomBytes(5).toString('hex').slice(0, 9);

  constructor(
    private readonly cluster: LocalCluster,
    private readonly deployment: KubeObject,
  ) {}

  private get template(): PodTemplate {
    return (this.deployment.spec as { template: PodTemplate }).template;
  }

  private add(): Pod {
    const pod = this.cluster.start(this.template, `${this.deployment.metadata.name}-${this.hash}-${randomBytes(3).toString('hex').slice(0, 5)}`);
    this.pods.push(pod);
    this.history.push(pod);
    return pod;
  }

  /** `kubectl scale --replicas=n`: returns the exits of the pods it deleted. */
  async scale(n: number): Promise<Exit[]> {
    while (this.pods.length < n) this.add();
    const removed = this.pods.splice(n);
    return Promise.all(removed.map((p) => p.terminate()));
  }

  /** A pod deleted (a node drained, `kubectl delete pod`): it gets SIGTERM, and a new pod replaces it. */
  async delete(pod: Pod): Promise<{ exit: Exit; replacement: Pod }> {
    const i = this.pods.indexOf(pod);
    if (i < 0) throw new Error(`${pod.name} is not one of the Deployment's pods`);
    this.pods.splice(i, 1);
    // The ReplicaSet counts a terminating pod out at once and starts its replacement.
    const replacement = this.add();
    return { exit: await pod.terminate(), replacement };
  }

  killAll(): void {
    for (const p of this.history) p.kill();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
