import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsVars } from '../../src/config/aws-parts.ts';
import { ConfigError, defineConfig, parseConfig } from '../../src/config/define.ts';
import { config as sqsPoller } from '../../src/config/services/sqs-poller.ts';

const aws = defineConfig('aws', awsVars);

describe('AWS configuration', () => {
  it('has safe defaults and reads the seeds’ bucket name', () => {
    const c = parseConfig(aws, { AWS_REGION: 'eu-west-1', C42_bucket_name: 'code42-logs' });
    assert.deepEqual(c.S3_ALLOWED_BUCKETS, ['code42-logs']);
    assert.deepEqual(c.S3_ALLOWED_PREFIXES, []);
    assert.equal(c.AWS_WEB_IDENTITY_AUDIENCE, 'api://AzureADTokenExchange');
    assert.equal(c.AWS_ROLE_ARN, undefined);
    assert.equal(c.AWS_S3_FORCE_PATH_STYLE, false);
  });

  it('requires an allow-list: no bucket and no routes file means a configuration error, not "read anything"', () => {
    assert.throws(
      () => parseConfig(aws, { AWS_REGION: 'eu-west-1' }),
      (e: ConfigError) => {
        assert.ok(e.problems.some((p) => p.startsWith('S3_ALLOWED_BUCKETS (alias C42_bucket_name) must name')));
        return true;
      },
    );
    assert.throws(() => parseConfig(aws, { AWS_REGION: 'eu-west-1', S3_ALLOWED_BUCKETS: ' , ' }), ConfigError);
    const routed = parseConfig(aws, { AWS_REGION: 'eu-west-1', ROUTES_FILE: '/etc/logferry/routes.json' });
    assert.deepEqual(routed.S3_ALLOWED_BUCKETS, [], 'the routes are the allow-list');
    assert.throws(() => parseConfig(aws, { AWS_REGION: 'eu-west-1', S3_ALLOWED_BUCKETS: 'Bad_Bucket' }), ConfigError);
  });

  it('fails closed on a degenerate prefix list: "," or blanks are an error, never "any key"', () => {
    const base = { AWS_REGION: 'eu-west-1', S3_ALLOWED_BUCKETS: 'b-1' };
    for (const bad of [',', ' ', ' , ', 'incydr/,', ',audit/', 'incydr/,,audit/']) {
      assert.throws(
        () => parseConfig(aws, { ...base, S3_ALLOWED_PREFIXES: bad }),
        (e: ConfigError) => e.problems.some((p) => p.startsWith('S3_ALLOWED_PREFIXES is invalid: has a blank entry')),
        JSON.stringify(bad),
      );
    }
    assert.deepEqual(parseConfig(aws, { ...base, S3_ALLOWED_PREFIXES: 'incydr/, audit/' }).S3_ALLOWED_PREFIXES, [
      'incydr/',
      'audit/',
    ]);
    assert.throws(() => parseConfig(aws, { AWS_REGION: 'eu-west-1', S3_ALLOWED_BUCKETS: 'b-1,' }), ConfigError);
  });

  it('refuses endpoint URLs that carry credentials', () => {
    const base = { AWS_REGION: 'eu-west-1', S3_ALLOWED_BUCKETS: 'b-1' };
    const problems = (() => {
      try {
        parseConfig(aws, { ...base, AWS_ENDPOINT_URL: 'https://admin:hunter2-xyz@s3.example.com' });
      } catch (e) {
        return (e as ConfigError).problems;
      }
      return [];
    })();
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /AWS_ENDPOINT_URL is invalid: must not carry credentials/);
    assert.ok(!problems[0]?.includes('hunter2-xyz'), problems[0]);
  });

  it('validates the role ARN', () => {
    const base = { AWS_REGION: 'eu-west-1', S3_ALLOWED_BUCKETS: 'b-1' };
    assert.equal(
      parseConfig(aws, { ...base, AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/path/reader' }).AWS_ROLE_ARN,
      'arn:aws:iam::123456789012:role/path/reader',
    );
    assert.throws(
      () => parseConfig(aws, { ...base, AWS_ROLE_ARN: 'arn:aws:iam::1234:role/x' }),
      /AWS_ROLE_ARN is invalid/,
    );
  });

  it('gives sqs-poller its queue under the seeds’ name, with defaults', () => {
    const c = parseConfig(sqsPoller, {
      AWS_REGION: 'us-east-1',
      C42_bucket_name: 'code42-logs',
      C42_SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      SERVICEBUS_CONNECTION_STRING:
        'Endpoint=sb://localhost;SharedAccessKeyName=a;SharedAccessKey=b;UseDevelopmentEmulator=true',
    });
    assert.equal(c.SQS_QUEUE_URL, 'https://sqs.us-east-1.amazonaws.com/123456789012/q');
    assert.equal(c.SQS_POLLERS, 2);
    assert.equal(c.VISIBILITY_TIMEOUT_SECONDS, 360);
  });
});
