/**
 * The manifests in deploy/kubernetes, rendered by `kubectl kustomize` as `kubectl apply -k`
 * renders them, and checked offline against the Kubernetes API's schemas (helpers/kubernetes.ts):
 * every object of every kustomization is valid, a misspelt field anywhere fails, and the objects
 * fit together the way the coordinator and the workers need (labels, the Service, the token as a
 * file, the Job's restarts, probes, resources, TLS).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { ROOT } from '../helpers/cli.js';

import { id, kustomizations, render, schemaErrors, typeErrors, type KubeObject } from '../helpers/kubernetes.js';
import type { Container as PodContainer, PodSpec as RunnablePodSpec, PodTemplate as RunnablePodTemplate } from '../helpers/pods.js';

// The pod shapes helpers/pods.ts runs, with the fields a local run ignores but the manifests must
// state all the same.
interface Container extends PodContainer {
  image?: string;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}
interface PodSpec extends Omit<RunnablePodSpec, 'containers'> {
  containers: Container[];
  restartPolicy?: string;
}
interface PodTemplate extends Omit<RunnablePodTemplate, 'spec'> {
  spec: PodSpec;
}

const RECOMMENDED = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/component', 'app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by'];

const rendered = new Map<string, KubeObject[]>();
beforeAll(() => {
  for (const k of kustomizations()) rendered.set(k, render(k));
});

const find = (objects: KubeObject[], kind: string): KubeObject => {
  const o = objects.find((x) => x.kind === kind);
  if (!o) throw new Error(`no ${kind} rendered`);
  return o;
};
const template = (o: KubeObject): PodTemplate => (o.spec as { template: PodTemplate }).template;
const only = (o: KubeObject): Container => template(o).spec.containers[0]!;
/** The value following `flag` in a container's args. */
const arg = (c: Container, flag: string): string | undefined => {
  const i = (c.args ?? []).indexOf(flag);
  return i < 0 ? undefined : c.args![i + 1];
};
/** Kubernetes quantities in base units: "250m" → 0.25, "128Mi" → 134217728. */
const quantity = (q: string): number => {
  const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi)?$/.exec(q);
  if (!m) throw new Error(`unexpected quantity ${q}`);
  const scale = { m: 1e-3, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[m[2] ?? ''] ?? 1;
  return Number(m[1]) * scale;
};

describe('deploy/kubernetes, rendered and checked against the API schemas', () => {
  it('has the base, the TLS and Prometheus Operator overlays and the outputs reader', () => {
    expect([...rendered.keys()]).toEqual(['base', 'outputs-reader', 'overlays/prometheus-operator', 'overlays/tls']);
    expect(find(rendered.get('base')!, 'Job').metadata.name).toBe('mnist-lr-coordinator');
  });

  it('every object of every kustomization is valid by the schema and lists no field the schema does not', async () => {
    const all = [...rendered.values()].flat();
    expect(await schemaErrors(all)).toEqual([]);
    expect(typeErrors(all)).toEqual([]);
  });

  it('a misspelt or mistyped field fails, at any depth; the schema validator alone lets misspellings through', async () => {
    const base = structuredClone(rendered.get('base')!);
    const deployment = find(base, 'Deployment');
    const spec = deployment.spec as Record<string, unknown>;
    spec.replica = spec.replicas;
    delete spec.replicas;
    (template(find(base, 'Job')).spec as unknown as Record<string, unknown>).terminationGracePeriodSecond = 30;
    // The compiler reports the first unknown field of an object: one typo per object.
    const tlsJob = structuredClone(find(rendered.get('overlays/tls')!, 'Job'));
    const probe = only(tlsJob).readinessProbe!.httpGet as Record<string, unknown>;
    probe.pth = probe.path;
    const monitor = structuredClone(find(rendered.get('overlays/prometheus-operator')!, 'ServiceMonitor'));
    (monitor.spec as Record<string, unknown>).endpoint = (monitor.spec as Record<string, unknown>).endpoints;
    const typos = [...base, tlsJob, monitor];

    // What kubernetes-models' validate() says: nothing. The API's schemas allow unknown fields.
    expect(await schemaErrors(typos)).toEqual([]);
    const errors = typeErrors(typos);
    expect(errors).toHaveLength(4);
    expect(errors.find((e) => e.includes('"replica"'))).toMatch(/^Deployment\/mnist-lr-worker: .*'"replica"' does not exist in type 'IDeploymentSpec'/);
    expect(errors.find((e) => e.includes('"terminationGracePeriodSecond"'))).toMatch(/^Job\/mnist-lr-coordinator: .*does not exist in type 'IPodSpec'/);
    expect(errors.find((e) => e.includes('"pth"'))).toMatch(/^Job\/mnist-lr-coordinator: .*does not exist in type 'IHTTPGetAction'/);
    expect(errors.find((e) => e.includes('"endpoint"'))).toMatch(/^ServiceMonitor\/mnist-lr-coordinator: /);

    // A wrong type is caught by both.
    const wrong = structuredClone(rendered.get('base')!);
    (find(wrong, 'Deployment').spec as Record<string, unknown>).replicas = '2';
    expect(await schemaErrors(wrong)).toEqual([expect.stringMatching(/^Deployment\/mnist-lr-worker: .*replicas must be integer/)]);
    expect(typeErrors(wrong)).toEqual([expect.stringMatching(/^Deployment\/mnist-lr-worker: Type 'string' is not assignable to type 'number'/)]);
  });
});

describe('how the objects fit together', () => {
  it("carry Kubernetes' recommended labels, every object and every pod template", () => {
    for (const [k, objects] of rendered) {
      for (const o of objects) {
        for (const label of RECOMMENDED) expect(o.metadata.labels?.[label], `${k}: ${id(o)} ${label}`).toBeTruthy();
        if (o.kind === 'Job' || o.kind === 'Deployment') {
          for (const label of RECOMMENDED) expect(template(o).metadata.labels[label], `${k}: ${id(o)}'s pod template ${label}`).toBeTruthy();
        }
      }
    }
  });

  it('the token is a Secret the user makes, never rendered, and reaches each process as a file', () => {
    for (const [k, objects] of rendered) {
      expect(objects.filter((o) => o.kind === 'Secret'), k).toEqual([]);
      for (const o of objects.filter((x) => x.kind === 'Job' || x.kind === 'Deployment')) {
        const c = only(o);
        expect(c.env?.some((e) => e.name === 'MNIST_LR_TOKEN'), id(o)).toBeFalsy();
        const file = arg(c, '--token-file')!;
        const mount = c.volumeMounts!.find((m) => file.startsWith(`${m.mountPath}/`))!;
        const volume = template(o).spec.volumes!.find((v) => v.name === mount.name)!;
        expect([volume.secret?.secretName, file.slice(mount.mountPath.length + 1)], `${k}: ${id(o)}`).toEqual(['mnist-lr-token', 'token']);
      }
    }
  });

  it("the ConfigMap's config is the repository's configs/config_1.json, which the coordinator is told to train", () => {
    const map = find(rendered.get('base')!, 'ConfigMap') as KubeObject & { data: Record<string, string> };
    expect(Object.keys(map.data)).toEqual(['config_1.json']);
    expect(JSON.parse(map.data['config_1.json']!)).toEqual(JSON.parse(readFileSync(join(ROOT, 'configs/config_1.json'), 'utf8')));
    const c = only(find(rendered.get('base')!, 'Job'));
    const mount = c.volumeMounts!.find((m) => arg(c, '--config')!.startsWith(`${m.mountPath}/`))!;
    expect(arg(c, '--config')).toBe(`${mount.mountPath}/config_1.json`);
    expect(template(find(rendered.get('base')!, 'Job')).spec.volumes!.find((v) => v.name === mount.name)).toMatchObject({ configMap: { name: map.metadata.name } });
  });

  it('the coordinator is a Job of one pod that resumes every time and is not failed by SIGTERM or a preemption', () => {
    const job = find(rendered.get('base')!, 'Job');
    const spec = job.spec as { completions: number; parallelism: number; podFailurePolicy: { rules: { action: string; onExitCodes?: { containerName: string; operator: string; values: number[] }; onPodConditions?: { type: string }[] }[] } };
    expect([spec.completions, spec.parallelism]).toEqual([1, 1]);
    const pod = template(job).spec;
    expect(pod.restartPolicy).toBe('Never');
    const c = only(job);
    expect(c.args?.[0]).toBe('coordinator');
    expect(c.args).toContain('--resume');
    expect(arg(c, '--host')).toBe('0.0.0.0');
    const outputs = c.volumeMounts!.find((m) => m.mountPath === arg(c, '--out'))!;
    expect(pod.volumes!.find((v) => v.name === outputs.name)).toMatchObject({ persistentVolumeClaim: { claimName: 'mnist-lr-outputs' } });
    const ignored = spec.podFailurePolicy.rules.filter((r) => r.action === 'Ignore');
    expect(ignored.flatMap((r) => r.onPodConditions?.map((p) => p.type) ?? [])).toContain('DisruptionTarget');
    expect(ignored.find((r) => r.onExitCodes?.values.includes(130))?.onExitCodes).toMatchObject({ containerName: c.name, operator: 'In' });
  });

  it("the Service selects the coordinator's pod only, on its named port; the workers and the ServiceMonitor find it by name and port", () => {
    const base = rendered.get('base')!;
    const service = find(base, 'Service');
    const { selector, ports } = service.spec as { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] };
    const labelsOf = (o: KubeObject): Record<string, string> => template(o).metadata.labels;
    const selects = (labels: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(selects(labelsOf(find(base, 'Job')))).toBe(true);
    expect(selects(labelsOf(find(base, 'Deployment')))).toBe(false);
    const coordinator = only(find(base, 'Job'));
    const port = coordinator.ports!.find((p) => p.name === ports[0]!.targetPort)!;
    expect(arg(coordinator, '--port')).toBe(String(port.containerPort));
    expect(arg(only(find(base, 'Deployment')), '--connect')).toBe(`ws://${service.metadata.name}:${ports[0]!.port}`);
    for (const probe of [coordinator.startupProbe, coordinator.livenessProbe, coordinator.readinessProbe]) expect(probe?.httpGet?.port).toBe(port.name);
    expect([coordinator.livenessProbe?.httpGet?.path, coordinator.readinessProbe?.httpGet?.path]).toEqual(['/healthz', '/readyz']);

    const monitor = find(rendered.get('overlays/prometheus-operator')!, 'ServiceMonitor');
    const m = monitor.spec as { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string; authorization: { credentials: { name: string; key: string } } }[] };
    expect(Object.entries(m.selector.matchLabels).every(([k, v]) => service.metadata.labels?.[k] === v)).toBe(true);
    expect(m.endpoints[0]).toMatchObject({ port: ports[0]!.name, path: '/metrics', authorization: { credentials: { name: 'mnist-lr-token', key: 'token' } } });
    expect(service.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port.containerPort), 'prometheus.io/path': '/metrics' });
  });

  it('one image serves both roles; every container has requests and limits, limits at least the requests', () => {
    for (const [k, objects] of rendered) {
      const pods = objects.flatMap((o) => (o.kind === 'Pod' ? [(o.spec as PodSpec).containers] : o.kind === 'Job' || o.kind === 'Deployment' ? [template(o).spec.containers] : []));
      for (const c of pods.flat()) {
        expect(c.image, `${k}: ${c.name}`).toBe('mnist-lr:0.1.0');
        for (const r of ['cpu', 'memory']) {
          const request = c.resources?.requests?.[r];
          const limit = c.resources?.limits?.[r];
          expect(request && limit, `${k}: ${c.name} ${r}`).toBeTruthy();
          expect(quantity(limit!), `${k}: ${c.name} ${r}`).toBeGreaterThanOrEqual(quantity(request!));
        }
      }
    }
  });

  it('the TLS overlay: wss:// with the CA for workers (never the key), a certificate and key for the coordinator, probes over HTTPS', () => {
    const tls = rendered.get('overlays/tls')!;
    const coordinator = only(find(tls, 'Job'));
    const worker = only(find(tls, 'Deployment'));
    expect(arg(worker, '--connect')).toBe('wss://mnist-lr-coordinator:7070');
    expect([arg(coordinator, '--tls-cert'), arg(coordinator, '--tls-key'), arg(worker, '--ca')]).toEqual(['/etc/mnist-lr/tls/tls.crt', '/etc/mnist-lr/tls/tls.key', '/etc/mnist-lr/tls/ca.crt']);
    const workerTls = template(find(tls, 'Deployment')).spec.volumes!.find((v) => v.secret?.secretName === 'mnist-lr-tls')!;
    expect(workerTls.secret!.items!.map((i) => i.key)).toEqual(['ca.crt']);
    for (const probe of [coordinator.startupProbe, coordinator.livenessProbe, coordinator.readinessProbe]) expect(probe?.httpGet?.scheme).toBe('HTTPS');
  });
});
