import { DeleteMessageBatchCommand, DeleteMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@logferry/shared/logging/logger';

export interface Deletable {
  readonly messageId: string;
  readonly receiptHandle: string;
}

/**
 * Deletes handled messages, ten per DeleteMessageBatch call. Entries that fail (or a batch call that
 * throws) get one individual retry; what still fails is logged and will be redelivered, which the
 * deterministic s3-objects ids make harmless. Returns how many were deleted.
 */
export async function deleteMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Deletable[],
  logger: Logger,
): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < messages.length; i += 10) {
    const chunk = messages.slice(i, i + 10);
    let retry: Deletable[] = [];
    try {
      const r = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((m, j) => ({ Id: `m${j}`, ReceiptHandle: m.receiptHandle })),
        }),
      );
      deleted += r.Successful?.length ?? 0;
      for (const f of r.Failed ?? []) {
        const m = chunk[Number(f.Id?.slice(1))];
        if (!m) continue;
        if (f.SenderFault) {
          // Typically an expired receipt handle: the message was already redelivered elsewhere.
          logger.warn({ sqsMessageId: m.messageId, code: f.Code, reason: f.Message }, 'could not delete SQS message');
        } else {
          retry.push(m);
        }
      }
    } catch (err) {
      logger.warn(
        { err: (err as Error).message, count: chunk.length },
        'DeleteMessageBatch failed; retrying one by one',
      );
      retry = [...chunk];
    }
    for (const m of retry) {
      try {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.receiptHandle }));
        deleted += 1;
      } catch (err) {
        logger.warn(
          { sqsMessageId: m.messageId, err: (err as Error).message },
          'could not delete SQS message; it will be redelivered',
        );
      }
    }
  }
  return deleted;
}
