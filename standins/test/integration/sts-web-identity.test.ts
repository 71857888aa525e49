import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateQueueCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { createAwsCredentialProvider, createSqsClient } from '@logferry/shared/auth/aws-clients';
import { type FauxqsHandle, startFauxqsServer, waitUntil } from '@logferry/shared/testing';
import { type StsStandIn, startStsStandIn } from '../../src/index.ts';

const ROLE = 'arn:aws:iam::123456789012:role/logferry-reader';

function fakeJwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

/** Stands in for workload/managed identity: counts the scopes it was asked for. */
class FakeAzureCredential implements TokenCredential {
  readonly scopes: string[] = [];
  async getToken(scopes: string | string[]): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes.join(' ') : scopes;
    this.scopes.push(scope);
    const aud = scope.replace(/\/\.default$/, '');
    const exp = Math.floor(Date.now() / 1000) + 3600;
    return {
      token: fakeJwt({ sub: 'mi-object-id', aud, iss: 'https://login.microsoftonline.com/t/v2.0', exp }),
      expiresOnTimestamp: exp * 1000,
    };
  }
}

async function post(endpoint: string, form: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: res.status, text: await res.text() };
}

const baseConfig = {
  AWS_REGION: 'us-east-1',
  AWS_ROLE_ARN: ROLE,
  AWS_WEB_IDENTITY_AUDIENCE: 'api://AzureADTokenExchange',
  AWS_ROLE_SESSION_NAME: 'logferry-test',
  AWS_ROLE_SESSION_DURATION_SECONDS: 3600,
};

describe('STS stand-in', () => {
  let sts: StsStandIn;
  before(async () => {
    sts = await startStsStandIn();
  });
  after(() => sts.close());

  const valid = {
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: ROLE,
    RoleSessionName: 's1',
    WebIdentityToken: fakeJwt({ sub: 'x', aud: 'api://AzureADTokenExchange' }),
  };

  it('answers a valid request with AWS-shaped XML credentials', async () => {
    const r = await post(sts.endpoint, valid);
    assert.equal(r.status, 200);
    assert.match(
      r.text,
      /<AssumeRoleWithWebIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/,
    );
    assert.match(r.text, /<Credentials>[\s\S]*<AccessKeyId>ASIA[0-9A-F]{16}<\/AccessKeyId>[\s\S]*<\/Credentials>/);
    assert.match(r.text, /<Audience>api:\/\/AzureADTokenExchange<\/Audience>/);
  });

  it('refuses a token that is not a JWT with InvalidIdentityToken', async () => {
    const r = await post(sts.endpoint, { ...valid, WebIdentityToken: 'not-a-jwt' });
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>InvalidIdentityToken<\/Code>/);
    const empty = await post(sts.endpoint, { ...valid, WebIdentityToken: '' });
    assert.match(empty.text, /<Code>InvalidIdentityToken<\/Code>/);
  });

  it('refuses a malformed role ARN, session name or duration with ValidationError', async () => {
    const bads: Record<string, string>[] = [
      { RoleArn: 'arn:aws:iam::123:role/x' },
      { RoleSessionName: 'has space' },
      { DurationSeconds: '60' },
    ];
    for (const bad of bads) {
      const r = await post(sts.endpoint, { ...valid, ...bad });
      assert.equal(r.status, 400, JSON.stringify(bad));
      assert.match(r.text, /<ErrorResponse[\s\S]*<Code>ValidationError<\/Code>/);
    }
  });

  it('refuses other actions', async () => {
    const r = await post(sts.endpoint, { ...valid, Action: 'AssumeRole' });
    assert.equal(r.status, 400);
    assert.match(r.text, /<Code>InvalidAction<\/Code>/);
  });
});

describe('AWS web identity credentials from an Azure token', () => {
  let sts: StsStandIn;
  let fauxqs: FauxqsHandle;
  before(async () => {
    [sts, fauxqs] = await Promise.all([startStsStandIn({ durationSeconds: 2 }), startFauxqsServer()]);
  });
  after(async () => {
    await Promise.all([sts.close(), fauxqs.stop()]);
  });

  it('exchanges the token once for concurrent callers and refreshes before expiry', async () => {
    const azure = new FakeAzureCredential();
    const provider = createAwsCredentialProvider({ ...baseConfig, AWS_ENDPOINT_URL_STS: sts.endpoint }, azure);
    const [a, b, c] = await Promise.all([provider(), provider(), provider()]);
    assert.equal(sts.issued(), 1);
    assert.equal(a?.accessKeyId, b?.accessKeyId);
    assert.equal(a?.accessKeyId, c?.accessKeyId);
    assert.ok(a?.sessionToken);
    assert.deepEqual(azure.scopes, ['api://AzureADTokenExchange/.default']);
    assert.deepEqual(
      sts.issues().map((i) => [i.roleArn, i.sessionName, i.audience]),
      [[ROLE, 'logferry-test', 'api://AzureADTokenExchange']],
    );
    assert.equal((await provider()).accessKeyId, a?.accessKeyId, 'cached while fresh');

    // Lifetime is 2 s, so the provider refreshes within a second; wait on the STS count, not the clock.
    const next = await waitUntil(
      'refreshed credentials',
      async () => {
        const credentials = await provider();
        return credentials.accessKeyId !== a?.accessKeyId && credentials;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    assert.notEqual(next.accessKeyId, a?.accessKeyId, 'refreshed');
    // Before expiry: the second exchange happened while the first credentials were still valid.
    const second = sts.issues()[1];
    assert.ok(second && a?.expiration, 'a second exchange and an expiring first credential');
    assert.ok(
      second.issuedAt < a.expiration.getTime(),
      `refreshed ${second.issuedAt - a.expiration.getTime()} ms after expiry`,
    );
    assert.ok((next.expiration?.getTime() ?? 0) > Date.now(), 'never hands out expired credentials');
    assert.equal(azure.scopes.length, sts.issued(), 'a fresh Azure token per exchange');
  });

  it('signs real SQS calls with the assumed credentials', async () => {
    const provider = createAwsCredentialProvider(
      { ...baseConfig, AWS_ENDPOINT_URL_STS: sts.endpoint },
      new FakeAzureCredential(),
    );
    const before = sts.issued();
    const sqs = createSqsClient({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: fauxqs.endpoint }, provider);
    try {
      await sqs.send(new CreateQueueCommand({ QueueName: 'signed-by-web-identity' }));
      const listed = await sqs.send(new ListQueuesCommand({}));
      assert.ok(listed.QueueUrls?.some((u) => u.endsWith('/signed-by-web-identity')));
      assert.ok(sts.issued() > before, 'the SQS client obtained credentials through STS');
    } finally {
      sqs.destroy();
    }
  });

  it('reports an STS refusal without leaking the token', async () => {
    const azure: TokenCredential = {
      getToken: async () => ({ token: 'opaque-secret-token', expiresOnTimestamp: Date.now() + 60_000 }),
    };
    const provider = createAwsCredentialProvider({ ...baseConfig, AWS_ENDPOINT_URL_STS: sts.endpoint }, azure);
    await assert.rejects(provider(), (err: Error) => {
      assert.match(err.message, /InvalidIdentityToken/);
      assert.doesNotMatch(err.message, /opaque-secret-token/);
      return true;
    });
  });

  it('needs an Azure credential when a role is configured', () => {
    assert.throws(() => createAwsCredentialProvider(baseConfig), /AWS_ROLE_ARN is set/);
  });
});
