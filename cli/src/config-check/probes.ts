// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '@logferry/shared/amqp/rhea-dispositions-fix';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TableClient } from '@azure/data-tables';
import { ServiceBusClient } from '@azure/service-bus';
import { BlobServiceClient } from '@azure/storage-blob';

// Every probe `config check` runs, by the side they reach; the SDK clients they take come from here too,
// so the rhea fix above loads before the Service Bus SDK.
export * from './adx-probes.ts';
export * from './aws-probes.ts';
export * from './azure-probes.ts';
export * from './http-probes.ts';
export { BlobServiceClient, S3Client, ServiceBusClient, SQSClient, TableClient };
