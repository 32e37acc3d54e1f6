/**
 * Query Lambda entry point (API Gateway HTTP API, payload v2). Thin: reads its settings
 * (core/settings/processes.ts QUERY_SETTINGS) and builds the dependencies once per cold start (SDK
 * clients, the model's vocabulary, the cursor secret), then delegates to the adapter in app.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { awsConfigOf, createClients, createPresignS3 } from '../../adapters/clients.ts';
import { S3MediaSigner } from '../../adapters/media-signer.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import { CURSOR_SECRET_ENV, cursorSecret } from '../../core/query/cursor.ts';
import { parseSettings } from '../../core/settings/define.ts';
import { QUERY_SETTINGS } from '../../core/settings/processes.ts';
import { loadSearchVocabulary } from '../../models/labels.ts';
import { createQueryHandler, type QueryHandler } from './app.ts';

export { createQueryHandler } from './app.ts';

let cold: QueryHandler | undefined;

/** Builds the real dependencies once (cold start): SDK clients, the vocabulary, the secret. */
function coldStart(): QueryHandler {
  const logger = new Logger({ serviceName: 'vidx-query' });
  const settings = parseSettings(QUERY_SETTINGS);
  const secret = cursorSecret(settings.cursorSecret, settings.tableName);
  if (secret.derived) {
    logger.warn(`${CURSOR_SECRET_ENV} is not set: cursors are signed with a key derived from the table name (forgeable by anyone who knows it; positions are still confined to the query's partitions). Set ${CURSOR_SECRET_ENV} in deployments.`);
  }
  const clients = createClients(awsConfigOf(settings));
  // Media routes (video, thumbnails, uploads) need the bucket; without it they answer 501.
  const bucket = settings.bucket;
  const media = bucket ? new S3MediaSigner(createPresignS3(clients.config, settings.mediaEndpoint), bucket) : undefined;
  return createQueryHandler({
    index: createIndex(clients, settings.tableName, { labelShards: settings.labelShards }),
    media,
    videoPrefix: settings.videoPrefix,
    vocabulary: loadSearchVocabulary(),
    cursorSecret: secret.key,
    logger,
  });
}

export async function handler(event: unknown): Promise<APIGatewayProxyStructuredResultV2> {
  cold ??= coldStart();
  return cold(event);
}
