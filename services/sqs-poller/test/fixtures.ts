/** Notification bodies as AWS sends them (trimmed to the fields S3, SNS and EventBridge always include). */

export interface ObjectSpec {
  bucket: string;
  /** The key as S3 puts it in a notification: form-encoded. */
  encodedKey: string;
  size?: number;
  eTag?: string;
  versionId?: string;
  sequencer?: string;
  eventName?: string;
}

export function s3Record(o: ObjectSpec): Record<string, unknown> {
  return {
    eventVersion: '2.9',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2024-05-01T12:00:00.000Z',
    eventName: o.eventName ?? 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
    requestParameters: { sourceIPAddress: '203.0.113.1' },
    responseElements: { 'x-amz-request-id': 'R1', 'x-amz-id-2': 'H1' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'logs',
      bucket: { name: o.bucket, ownerIdentity: { principalId: 'A1' }, arn: `arn:aws:s3:::${o.bucket}` },
      object: {
        key: o.encodedKey,
        size: o.size ?? 100,
        eTag: o.eTag ?? 'd41d8cd98f00b204e9800998ecf8427e',
        ...(o.versionId ? { versionId: o.versionId } : {}),
        sequencer: o.sequencer ?? '0055AED6DCD90281E5',
      },
    },
  };
}

export function s3Event(...objects: ObjectSpec[]): string {
  return JSON.stringify({ Records: objects.map(s3Record) });
}

export function snsWrapped(inner: string): string {
  return JSON.stringify({
    Type: 'Notification',
    MessageId: '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
    TopicArn: 'arn:aws:sns:us-east-1:123456789012:s3-events',
    Subject: 'Amazon S3 Notification',
    Message: inner,
    Timestamp: '2024-05-01T12:00:01.000Z',
    SignatureVersion: '1',
    Signature: 'EXAMPLE',
    SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000.pem',
    UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
  });
}

export function eventBridge(o: { bucket: string; key: string; detailType?: string; versionId?: string }): string {
  return JSON.stringify({
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': o.detailType ?? 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time: '2024-05-01T12:00:02Z',
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${o.bucket}`],
    detail: {
      version: '0',
      bucket: { name: o.bucket },
      object: {
        key: o.key,
        size: 5,
        etag: 'b1946ac92492d2347c6235b4d2611184',
        ...(o.versionId ? { 'version-id': o.versionId } : {}),
        sequencer: '617f08299329d189',
      },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '123456789012',
      reason: 'PutObject',
    },
  });
}

export function testEvent(bucket: string): string {
  return JSON.stringify({
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: '2024-05-01T12:00:00.000Z',
    Bucket: bucket,
    RequestId: '5582815E1AEA5ADF',
    HostId: '8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE',
  });
}
