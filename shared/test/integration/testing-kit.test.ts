import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { type AzuriteHandle, type FauxqsHandle, startAzurite, startFauxqsServer } from '../../src/testing/index.ts';

describe('test kit: fauxqs', () => {
  let fauxqs: FauxqsHandle;
  before(async () => {
    fauxqs = await startFauxqsServer();
  });
  after(() => fauxqs.stop());

  it('serves SQS and path-style S3 to the real AWS SDK', async () => {
    const s3 = fauxqs.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'kit-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'kit-bucket', Key: 'a b+c.json', Body: '{"x":1}' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'kit-bucket', Key: 'a b+c.json' }));
    assert.equal(await got.Body?.transformToString(), '{"x":1}');

    const sqs = fauxqs.sqs();
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'kit-queue' }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'hello' }));
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
    assert.equal(r.Messages?.[0]?.Body, 'hello');
  });
});

describe('test kit: azurite', () => {
  let azurite: AzuriteHandle;
  before(async () => {
    azurite = await startAzurite();
  });
  after(() => azurite.stop());

  it('serves Blob, Queue and Table to the real Azure SDK', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('kit');
    await container.create();
    await container.getBlockBlobClient('x.txt').upload('abc', 3);
    assert.equal((await container.getBlobClient('x.txt').getProperties()).contentLength, 3);

    const queue = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient('kit');
    await queue.create();
    await queue.sendMessage('m');
    assert.equal((await queue.receiveMessages()).receivedMessageItems[0]?.messageText, 'm');

    const table = TableClient.fromConnectionString(azurite.connectionString, 'kit', { allowInsecureConnection: true });
    await table.createTable();
    await table.createEntity({ partitionKey: 'p', rowKey: 'r', v: 1 });
    assert.equal((await table.getEntity<{ v: number }>('p', 'r')).v, 1);
  });
});
