import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChainedTokenCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  WorkloadIdentityCredential,
} from '@azure/identity';
import { azureCredentialKinds, createAzureCredential, lazyAzureCredential } from '../../src/auth/azure-credential.ts';
import { defineConfig, parseConfig } from '../../src/config/define.ts';
import { azureAuthVars } from '../../src/config/parts.ts';
import { serviceBusConnection } from '../../src/transport/servicebus/connection.ts';

const principal = { AZURE_TENANT_ID: 'tenant-id', AZURE_CLIENT_ID: 'client-id' };

describe('createAzureCredential', () => {
  it('uses workload identity when AKS projected a token file', () => {
    const config = { ...principal, AZURE_FEDERATED_TOKEN_FILE: '/var/run/secrets/azure/tokens/azure-identity-token' };
    assert.deepEqual(azureCredentialKinds(config), ['workload-identity']);
    assert.ok(createAzureCredential(config) instanceof WorkloadIdentityCredential);
  });

  it("uses a service principal secret, also under the seeds' names", () => {
    const config = parseConfig(defineConfig('t', azureAuthVars), {
      AAD_TENANT_ID: 'tenant-id',
      APPLICATION_ID: 'client-id',
      APPLICATION_SECRET: 'not-a-real-secret',
    });
    assert.deepEqual(azureCredentialKinds(config), ['client-secret']);
    assert.ok(createAzureCredential(config) instanceof ClientSecretCredential);
  });

  it('uses a service principal certificate', () => {
    const config = { ...principal, AZURE_CLIENT_CERTIFICATE_PATH: '/etc/logferry/sp.pem' };
    assert.deepEqual(azureCredentialKinds(config), ['client-certificate']);
    assert.ok(createAzureCredential(config) instanceof ClientCertificateCredential);
  });

  it('falls back to managed identity, user-assigned when a client id is given', () => {
    assert.deepEqual(azureCredentialKinds({}), ['managed-identity']);
    assert.ok(createAzureCredential({}) instanceof ManagedIdentityCredential);
    assert.deepEqual(azureCredentialKinds({ AZURE_CLIENT_ID: 'uami-client-id' }), ['managed-identity']);
    assert.ok(createAzureCredential({ AZURE_CLIENT_ID: 'uami-client-id' }) instanceof ManagedIdentityCredential);
  });

  it('chains every configured method, workload identity first, without managed identity', () => {
    const config = {
      ...principal,
      AZURE_FEDERATED_TOKEN_FILE: '/token',
      AZURE_CLIENT_SECRET: 'not-a-real-secret',
      AZURE_CLIENT_CERTIFICATE_PATH: '/cert.pem',
    };
    assert.deepEqual(azureCredentialKinds(config), ['workload-identity', 'client-secret', 'client-certificate']);
    assert.ok(createAzureCredential(config) instanceof ChainedTokenCredential);
  });

  it('ignores a secret without its tenant (the config check reports it)', () => {
    assert.deepEqual(azureCredentialKinds({ AZURE_CLIENT_SECRET: 'x', AZURE_CLIENT_ID: 'c' }), ['managed-identity']);
  });
});

describe('lazyAzureCredential', () => {
  it('builds the one credential on first use and shares it', () => {
    let built = 0;
    const azure = lazyAzureCredential(principal, (config) => {
      built++;
      return createAzureCredential(config);
    });
    assert.equal(built, 0, 'nothing is built until a client asks');
    const first = azure();
    assert.equal(azure(), first);
    assert.equal(built, 1);
  });
});

describe('serviceBusConnection', () => {
  const never = () => {
    throw new Error('a connection string needs no Azure identity');
  };

  it('prefers the connection string and then builds no identity', () => {
    const cs = 'Endpoint=sb://localhost;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true';
    assert.deepEqual(serviceBusConnection({ SERVICEBUS_CONNECTION_STRING: cs }, never), { connectionString: cs });
  });

  it('uses the namespace with the Azure identity otherwise', () => {
    const credential = createAzureCredential(principal);
    const connection = serviceBusConnection({ SERVICEBUS_NAMESPACE: 'bus.servicebus.windows.net' }, () => credential);
    assert.deepEqual(connection, { fullyQualifiedNamespace: 'bus.servicebus.windows.net', credential });
    assert.throws(() => serviceBusConnection({}, () => credential), /SERVICEBUS_NAMESPACE is required/);
  });
});
