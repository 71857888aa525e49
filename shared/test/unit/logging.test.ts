import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createLogger } from '../../src/logging/logger.ts';
import {
  clearRegisteredSecrets,
  registerSecretValues,
  scrubExternalText,
  scrubString,
} from '../../src/logging/redact.ts';

// Real-looking (but fake) secrets in the formats the pipeline handles.
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const STORAGE_CS = `DefaultEndpointsProtocol=https;AccountName=prodlogs;AccountKey=${ACCOUNT_KEY};EndpointSuffix=core.windows.net`;
const SB_KEY = 'dGhpc2lzbm90YXJlYWxrZXlidXRsb29rc2xpa2VvbmU9PQ1234567=';
const SB_CS = `Endpoint=sb://prod-bus.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=${SB_KEY}`;
const SAS_SIG = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdoaWo%3D';
const SAS_URL = `https://prodlogs.blob.core.windows.net/data/x.csv?sv=2022-11-02&ss=b&srt=o&sp=r&se=2030-01-01&sig=${SAS_SIG}`;
const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJhcGk6Ly9BenVyZUFEVG9rZW5FeGNoYW5nZSIsInN1YiI6Im1lIn0.c2lnbmF0dXJlLXBhcnQtb2YtdGhlLWp3dC10b2tlbg';
const AWS_KEY_ID = 'ASIAY34FZKBOKMUTVV7A';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AWS_SESSION = 'IQoJb3JpZ2luX2VjEPr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6bH';
const CLIENT_SECRET = 'Qx8Q~abcDEF.ghiJKLmnoPQRstuVWXyz0123456789';
const PASSWORD = 'hunter2-correct-horse';

const ALL_SECRETS = [ACCOUNT_KEY, SB_KEY, SAS_SIG, JWT, AWS_KEY_ID, AWS_SECRET, AWS_SESSION, CLIENT_SECRET, PASSWORD];

function capture(): { lines: () => Record<string, unknown>[]; text: () => string; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(String(chunk));
      cb();
    },
  });
  return {
    stream,
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.length > 0)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

function assertNoSecrets(text: string): void {
  for (const s of ALL_SECRETS) assert.ok(!text.includes(s), `leaked ${s.slice(0, 12)}… in ${text}`);
}

describe('createLogger redaction', () => {
  afterEach(() => clearRegisteredSecrets());

  it('scrubs secrets from messages, error messages, stacks, causes and nested objects', () => {
    const out = capture();
    const log = createLogger('test', { level: 'debug', destination: out.stream });
    const cause = new Error(`storage refused ${STORAGE_CS}`);
    const err = new Error(`connect failed for ${SB_CS}`, { cause });
    Object.assign(err, { request: { url: SAS_URL, headers: { authorization: `Bearer ${JWT}` } } });
    log.error({ err }, `could not reach ${SAS_URL}`);
    log.info(
      {
        aws: { accessKeyId: AWS_KEY_ID, secretAccessKey: AWS_SECRET, sessionToken: AWS_SESSION },
        nested: { deeper: [{ password: PASSWORD }, `APPLICATION_SECRET=${CLIENT_SECRET}`] },
        client_secret: CLIENT_SECRET,
        text: `the key ${AWS_KEY_ID} and token ${JWT}`,
      },
      'credentials loaded',
    );
    log.warn(`sts said <SecretAccessKey>${AWS_SECRET}</SecretAccessKey><SessionToken>${AWS_SESSION}</SessionToken>`);
    log.info(`header Authorization: Bearer ${JWT} and {"password":"${PASSWORD}"}`);
    const child = log.child({ conn: SB_CS });
    child.info('child line');
    log.error(new Error(`AccountKey=${ACCOUNT_KEY}`));
    const text = out.text();
    assertNoSecrets(text);
    const lines = out.lines();
    assert.equal(lines.length, 6);
    // Useful, non-secret context survives.
    assert.match(text, /prod-bus\.servicebus\.windows\.net/);
    assert.match(text, /AccountName=prodlogs/);
    assert.match(text, /sp=r/);
    const first = lines[0] as { err: { message: string; cause: { message: string }; type: string } };
    assert.equal(first.err.type, 'Error');
    assert.match(first.err.message, /SharedAccessKey=\[REDACTED\]/);
    assert.match(first.err.cause.message, /AccountKey=\[REDACTED\]/);
    assert.equal(lines[5]?.msg, 'AccountKey=[REDACTED]');
  });

  it('scrubs registered secret values that match no pattern', () => {
    const out = capture();
    const log = createLogger('test', { level: 'info', destination: out.stream });
    registerSecretValues(['plainsecretvalue42', 'short']);
    log.info({ note: 'value is plainsecretvalue42' }, 'and again plainsecretvalue42');
    assert.equal(out.lines().length, 1);
    assert.ok(!out.text().includes('plainsecretvalue42'));
    assert.equal(scrubString('short stays'), 'short stays');
  });

  it('adds trace_id and span_id of the active span', () => {
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    try {
      const tracer = new BasicTracerProvider().getTracer('test');
      const out = capture();
      const log = createLogger('test', { level: 'info', destination: out.stream });
      log.info('outside');
      tracer.startActiveSpan('work', (span) => {
        log.info('inside');
        span.end();
        const [outside, inside] = out.lines();
        assert.equal(outside?.trace_id, undefined);
        assert.equal(inside?.trace_id, span.spanContext().traceId);
        assert.equal(inside?.span_id, span.spanContext().spanId);
      });
    } finally {
      context.disable();
      trace.disable();
    }
  });
});

describe('scrubString', () => {
  it('keeps ordinary text intact', () => {
    const text = 'processed 10 records from s3://bucket/key.gz in 12 ms (lockToken=5f1c…)';
    assert.equal(scrubString(text), text);
  });
  it('handles JSON-escaped secrets inside a serialized line', () => {
    const line = JSON.stringify({ msg: JSON.stringify({ client_secret: CLIENT_SECRET, url: SAS_URL }) });
    const scrubbed = scrubString(line);
    assert.ok(!scrubbed.includes(CLIENT_SECRET));
    assert.ok(!scrubbed.includes(SAS_SIG));
    JSON.parse(scrubbed);
  });
  it('scrubs URL passwords and SAS tokens in Service Bus form', () => {
    const s = scrubString(
      `amqps://user:${PASSWORD}@host/ SharedAccessSignature sr=amqp%3A%2F%2Fbus&sig=${SAS_SIG}&se=1&skn=root`,
    );
    assert.ok(!s.includes(PASSWORD));
    assert.ok(!s.includes(SAS_SIG));
  });
});

describe('scrubString on the forms the attack run found missing', () => {
  it('scrubs a SAS signature percent-encoded inside another URL, once or twice', () => {
    const once = `https://portal.example/redirect?to=${encodeURIComponent(SAS_URL)}&x=1`;
    const twice = `https://login.example/?next=${encodeURIComponent(once)}`;
    for (const text of [once, twice]) {
      const s = scrubString(text);
      assert.ok(!s.includes(SAS_SIG) && !s.includes(encodeURIComponent(SAS_SIG)), s);
      assert.ok(!s.includes(encodeURIComponent(encodeURIComponent(SAS_SIG))), s);
      // The rest of the outer URL survives: the match stops at the encoded `&`.
      assert.match(s, /sp%(25)?3Dr/);
    }
  });
  it('scrubs a Kusto connection string application key (and its short form)', () => {
    const key = 'kP9~q2Zr.sEcReT-aPpLiCaTiOn-KeY_1234';
    for (const cs of [
      `Data Source=https://c.kusto.windows.net;Application Client Id=abc;Application Key=${key};Authority Id=t`,
      `Data Source=https://c.kusto.windows.net;AppClientId=abc;AppKey=${key}`,
    ]) {
      const s = scrubString(`ingestion failed for ${cs}`);
      assert.ok(!s.includes(key), s);
      assert.match(s, /Authority Id=t|AppClientId=abc/);
    }
  });
});

describe('scrubExternalText', () => {
  it('scrubs, then cuts to the limit with a marker', () => {
    const details = `Failed to download blob: ${SAS_URL} ${'x'.repeat(5000)}`;
    const s = scrubExternalText(details, 200);
    assert.ok(s.length <= 200, `length ${s.length}`);
    assert.ok(!s.includes(SAS_SIG));
    assert.match(s, /\[truncated\]$/);
    assert.equal(scrubExternalText('short and clean', 200), 'short and clean');
  });
  it('never leaves part of a secret visible when the cut falls inside it', () => {
    for (let cut = 40; cut < SAS_URL.length + 20; cut += 7) {
      const s = scrubExternalText(SAS_URL, cut);
      assert.ok(!s.includes(SAS_SIG.slice(0, 10)), `cut ${cut}: ${s}`);
    }
  });
});
