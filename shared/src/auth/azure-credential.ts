import type { TokenCredential } from '@azure/core-auth';
import {
  AzureCliCredential,
  ChainedTokenCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredentialOptions,
  WorkloadIdentityCredential,
} from '@azure/identity';
import type { AzureAuthConfig } from '../config/parts.ts';

export type AzureCredentialKind = 'workload-identity' | 'client-secret' | 'client-certificate' | 'managed-identity';

/**
 * Which credentials the configuration selects, in the order they are tried. Explicitly configured
 * methods come first (workload identity, then a service principal's secret or certificate); managed
 * identity is used only when none is configured, so a broken explicit setup fails loudly instead of
 * quietly authenticating as the node's identity. Safe to log: it names methods, never values.
 */
export function azureCredentialKinds(config: Partial<AzureAuthConfig>): AzureCredentialKind[] {
  const kinds: AzureCredentialKind[] = [];
  const principal = Boolean(config.AZURE_TENANT_ID && config.AZURE_CLIENT_ID);
  if (config.AZURE_FEDERATED_TOKEN_FILE && principal) kinds.push('workload-identity');
  if (config.AZURE_CLIENT_SECRET && principal) kinds.push('client-secret');
  if (config.AZURE_CLIENT_CERTIFICATE_PATH && principal) kinds.push('client-certificate');
  if (kinds.length === 0) kinds.push('managed-identity');
  return kinds;
}

/**
 * The TokenCredential for every Azure client of a service (Service Bus, Storage, Monitor, Kusto).
 * One credential per process: it caches tokens, so share it rather than creating one per client.
 */
export function createAzureCredential(
  config: Partial<AzureAuthConfig>,
  options: TokenCredentialOptions = {},
): TokenCredential {
  const opts: TokenCredentialOptions = config.AZURE_AUTHORITY_HOST
    ? { authorityHost: config.AZURE_AUTHORITY_HOST, ...options }
    : options;
  const tenantId = config.AZURE_TENANT_ID ?? '';
  const clientId = config.AZURE_CLIENT_ID ?? '';
  const build: Record<AzureCredentialKind, () => TokenCredential> = {
    'workload-identity': () =>
      new WorkloadIdentityCredential({
        ...opts,
        tenantId,
        clientId,
        tokenFilePath: config.AZURE_FEDERATED_TOKEN_FILE ?? '',
      }),
    'client-secret': () => new ClientSecretCredential(tenantId, clientId, config.AZURE_CLIENT_SECRET ?? '', opts),
    'client-certificate': () =>
      new ClientCertificateCredential(
        tenantId,
        clientId,
        { certificatePath: config.AZURE_CLIENT_CERTIFICATE_PATH ?? '' },
        opts,
      ),
    'managed-identity': () =>
      config.AZURE_CLIENT_ID
        ? new ManagedIdentityCredential({ ...opts, clientId: config.AZURE_CLIENT_ID })
        : new ManagedIdentityCredential(opts),
  };
  const credentials = azureCredentialKinds(config).map((kind) => build[kind]());
  const [only] = credentials;
  return credentials.length === 1 && only !== undefined ? only : new ChainedTokenCredential(...credentials);
}

/**
 * The process's one credential, built on first use: a service configured only with connection strings
 * (local stand-ins) never builds an identity it does not use.
 */
export function lazyAzureCredential(
  config: Partial<AzureAuthConfig>,
  create: (config: Partial<AzureAuthConfig>) => TokenCredential = createAzureCredential,
): () => TokenCredential {
  let credential: TokenCredential | undefined;
  return () => {
    credential ??= create(config);
    return credential;
  };
}

/**
 * The operator CLI's credential (`dlq`, `status`, `scan`, `backfill`). In a pod (KUBERNETES_SERVICE_HOST) or with
 * an identity configured explicitly, the same as a service's: managed or workload identity first, as FACTS.md
 * asks of anything running in the cluster. On a laptop with nothing configured, the operator's own `az login`
 * (AzureCliCredential) first, then managed identity (a jump host VM); so `dlq replay` against production needs
 * no service principal secret, only the operator's role assignments.
 */
export function createOperatorCredential(
  config: Partial<AzureAuthConfig>,
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: TokenCredentialOptions = {},
): TokenCredential {
  const explicit = azureCredentialKinds(config).some((k) => k !== 'managed-identity');
  if (explicit || env.KUBERNETES_SERVICE_HOST) return createAzureCredential(config, options);
  const cli = new AzureCliCredential(config.AZURE_TENANT_ID ? { tenantId: config.AZURE_TENANT_ID } : {});
  return new ChainedTokenCredential(cli, createAzureCredential(config, options));
}
