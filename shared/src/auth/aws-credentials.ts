import { fromNodeProviderChain, fromWebToken } from '@aws-sdk/credential-providers';
import type { TokenCredential } from '@azure/core-auth';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Logger } from '../logging/logger.ts';

export type { AwsCredentialIdentity, AwsCredentialIdentityProvider };

/** The AWS settings the credential provider reads (a subset of awsVars; any service config carrying them fits). */
export interface AwsCredentialsConfig {
  readonly AWS_REGION: string;
  readonly AWS_ROLE_ARN?: string | undefined;
  readonly AWS_WEB_IDENTITY_AUDIENCE: string;
  readonly AWS_ROLE_SESSION_NAME: string;
  readonly AWS_ROLE_SESSION_DURATION_SECONDS: number;
  readonly AWS_ENDPOINT_URL_STS?: string | undefined;
}

export interface AwsCredentialOptions {
  readonly logger?: Logger;
  /** Refresh this long before expiry (capped at half the credentials' lifetime). Default 5 minutes. */
  readonly refreshMarginMs?: number;
}

const DEFAULT_MARGIN_MS = 5 * 60_000;

/**
 * AWS credentials for the AWS-facing services. With AWS_ROLE_ARN: an Azure token (workload or
 * managed identity) for the configured audience is exchanged with STS AssumeRoleWithWebIdentity,
 * so no AWS key is ever stored; the result is cached and refreshed before it expires, with one
 * refresh shared by concurrent callers. Without it: the standard AWS chain (local use, IRSA, keys).
 */
export function createAwsCredentialProvider(
  config: AwsCredentialsConfig,
  azureCredential?: TokenCredential,
  options: AwsCredentialOptions = {},
): AwsCredentialIdentityProvider {
  if (!config.AWS_ROLE_ARN) {
    return fromNodeProviderChain({ clientConfig: { region: config.AWS_REGION } });
  }
  if (!azureCredential) {
    throw new Error('AWS_ROLE_ARN is set but no Azure credential is available to obtain a web identity token');
  }
  return webIdentityProvider(config, config.AWS_ROLE_ARN, azureCredential, options);
}

function webIdentityProvider(
  config: AwsCredentialsConfig,
  roleArn: string,
  azure: TokenCredential,
  options: AwsCredentialOptions,
): AwsCredentialIdentityProvider {
  const scope = toScope(config.AWS_WEB_IDENTITY_AUDIENCE);
  const marginMs = options.refreshMarginMs ?? DEFAULT_MARGIN_MS;
  const log = options.logger;
  let cached: { creds: AwsCredentialIdentity; refreshAt: number } | undefined;
  let inflight: Promise<AwsCredentialIdentity> | undefined;

  async function exchange(): Promise<AwsCredentialIdentity> {
    const startedAt = Date.now();
    let token: string;
    try {
      const t = await azure.getToken(scope);
      if (!t?.token) throw new Error('no token returned');
      token = t.token;
    } catch (err) {
      throw new Error(`Azure token for AWS web identity (scope ${scope}) unavailable: ${describe(err)}`);
    }
    let creds: AwsCredentialIdentity;
    try {
      creds = await fromWebToken({
        roleArn,
        roleSessionName: config.AWS_ROLE_SESSION_NAME,
        webIdentityToken: token,
        durationSeconds: config.AWS_ROLE_SESSION_DURATION_SECONDS,
        clientConfig: {
          region: config.AWS_REGION,
          ...(config.AWS_ENDPOINT_URL_STS ? { endpoint: config.AWS_ENDPOINT_URL_STS } : {}),
        },
      })();
    } catch (err) {
      // STS error messages name the problem, never the token; describe() keeps only name and message.
      throw new Error(`STS AssumeRoleWithWebIdentity for ${roleArn} failed: ${describe(err)}`);
    }
    const expiresAt = creds.expiration?.getTime() ?? Number.POSITIVE_INFINITY;
    const lifetime = expiresAt - startedAt;
    const refreshAt = expiresAt - Math.min(marginMs, lifetime / 2);
    cached = { creds, refreshAt };
    log?.info({ roleArn, expiration: creds.expiration?.toISOString() }, 'assumed AWS role with web identity');
    return creds;
  }

  return async () => {
    const now = Date.now();
    if (cached && now < cached.refreshAt) return cached.creds;
    if (!inflight) {
      inflight = exchange().finally(() => {
        inflight = undefined;
      });
    }
    try {
      return await inflight;
    } catch (err) {
      // Inside the refresh margin the old credentials still work: keep serving them while STS or Entra is down.
      const still = cached?.creds;
      if (still?.expiration && still.expiration.getTime() > Date.now()) {
        log?.warn({ roleArn, err: describe(err) }, 'AWS credential refresh failed; using current credentials');
        return still;
      }
      throw err;
    }
  };
}

function toScope(audience: string): string {
  return audience.endsWith('/.default') ? audience : `${audience.replace(/\/+$/, '')}/.default`;
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
