// Each rendered Deployment's container environment as its pod would see it (the workload identity webhook's
// variables added, secretKeyRef values given a value of the right shape), parsed with that service's own config
// schema, as the service does at start. Shared by the chart tests and the deployment guide's test.
import { createRequestAuthenticator } from '../../shared/src/auth/http-auth.ts';
import { type ConfigDefinition, parseConfig, type VarSpec, type VarSpecs } from '../../shared/src/config/define.ts';
import { type Container, type Manifest, ofKind } from './chart-fixture.ts';

const configs = new Map<string, ConfigDefinition<VarSpecs>>();
async function configOf(service: string): Promise<ConfigDefinition<VarSpecs>> {
  let config = configs.get(service);
  if (!config) {
    const mod = (await import(`../../shared/src/config/services/${service}.ts`)) as {
      config: ConfigDefinition<VarSpecs>;
    };
    config = mod.config;
    configs.set(service, config);
  }
  return config;
}

// Read by Node itself, not by a service's config.
// Read by Node, or by the CLI in the pod (LOGFERRY_SERVICE: `config check`'s default service), not the service.
const RUNTIME_VARS = new Set(['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'LOGFERRY_SERVICE']);

/** What the AKS workload identity webhook adds to a pod labelled azure.workload.identity/use=true. */
function webhookEnv(sa: Manifest | undefined): Record<string, string> {
  const annotations = sa?.metadata.annotations ?? {};
  return {
    AZURE_CLIENT_ID: annotations['azure.workload.identity/client-id'] ?? '11111111-1111-1111-1111-111111111111',
    // Without the annotation the webhook uses the cluster's tenant.
    AZURE_TENANT_ID: annotations['azure.workload.identity/tenant-id'] ?? '99999999-9999-9999-9999-999999999999',
    AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token',
    AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com/',
  };
}

/** A variable from a secretKeyRef is present at runtime; its value is unknown, so use one of the right shape. */
function secretValue(spec: VarSpec | undefined): string {
  const candidates = [
    spec?.example,
    'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/',
    'a-value-from-a-kubernetes-secret',
  ].filter((c): c is string => c !== undefined);
  return candidates.find((c) => spec?.schema.safeParse(c).success) ?? candidates.at(-1)!;
}

export interface ServiceEnv {
  service: string;
  deployment: Manifest;
  container: Container;
  env: Record<string, string>;
  parsed: Record<string, unknown> | undefined;
  problems: string[];
}

/**
 * Each Deployment's container environment as the pod would see it, parsed with that service's config schema
 * (as the service does at start, exit 78 on failure); blob-scanner also builds its request authenticator,
 * which refuses to start without a usable method.
 */
export async function serviceEnvs(docs: Manifest[]): Promise<ServiceEnv[]> {
  const sa = ofKind(docs, 'ServiceAccount')[0];
  const out: ServiceEnv[] = [];
  for (const deployment of ofKind(docs, 'Deployment')) {
    const pod = deployment.spec!.template!;
    const container = pod.spec.containers[0]!;
    const service = container.args?.[0] ?? '';
    const config = await configOf(service);
    const problems: string[] = [];
    const env = pod.metadata.labels['azure.workload.identity/use'] === 'true' ? webhookEnv(sa) : {};
    const seen = new Set<string>();
    for (const e of container.env ?? []) {
      if (seen.has(e.name)) problems.push(`${e.name} is set twice (the later one wins, silently)`);
      seen.add(e.name);
      if (e.valueFrom?.secretKeyRef) env[e.name] = secretValue(config.vars[e.name]);
      else if (e.valueFrom) problems.push(`${e.name}: only value and secretKeyRef are modelled`);
      else env[e.name] = e.value ?? '';
    }
    const known = new Set(Object.entries(config.vars).flatMap(([k, v]) => [k, ...(v.aliases ?? [])]));
    for (const name of seen) {
      if (!known.has(name) && !RUNTIME_VARS.has(name)) problems.push(`${name} is not a variable ${service} reads`);
    }
    let parsed: Record<string, unknown> | undefined;
    try {
      parsed = parseConfig(config, env) as Record<string, unknown>;
    } catch (err) {
      problems.push((err as Error).message);
    }
    if (parsed && service === 'blob-scanner') {
      try {
        createRequestAuthenticator({
          tenantId: parsed.AUTH_TENANT_ID as string | undefined,
          audience: parsed.AUTH_AUDIENCE as string[] | undefined,
          requiredRole: parsed.AUTH_REQUIRED_ROLE as string | undefined,
          requiredScope: parsed.AUTH_REQUIRED_SCOPE as string | undefined,
          apiKey: parsed.STATUS_API_KEY as string | undefined,
          localMode: parsed.LOGFERRY_LOCAL as boolean,
          listenHost: parsed.HTTP_HOST as string,
        });
      } catch (err) {
        problems.push(`status API: ${(err as Error).message}`);
      }
    }
    out.push({ service, deployment, container, env, parsed, problems });
  }
  return out;
}
