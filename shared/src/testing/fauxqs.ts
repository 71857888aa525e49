import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';

export interface FauxqsHandle {
  /** http://127.0.0.1:PORT — SQS, SNS and S3 on one port. */
  readonly endpoint: string;
  readonly region: string;
  /** Static dummy credentials (fauxqs accepts any); pass as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY to children. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  sqs(): SQSClient;
  s3(): S3Client;
  /** Env for a child process pointed at this fauxqs. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

/** Starts fauxqs in-process on a random loopback port (SQS, SNS, S3; S3 needs path-style). */
export async function startFauxqsServer(options: { port?: number; host?: string } = {}): Promise<FauxqsHandle> {
  const server = await startFauxqs({ port: options.port ?? 0, host: options.host ?? '127.0.0.1', logger: false });
  const endpoint = server.address;
  const region = 'us-east-1';
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  const clients: { destroy(): void }[] = [];
  return {
    endpoint,
    region,
    credentials,
    sqs() {
      const c = new SQSClient({ endpoint, region, credentials });
      clients.push(c);
      return c;
    },
    s3() {
      const c = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
      clients.push(c);
      return c;
    },
    env: () => ({
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_S3_FORCE_PATH_STYLE: 'true',
    }),
    async stop() {
      for (const c of clients) c.destroy();
      await server.stop();
    },
  };
}
