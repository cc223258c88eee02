#!/usr/bin/env node
// Validates rendered Kubernetes manifests offline against the JSON schemas of the Kubernetes API and the
// Prometheus Operator CRDs that ship (compiled) in the kubernetes-models packages:
//   deploy/k8s/render.sh production | node scripts/validate-k8s-manifests.mjs
// Prints one line per resource (ok, or each schema error with its path) and exits 1 when any is invalid or
// of a kind it has no schema for. ESM because kubernetes-models is ESM-only (Jest runs this as a process).
import { readFileSync } from 'node:fs';
import { loadAll } from 'js-yaml';
import * as kubernetes from 'kubernetes-models';
import * as prometheusOperator from '@kubernetes-models/prometheus-operator';

/** apiVersion → its models' module: `apps/v1` → kubernetes.apps.v1, `v1` → kubernetes.v1. */
function modelsFor(apiVersion) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'monitoring.coreos.com') return prometheusOperator.monitoringCoreosCom?.[version];
  if (group === '') return kubernetes[version];
  const key = group.replace(/\.([a-z])/g, (_, c) => c.toUpperCase()).replace(/\./g, '');
  return kubernetes[key]?.[version];
}

const text = readFileSync(process.argv[2] ?? 0, 'utf8');
let failures = 0;
for (const manifest of loadAll(text)) {
  if (manifest == null) continue;
  const id = `${manifest.apiVersion}/${manifest.kind} ${manifest.metadata?.name ?? '(no name)'}`;
  const Model = modelsFor(String(manifest.apiVersion ?? ''))?.[manifest.kind];
  if (!Model) {
    failures++;
    console.log(`${id}: no schema for this apiVersion and kind`);
    continue;
  }
  try {
    new Model(manifest).validate();
    console.log(`${id}: ok`);
  } catch (error) {
    failures++;
    const details = (error.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    console.log(`${id}: ${details || error.message}`);
  }
}
process.exit(failures > 0 ? 1 : 0);
