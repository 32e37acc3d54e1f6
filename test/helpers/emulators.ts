/**
 * Real emulators for pipeline tests, in-process: fauxqs (S3 + SQS) and dynalite (DynamoDB), with
 * the bucket, the queues and the table created from the shared definitions, exactly as `vidx local`
 * does. One stack per test file.
 */
import { ReceiveMessageCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { createClients, type AwsClients } from '../../adapters/clients.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import type { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { BUCKET, DEFAULTS } from '../../core/names.ts';
import { startEmulators, type Emulators } from '../../cli/local/emulators.ts';
import { ensureResources, type LocalResources } from '../../cli/local/resources.ts';

export interface TestStack {
  emulators: Emulators;
  clients: AwsClients;
  resources: LocalResources;
  /** The index through its DynamoDB adapter (large clip payloads go to the stack's bucket). */
  store: DynamoIndex;
  stop(): Promise<void>;
}

export async function startTestStack(options: { dynamoPath?: string } = {}): Promise<TestStack> {
  const emulators = await startEmulators({ dynamoPath: options.dynamoPath });
  const clients = createClients({ region: DEFAULTS.region, endpoint: emulators.endpoint, dynamoEndpoint: emulators.dynamoEndpoint });
  const resources = await ensureResources(clients, { bucket: BUCKET.localName });
  return {
    emulators,
    clients,
    resources,
    store: createIndex(clients, resources.tableName, { payloadBucket: resources.bucket }),
    async stop() {
      clients.destroy();
      await emulators.stop();
    },
  };
}

/** Messages visible + in flight on a queue (ApproximateNumberOfMessages*). */
export async function queueDepth(clients: AwsClients, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const r = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
  );
  return { visible: Number(r.Attributes?.ApproximateNumberOfMessages ?? 0), inFlight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

/** Reads (without deleting) up to 10 message bodies from a queue. */
export async function peekMessages(clients: AwsClients, queueUrl: string): Promise<string[]> {
  const r = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0 }));
  return (r.Messages ?? []).map((m) => m.Body ?? '');
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, everyMs));
  }
}
