import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, defineConfig, defineVars, env, parseConfig, withChecks } from '../../src/config/define.ts';
import { EX_CONFIG, type LoadIo, loadConfigOrExit } from '../../src/config/load.ts';
import {
  azureAuthVars,
  consumerOptions,
  consumerVars,
  deriveTableUrl,
  healthVars,
  localModeVars,
  serviceBusVars,
  storageVars,
  telemetryVars,
} from '../../src/config/parts.ts';
import { clearRegisteredSecrets, scrubString } from '../../src/logging/redact.ts';

const SB_KEY = 'q1w2e3r4t5y6u7i8o9p0AbCdEfGhIjKlMnOpQrStUvW=';
const SB_CS = `Endpoint=sb://prod-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${SB_KEY}`;

const all = defineConfig(
  'svc',
  serviceBusVars,
  azureAuthVars,
  storageVars,
  telemetryVars,
  healthVars,
  consumerVars,
  localModeVars,
);
const minimal = {
  SERVICEBUS_NAMESPACE: 'prod-bus.servicebus.windows.net',
  STORAGE_ACCOUNT_URL: 'https://acct.blob.core.windows.net',
};

function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('shared config parts', () => {
  it("never prints a secret variable's value in another variable's error", () => {
    const client = 'Qx8Q~pastedIntoTheWrongVariable.0123456789';
    const problems = problemsOf(() =>
      parseConfig(all, {
        ...minimal,
        AZURE_TENANT_ID: 't',
        AZURE_CLIENT_ID: 'c',
        AZURE_CLIENT_SECRET: client,
        // Pasted where a URL belongs: invalid, and its value would be echoed.
        AZURE_AUTHORITY_HOST: client,
      }),
    );
    assert.ok(problems.some((p) => p.startsWith('AZURE_AUTHORITY_HOST is invalid')));
    for (const p of problems) assert.ok(!p.includes(client), p);
  });

  it('applies the documented defaults', () => {
    const c = parseConfig(all, minimal);
    assert.equal(c.HEALTH_PORT, 8080);
    assert.equal(c.SHUTDOWN_GRACE_MS, 25_000);
    assert.equal(c.LOG_LEVEL, 'info');
    assert.equal(c.STATUS_TABLE, 'logferrystatus');
    assert.equal(c.LOGFERRY_LOCAL, false);
    assert.deepEqual(consumerOptions(c), {
      concurrency: 4,
      maxAttempts: 8,
      backoff: { baseMs: 1000, maxMs: 300_000 },
      maxLockRenewalMs: 600_000,
      breaker: { threshold: 5, pauseBaseMs: 5_000, pauseMaxMs: 120_000 },
    });
  });

  it("accepts the seeds' names as aliases", () => {
    const c = parseConfig(all, {
      SERVICEBUS_CONNECTION_STRING: SB_CS,
      AzureStorage: 'UseDevelopmentStorage=true',
      AAD_TENANT_ID: 'tenant',
      APPLICATION_ID: 'app',
      APPLICATION_SECRET: 'shh-very-secret',
      STATUS_TABLE: 'customstatus',
      LOGFERRY_LOCAL: 'true',
    });
    assert.equal(c.AZURE_TENANT_ID, 'tenant');
    assert.equal(c.AZURE_CLIENT_ID, 'app');
    assert.equal(c.AZURE_CLIENT_SECRET, 'shh-very-secret');
    assert.equal(c.STORAGE_CONNECTION_STRING, 'UseDevelopmentStorage=true');
    assert.equal(c.STATUS_TABLE, 'customstatus');
    assert.equal(c.LOGFERRY_LOCAL, true);
  });

  it('requires one of the Service Bus and Storage alternatives, naming the variables', () => {
    const problems = problemsOf(() => parseConfig(all, {}));
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /SERVICEBUS_CONNECTION_STRING or SERVICEBUS_NAMESPACE/);
    assert.match(problems[1] ?? '', /STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_URL/);
  });

  it('rejects a namespace that is not fully qualified', () => {
    const problems = problemsOf(() => parseConfig(all, { ...minimal, SERVICEBUS_NAMESPACE: 'sb://prod-bus/' }));
    assert.match(problems[0] ?? '', /^SERVICEBUS_NAMESPACE is invalid: expected a fully qualified host name/);
  });

  it('checks pairs of Azure auth variables and the retry range', () => {
    const problems = problemsOf(() =>
      parseConfig(all, { ...minimal, APPLICATION_SECRET: 'x', RETRY_BASE_MS: '5000', RETRY_MAX_MS: '1000' }),
    );
    assert.equal(problems.length, 2);
    assert.match(problems[0] ?? '', /AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID, AZURE_CLIENT_ID are not/);
    assert.match(problems[1] ?? '', /RETRY_BASE_MS is larger than RETRY_MAX_MS/);
  });

  it('derives the table endpoint or asks for it', () => {
    assert.equal(deriveTableUrl('https://acct.blob.core.windows.net/'), 'https://acct.table.core.windows.net');
    assert.equal(deriveTableUrl('http://127.0.0.1:10000/devstoreaccount1'), undefined);
    const problems = problemsOf(() =>
      parseConfig(all, { ...minimal, STORAGE_ACCOUNT_URL: 'http://127.0.0.1:10000/devstoreaccount1' }),
    );
    assert.match(problems[0] ?? '', /^STORAGE_TABLE_URL is required/);
  });

  it('runs checks added by a service', () => {
    const def = withChecks(defineConfig('svc', defineVars({ A: { schema: env.int(), description: 'a' } })), {
      description: 'A is even',
      check: (c) => ((c.A as number) % 2 === 0 ? [] : ['A must be even']),
    });
    assert.deepEqual(
      problemsOf(() => parseConfig(def, { A: '3' })),
      ['A must be even'],
    );
    assert.equal(parseConfig(def, { A: '4' }).A, 4);
  });
});

describe('loadConfigOrExit', () => {
  function run(envVars: Record<string, string>): { lines: string[]; code: number | undefined } {
    const lines: string[] = [];
    let code: number | undefined;
    const io: LoadIo = {
      stderr: (l) => lines.push(l),
      exit: (c) => {
        code = c;
        throw new Error('exited');
      },
    };
    try {
      loadConfigOrExit(all, envVars, io);
    } catch (err) {
      if ((err as Error).message !== 'exited') throw err;
    }
    return { lines, code };
  }

  it('prints one line per problem and exits 78, never echoing a secret', () => {
    const { lines, code } = run({
      // A connection string pasted into a non-secret variable, and a bad secret variable.
      SERVICEBUS_NAMESPACE: SB_CS,
      APPLICATIONINSIGHTS_CONNECTION_STRING: `not-a-conn-string;SharedAccessKey=${SB_KEY}`,
      STORAGE_ACCOUNT_URL: 'https://acct.blob.core.windows.net',
      HEALTH_PORT: '99999',
    });
    assert.equal(code, EX_CONFIG);
    assert.equal(lines.length, 3);
    for (const line of lines) {
      assert.ok(!line.includes('\n'));
      assert.ok(line.startsWith('svc: configuration error: '));
      assert.ok(!line.includes(SB_KEY), `leaked the key: ${line}`);
      assert.ok(!line.includes('    at '), 'no stack');
    }
    assert.match(lines[0] ?? '', /SERVICEBUS_NAMESPACE is invalid/);
    assert.match(lines[1] ?? '', /APPLICATIONINSIGHTS_CONNECTION_STRING is invalid/);
    assert.match(lines[2] ?? '', /HEALTH_PORT is invalid.*"99999"/);
  });

  it('returns the config and registers its secrets with the log scrubber', () => {
    try {
      const c = loadConfigOrExit(all, {
        SERVICEBUS_CONNECTION_STRING: SB_CS,
        AzureStorage: 'UseDevelopmentStorage=true',
      });
      assert.equal(c.SERVICEBUS_CONNECTION_STRING, SB_CS);
      assert.ok(!scrubString(`key was ${SB_KEY}`).includes(SB_KEY));
    } finally {
      clearRegisteredSecrets();
    }
  });
});
