/**
 * The one place that builds AWS SDK clients. On AWS the defaults apply (region from the
 * environment, credentials from the role); locally an endpoint override points S3 + SQS at
 * fauxqs and DynamoDB at dynalite. Nothing else in vidx knows whether it runs locally.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { parseSettings } from '../core/settings/define.ts';
import { ENV } from '../core/names.ts';
import { AWS_SETTINGS, type AwsSettings } from '../core/settings/processes.ts';

export interface AwsConfig {
  region: string;
  /** S3 + SQS endpoint override (fauxqs locally). */
  endpoint?: string | undefined;
  /** DynamoDB endpoint override (dynalite locally). */
  dynamoEndpoint?: string | undefined;
}

export interface AwsClients {
  readonly config: AwsConfig;
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  readonly dynamo: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  destroy(): void;
}

/** The clients' configuration from a process's parsed settings. */
export function awsConfigOf(s: AwsSettings): AwsConfig {
  return { region: s.region, endpoint: s.endpoint, dynamoEndpoint: s.dynamoEndpoint };
}

/** For the CLI commands that talk to AWS: the region and endpoints of this environment. */
export function awsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): AwsConfig {
  return awsConfigOf(parseSettings(AWS_SETTINGS, env));
}

/** Emulators accept any credentials; real AWS never gets these (no endpoint override there). */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/**
 * What presigned URLs for browsers are signed with locally: the local key with the run's secret
 * (VIDX_LOCAL_SIGNING_SECRET, set by `vidx local`), so only URLs the local API handed out verify.
 */
export function localSigningCredentials(env: NodeJS.ProcessEnv = process.env): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: env[ENV.localSigningSecret] || LOCAL_CREDENTIALS.secretAccessKey };
}

/**
 * An S3 client only for presigning URLs that a browser will use. `publicEndpoint` is where the
 * browser reaches S3 (locally: the vidx server's /_local/s3 proxy; on AWS: unset, S3 itself).
 * Checksums only when required: a presigned PUT must not carry the checksum of an empty body.
 */
export function createPresignS3(config: AwsConfig, publicEndpoint: string | undefined): S3Client {
  const endpoint = publicEndpoint || config.endpoint;
  return new S3Client({
    region: config.region,
    ...(endpoint ? { endpoint, credentials: localSigningCredentials(), forcePathStyle: true } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** The S3 Vectors client (deployed only: `vidx local` keeps vectors in its embedded store). */
export function createS3VectorsClient(config: AwsConfig, endpoint?: string): S3VectorsClient {
  return new S3VectorsClient({ region: config.region, ...(endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {}) });
}

export function createClients(config: AwsConfig = awsConfigFromEnv()): AwsClients {
  const local = (endpoint: string | undefined) =>
    endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {};
  const s3 = new S3Client({ region: config.region, ...local(config.endpoint), forcePathStyle: Boolean(config.endpoint) });
  const sqs = new SQSClient({ region: config.region, ...local(config.endpoint) });
  const dynamo = new DynamoDBClient({ region: config.region, ...local(config.dynamoEndpoint) });
  const doc = DynamoDBDocumentClient.from(dynamo, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
    unmarshallOptions: { wrapNumbers: false },
  });
  return {
    config,
    s3,
    sqs,
    dynamo,
    doc,
    destroy() {
      s3.destroy();
      sqs.destroy();
      doc.destroy();
      dynamo.destroy();
    },
  };
}
