import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@logferry/shared/logging/logger';

export interface QueueCheck {
  readonly hasRedrivePolicy: boolean;
  readonly visibilityTimeoutSeconds: number | undefined;
}

/**
 * Looks at the queue once at start. Without a redrive policy a body we cannot read is received
 * forever instead of landing in a dead-letter queue, so that is worth a warning; an unreadable
 * queue is only a warning too (the poll loop reports the real error and marks the service unhealthy).
 */
export async function checkQueue(sqs: SQSClient, queueUrl: string, logger: Logger): Promise<QueueCheck | undefined> {
  try {
    const r = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy', 'VisibilityTimeout'] }),
    );
    const redrive = r.Attributes?.RedrivePolicy;
    const vt = r.Attributes?.VisibilityTimeout;
    const check = {
      hasRedrivePolicy: Boolean(redrive),
      visibilityTimeoutSeconds: vt === undefined ? undefined : Number(vt),
    };
    if (!check.hasRedrivePolicy) {
      logger.warn(
        { queueUrl },
        'SQS queue has no RedrivePolicy: messages that are not S3 notifications will be received again and again; configure a dead-letter queue',
      );
    }
    return check;
  } catch (err) {
    logger.warn({ queueUrl, err: (err as Error).message }, 'could not read SQS queue attributes');
    return undefined;
  }
}
