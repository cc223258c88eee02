#!/usr/bin/env node
// Validates rendered Kubernetes manifests offline, in two passes over the kubernetes-models packages (the
// Kubernetes API's and the Prometheus Operator CRDs' schemas, shipped compiled and as TypeScript types):
//   deploy/k8s/render.sh production | node scripts/validate-k8s-manifests.mjs
// 1. JSON schema: types, required fields, enums (each model's validate()).
// 2. Unknown fields: the schemas allow any extra field (so would the API server, dropping it), which hides a
//    misspelt optional field (`replica: 3`, `protocl: TCP`); each resource is type-checked as an object
//    literal of its TypeScript interface, whose excess-property check names the first unknown field.
// Prints one line per resource (ok, or its problems) and exits 1 when any is invalid or of a kind it has no
// schema for. ESM because kubernetes-models is ESM-only (Jest runs this as a process).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import ts from 'typescript';
import * as kubernetes from 'kubernetes-models';
import * as prometheusOperator from '@kubernetes-models/prometheus-operator';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function groupVersion(apiVersion) {
  return apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
}

/** apiVersion → its models' module: `apps/v1` → kubernetes.apps.v1, `v1` → kubernetes.v1. */
function modelsFor(apiVersion) {
  const [group, version] = groupVersion(apiVersion);
  if (group === 'monitoring.coreos.com') return prometheusOperator.monitoringCoreosCom?.[version];
  if (group === '') return kubernetes[version];
  const key = group.replace(/\.([a-z])/g, (_, c) => c.toUpperCase()).replace(/\./g, '');
  return kubernetes[key]?.[version];
}

/** The module declaring a kind's TypeScript interface (`I<Kind>`). */
function typesModule(apiVersion, kind) {
  const [group, version] = groupVersion(apiVersion);
  if (group === 'monitoring.coreos.com') return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`;
  return group === '' ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
}

/** Pass 2: each resource as `const mN: I<Kind> = {...}` in one in-memory TypeScript file; diagnostics per resource. */
function unknownFields(resources) {
  const problems = new Map();
  if (resources.length === 0) return problems;
  const imports = resources.map(({ manifest }, i) => `import type { I${manifest.kind} as T${i} } from '${typesModule(manifest.apiVersion, manifest.kind)}';`);
  const literals = resources.map(({ manifest }, i) => `export const m${i}: T${i} = ${JSON.stringify(manifest)};`);
  const file = join(root, '__validate_k8s_manifests__.ts');
  const source = [...imports, ...literals].join('\n');
  const options = { noEmit: true, strict: true, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, target: ts.ScriptTarget.ES2022, types: [], skipLibCheck: true };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists } = host;
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile.call(host, name, language, ...rest));
  host.fileExists = (name) => name === file || fileExists.call(host, name);
  for (const diagnostic of ts.getPreEmitDiagnostics(ts.createProgram([file], options, host))) {
    const line = diagnostic.file ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line : -1;
    const index = line >= imports.length ? resources[line - imports.length].index : line >= 0 ? resources[line].index : -1;
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ').replace(/\s+/g, ' ');
    problems.set(index, [...(problems.get(index) ?? []), message]);
  }
  return problems;
}

const manifests = loadAll(readFileSync(process.argv[2] ?? 0, 'utf8')).filter((m) => m != null);
const problems = manifests.map(() => []);
const typed = [];
manifests.forEach((manifest, index) => {
  const Model = modelsFor(String(manifest.apiVersion ?? ''))?.[manifest.kind];
  if (!Model) {
    problems[index].push('no schema for this apiVersion and kind');
    return;
  }
  typed.push({ manifest, index });
  try {
    new Model(manifest).validate();
  } catch (error) {
    const details = (error.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
    problems[index].push(...(details.length ? details : [error.message]));
  }
});
for (const [index, messages] of unknownFields(typed)) {
  if (index >= 0) problems[index].push(...messages);
  else problems.push([`TypeScript: ${messages.join('; ')}`]);
}
manifests.forEach((manifest, index) => {
  const id = `${manifest.apiVersion}/${manifest.kind} ${manifest.metadata?.name ?? '(no name)'}`;
  console.log(`${id}: ${problems[index].length ? problems[index].join('; ') : 'ok'}`);
});
for (const extra of problems.slice(manifests.length)) console.log(extra.join('; '));
process.exit(problems.some((p) => p.length > 0) ? 1 : 0);
