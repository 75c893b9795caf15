/**
 * The Kubernetes manifests in deploy/kubernetes as a cluster would get them: every kustomization
 * rendered by the kustomize that kubectl carries, and each object checked against the API's
 * schemas offline, two ways:
 *
 * - kubernetes-models' validate(): the API's OpenAPI schemas compiled to validators (types,
 *   required fields, formats). These schemas allow unknown fields, so `replica: 2` passes;
 * - TypeScript's excess-property check: each object becomes a typed literal (`const o: IDeployment
 *   = {...}`) of the interfaces generated from the same schemas, and the compiler refuses any
 *   field the schema does not list, at any depth.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

import ts from 'typescript';
import { parseAllDocuments } from 'yaml';

import { ROOT } from './cli.js';

export const DEPLOY = join(ROOT, 'deploy/kubernetes');

/** A rendered Kubernetes object. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Every folder under deploy/kubernetes holding a kustomization.yaml, relative to it. */
export function kustomizations(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (existsSync(join(dir, 'kustomization.yaml'))) found.push(relative(DEPLOY, dir) || '.');
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
    }
  };
  walk(DEPLOY);
  return found.sort();
}

let checkedKubectl = false;

/**
 * `kubectl kustomize` of a folder under deploy/kubernetes (or an absolute one). Without kubectl
 * this throws, rather than skipping: the machines this project runs its tests on have it.
 */
export function render(dir: string): KubeObject[] {
  if (!checkedKubectl) {
    try {
      execFileSync('kubectl', ['version', '--client'], { stdio: 'pipe' });
    } catch (e) {
      throw new Error(`these tests render the manifests with \`kubectl kustomize\`, and kubectl could not be run (${(e as Error).message}); install kubectl (it carries kustomize) and run them again`);
    }
    checkedKubectl = true;
  }
  const yaml = execFileSync('kubectl', ['kustomize', dir.startsWith('/') ? dir : join(DEPLOY, dir)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return parseAllDocuments(yaml).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`kubectl kustomize ${dir} printed invalid YAML: ${doc.errors[0]!.message}`);
    return doc.toJS() as KubeObject;
  });
}

/** `Kind/name` of an object, for messages. */
export function id(o: KubeObject): string {
  return `${o.kind}/${o.metadata.name}`;
}

/** Where the generated model of an API version and kind lives: `kubernetes-models/apps/v1/Deployment`. */
function modelModule(o: KubeObject): string {
  const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : ['', o.apiVersion];
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/${o.apiVersion}/${o.kind}`;
  return `kubernetes-models/${group ? `${group}/` : ''}${version}/${o.kind}`;
}

/** The API schema's verdict on each object: a list of "Kind/name: path message" (empty: valid). */
export async function schemaErrors(objects: readonly KubeObject[]): Promise<string[]> {
  const errors: string[] = [];
  for (const o of objects) {
    let model: Record<string, new (data: unknown) => { validate(): void }>;
    try {
      model = (await import(modelModule(o))) as typeof model;
    } catch {
      errors.push(`${id(o)}: no schema for ${o.apiVersion} ${o.kind} (${modelModule(o)})`);
      continue;
    }
    try {
      new model[o.kind]!(o).validate();
    } catch (e) {
      errors.push(`${id(o)}: ${(e as Error).message}`);
    }
  }
  return errors;
}

/**
 * The TypeScript compiler's verdict on each object written as a literal of its API type: a list
 * of "Kind/name: message" (empty: every field is one the schema lists, with the right type).
 */
export function typeErrors(objects: readonly KubeObject[]): string[] {
  const file = join(ROOT, 'test/kubernetes/__rendered-manifests__.ts');
  const lines: string[] = [];
  const owners: { from: number; object: KubeObject }[] = [];
  objects.forEach((o, i) => lines.push(`import type { I${o.kind} as T${i} } from '${modelModule(o)}';`));
  objects.forEach((o, i) => {
    owners.push({ from: lines.length, object: o });
    lines.push(...`export const o${i}: T${i} = ${JSON.stringify(o, null, 2)};`.split('\n'));
  });
  const source = lines.join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, skipLibCheck: true, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (name === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file?.fileName !== file || d.start === undefined) return text;
    const line = d.file.getLineAndCharacterOfPosition(d.start).line;
    const owner = [...owners].reverse().find((x) => x.from <= line);
    return `${owner ? id(owner.object) : 'imports'}: ${text} (at \`${lines[line]?.trim()}\`)`;
  });
}
