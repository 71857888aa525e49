// A rendered manifest checked as the Kubernetes API server would before storing it: the OpenAPI schema of its
// kind (kubernetes-models), KEDA's API types for keda.sh objects (@kubernetes-models/keda), and the name and label
// rules apimachinery applies that OpenAPI does not state, and strict field validation (./kube-fields.ts).
// Returns the problems found, [] when valid.
import assert from 'node:assert/strict';
import type { Manifest } from './chart-fixture.ts';
import { unknownFields } from './kube-fields.ts';

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

const modelSpecifier = (apiVersion: string, kind: string) =>
  apiVersion === 'keda.sh/v1alpha1'
    ? `@kubernetes-models/keda/keda.sh/v1alpha1/${kind}`
    : `kubernetes-models/${apiVersion}/${kind}`;

/** The model class for an apiVersion and kind (kubernetes-models, or KEDA's for keda.sh/v1alpha1). */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
  const module = await import(modelSpecifier(apiVersion, kind));
  const model = (module as Record<string, unknown>)[kind];
  assert.equal(typeof model, 'function', `no model for ${apiVersion} ${kind}`);
  return model as ModelClass;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** apimachinery's name and label validation (IsDNS1123Label/Subdomain, IsQualifiedName, IsValidLabelValue). */
function apimachineryProblems(m: Manifest): string[] {
  const problems: string[] = [];
  const name = m.metadata.name;
  // Services need an RFC 1035 label; the other kinds here take a DNS subdomain.
  if (
    m.kind === 'Service'
      ? !(DNS_LABEL.test(name) && name.length <= 63 && /^[a-z]/.test(name))
      : !(DNS_SUBDOMAIN.test(name) && name.length <= 253)
  ) {
    problems.push(`name ${name}`);
  }
  const labelSets = [
    m.metadata.labels ?? {},
    m.spec?.template?.metadata.labels ?? {},
    m.spec?.selector?.matchLabels ?? {},
  ];
  for (const labels of labelSets) {
    for (const [k, v] of Object.entries(labels)) {
      const local = k.split('/').pop() ?? '';
      if (!LABEL_KEY.test(k) || local.length > 63) problems.push(`label key ${k}`);
      if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63) problems.push(`label ${k}=${String(v)}`);
    }
  }
  return problems;
}

export async function kubeProblems(m: Manifest): Promise<string[]> {
  const Model = await modelFor(m.apiVersion, m.kind);
  const problems = [...apimachineryProblems(m), ...unknownFields(m, modelSpecifier(m.apiVersion, m.kind))];
  try {
    new Model(m).validate();
  } catch (err) {
    problems.push((err as Error).message);
  }
  return problems;
}
