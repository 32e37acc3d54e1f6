/**
 * The vidx stack with its default configuration: what issue 5 requires, asserted on one synthesis.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLIP_PAYLOAD_PREFIX, DEFAULTS, ENV, THUMBNAIL_PREFIX, VECTOR_KEYS_PREFIX, VIDEO_PREFIX } from '../../core/names.ts';
import { VECTOR_SPACES } from '../../core/vectors/port.ts';
import { KEYS, LIST_PROJECTION } from '../../adapters/dynamo-index/layout.ts';
import { INDEX_DEFAULTS } from '../../core/infra-definitions.ts';
import { CURSOR_SECRET_ENV } from '../../core/query/cursor.ts';
import { IMAGE_MODELS_DIR, WORKER_HEALTH_SCRIPT } from '../../cdk/constructs/gpu-worker-service.ts';
import { envNamesOf, requiredEnvNamesOf, type SettingFields } from '../../core/settings/define.ts';
import { QUERY_SETTINGS, SEGMENTER_SETTINGS, SWEEPER_SETTINGS, THUMBNAIL_SETTINGS, WORKER_SETTINGS } from '../../core/settings/processes.ts';
import { QUERY_POST_ROUTES, QUERY_ROUTES } from '../../cdk/constructs/query-api.ts';
import { FFMPEG_LAYER_PATH, FFPROBE_LAYER_PATH } from '../../cdk/constructs/ffprobe-layer.ts';
import { MODEL_MANIFEST_FILE } from '../../cdk/vidx-stack.ts';
import { FIXTURE_MANIFEST, REPO_ROOT, synthesize, type Synthesized } from './synth.ts';
import { DEFAULT_WORKER_INSTANCE_TYPES } from '../../cdk/config.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

let s: Synthesized;
let t: Template;
let resources: Resources;

beforeAll(() => {
  s = synthesize();
  t = s.template;
  resources = t.toJSON().Resources as Resources;
});

// --- helpers ------------------------------------------------------------------------------------

function idOf(predicate: (type: string, props: Record<string, unknown>, id: string) => boolean): string {
  const ids = Object.entries(resources).filter(([id, r]) => predicate(r.Type, r.Properties ?? {}, id)).map(([id]) => id);
  expect(ids, 'exactly one resource matches').toHaveLength(1);
  return ids[0]!;
}
const byPrefix = (type: string, prefix: string) => idOf((ty, _p, id) => ty === type && id.startsWith(prefix));
const ref = (id: string) => ({ Ref: id });
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** Statements of every inline policy attached to a role. */
function statementsOf(roleId: string): Statement[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((r) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (st: Statement) => [st.Action].flat().sort();
function allowedActions(roleId: string): string[] {
  return statementsOf(roleId).flatMap(actionsOf).sort();
}
function envOf(fnId: string): Record<string, unknown> {
  return ((resources[fnId]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables ?? {});
}
/** The staged asset folder of a Lambda (code) or layer (content). */
function assetDir(code: unknown): string {
  const key = (code as { S3Key: string }).S3Key;
  const dir = join(s.outdir, `asset.${key.replace(/\.zip$/, '')}`);
  expect(existsSync(dir), `${dir} staged`).toBe(true);
  return dir;
}

const eventTopicId = () => byPrefix('AWS::SNS::Topic', 'EventsTopic');
const eventBusId = () => byPrefix('AWS::Events::EventBus', 'EventsBus');
const bucketId = () => byPrefix('AWS::S3::Bucket', 'StorageVideos');
const accessLogsId = () => byPrefix('AWS::S3::Bucket', 'StorageAccessLogs');
const clipQueueId = () => byPrefix('AWS::SQS::Queue', 'ClipQueueClips');
const clipDlqId = () => byPrefix('AWS::SQS::Queue', 'ClipQueueDeadLetter');
const segmenterDlqId = () => byPrefix('AWS::SQS::Queue', 'SegmenterFailures');
const intakeQueueId = () => byPrefix('AWS::SQS::Queue', 'SegmenterIntake');
const thumbnailQueueId = () => byPrefix('AWS::SQS::Queue', 'ThumbnailMakerJobs');
const thumbnailDlqId = () => byPrefix('AWS::SQS::Queue', 'ThumbnailMakerDeadLetter');
const thumbnailFnId = () => byPrefix('AWS::Lambda::Function', 'ThumbnailMakerThumbnails');
const thumbnailRoleId = () => byPrefix('AWS::IAM::Role', 'ThumbnailMakerThumbnailsRole');
const tableId = () => byPrefix('AWS::DynamoDB::Table', 'IndexTable');
const segmenterFnId = () => byPrefix('AWS::Lambda::Function', 'SegmenterFunction');
const queryFnId = () => byPrefix('AWS::Lambda::Function', 'QueryFunction');
const segmenterRoleId = () => byPrefix('AWS::IAM::Role', 'SegmenterRole');
const queryRoleId = () => byPrefix('AWS::IAM::Role', 'QueryRole');
const taskRoleId = () => byPrefix('AWS::IAM::Role', 'WorkerTaskRole');
const taskDefId = () => byPrefix('AWS::ECS::TaskDefinition', 'WorkerTask');
const workerContainer = () =>
  (resources[taskDefId()]!.Properties.ContainerDefinitions as Record<string, unknown>[])[0]!;
const labelIndexArn = () => ({ 'Fn::Join': ['', [arn(tableId()), `/index/${KEYS.list.name}`]] });
const videoObjectsArn = () => ({ 'Fn::Join': ['', [arn(bucketId()), `/${VIDEO_PREFIX}*`]] });
const VECTOR_READ = ['s3vectors:QueryVectors', 's3vectors:GetVectors', 's3:GetObject', 's3:ListBucket'];
/** The ARNs of the four vector indexes, in space order. */
const vectorIndexArns = () => VECTOR_SPACES.map((space) => ({ 'Fn::GetAtt': [byPrefix('AWS::S3Vectors::Index', `Vectors${space.replace('.', '')}`), 'IndexArn'] }));
const objectsArn = (prefix: string) => ({ 'Fn::Join': ['', [arn(bucketId()), `/${prefix}*`]] });

// --- tests --------------------------------------------------------------------------------------

describe('cdk-nag', () => {
  it('AwsSolutions has no finding left unacknowledged', () => {
    const lines = s.nagViolations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(lines).toEqual([]);
  });
});

describe('video bucket', () => {
  it('blocks public access, encrypts, logs access, keeps data on stack deletion', () => {
    const p = resources[bucketId()]!;
    expect(p.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(p.Properties.LoggingConfiguration).toMatchObject({ DestinationBucketName: ref(accessLogsId()) });
    expect(p.DeletionPolicy).toBe('Retain');
  });

  it('allows only TLS (1.2+) on both buckets', () => {
    for (const bucket of [bucketId(), accessLogsId()]) {
      t.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: ref(bucket),
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(bucketId()),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('has CORS for a browser UI and lifecycle rules for temporary objects', () => {
    const p = resources[bucketId()]!.Properties;
    expect(p.CorsConfiguration).toEqual({
      CorsRules: [
        expect.objectContaining({
          AllowedMethods: ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'],
          AllowedOrigins: [`http://localhost:${DEFAULTS.localApiPort}`],
          ExposedHeaders: ['ETag'],
        }),
      ],
    });
    const rules = (p.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    // Abandoned multipart uploads are aborted; nothing else expires (no rule for a prefix nothing writes).
    expect(rules).toEqual([expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })]);
    expect(rules.filter((r) => r.ExpirationInDays !== undefined)).toEqual([]);
  });

  it(`sends ObjectCreated events under ${VIDEO_PREFIX} only to the intake queue (never invokes the segmenter itself)`, () => {
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: ref(bucketId()),
      NotificationConfiguration: {
        QueueConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: VIDEO_PREFIX }] } },
            QueueArn: arn(intakeQueueId()),
          },
        ],
      },
    });
    const notification = Object.values(resources).find((r) => r.Type === 'Custom::S3BucketNotifications')!;
    expect(JSON.stringify(notification.Properties.NotificationConfiguration)).not.toContain('LambdaFunction');
    // Only S3, and only for this bucket, may send to the intake queue.
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(intakeQueueId())],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Condition: { ArnLike: { 'aws:SourceArn': arn(bucketId()) } } }),
        ]),
      },
    });
    t.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: 's3.amazonaws.com', FunctionName: arn(segmenterFnId()) }, 0);
  });
});

describe('queues', () => {
  it('clip queue: SSE, DLQ after maxReceiveCount, long polling, 14 days of retention for a burst', () => {
    const q = resources[clipQueueId()]!.Properties;
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: arn(clipDlqId()), maxReceiveCount: DEFAULTS.maxReceiveCount });
    expect(q.ReceiveMessageWaitTimeSeconds).toBe(20);
    expect(q.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(resources[clipDlqId()]!.Properties.SqsManagedSseEnabled).toBe(true);
    expect(resources[clipDlqId()]!.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('intake queue: 14 days of retention, a visibility timeout of 6 segmenter timeouts, dead-lettered after intakeMaxReceiveCount', () => {
    const q = resources[intakeQueueId()]!.Properties;
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(q.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    expect(q.VisibilityTimeout).toBe(6 * DEFAULTS.segmenterTimeoutSeconds);
    expect(q.VisibilityTimeout).toBe(6 * (resources[segmenterFnId()]!.Properties.Timeout as number));
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: arn(segmenterDlqId()), maxReceiveCount: DEFAULTS.intakeMaxReceiveCount });
    expect(resources[segmenterDlqId()]!.Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('the segmenter reads the intake queue through an event source mapping: bounded concurrency, partial batch failures', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arn(intakeQueueId()),
      FunctionName: ref(segmenterFnId()),
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: DEFAULTS.segmenterMaxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // The other mapping is the thumbnail consumer's.
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 2);
    // No asynchronous invocation is left to age out: no event invoke config, no function DLQ.
    t.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
    expect(resources[segmenterFnId()]!.Properties.DeadLetterConfig).toBeUndefined();
    expect(allowedActions(segmenterRoleId())).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility']));
  });

  it('visibility timeout outlasts the worker heartbeat (twice over) and its stop timeout', () => {
    const visibility = resources[clipQueueId()]!.Properties.VisibilityTimeout as number;
    expect(visibility).toBe(DEFAULTS.visibilityTimeoutSeconds);
    expect(visibility).toBeGreaterThanOrEqual(2 * DEFAULTS.heartbeatSeconds);
    expect(visibility).toBeGreaterThanOrEqual(DEFAULTS.stopTimeoutSeconds);
  });

  it('every queue (clips, clip DLQ, intake, intake DLQ) is encrypted and TLS-only', () => {
    for (const id of [clipQueueId(), clipDlqId(), intakeQueueId(), segmenterDlqId()]) {
      expect(resources[id]!.Properties.SqsManagedSseEnabled, id).toBe(true);
      t.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(id)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });
});

describe('index table', () => {
  it('has the keys and indexes of adapters/dynamo-index/layout.ts (a lean listing and label index, a sparse index of unfinished videos), on demand, PITR, encrypted, retained', () => {
    const table = resources[tableId()]!;
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: KEYS.partitionKey, KeyType: 'HASH' },
        { AttributeName: KEYS.sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: KEYS.list.name,
          KeySchema: [
            { AttributeName: KEYS.list.partitionKey, KeyType: 'HASH' },
            { AttributeName: KEYS.list.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...LIST_PROJECTION] },
        },
        {
          IndexName: KEYS.unfinished.name,
          KeySchema: [
            { AttributeName: KEYS.unfinished.partitionKey, KeyType: 'HASH' },
            { AttributeName: KEYS.unfinished.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(table.DeletionPolicy).toBe('Retain');
  });
});

describe('Lambdas', () => {
  it('run Node 22 on x86_64, sized and timed for their work', () => {
    expect(resources[segmenterFnId()]!.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['x86_64'],
      Handler: 'index.handler',
      MemorySize: 1024,
      Timeout: 120,
    });
    // Concurrency is bounded by the intake mapping, not by reserving it (0 = none by default).
    expect(resources[segmenterFnId()]!.Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(resources[queryFnId()]!.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['x86_64'],
      MemorySize: 512,
      Timeout: 10,
    });
  });

  it('segmenter environment: table, queue, prefix, clip length, bundled manifest, ffprobe from the layer', () => {
    expect(envOf(segmenterFnId())).toMatchObject({
      [ENV.table]: ref(tableId()),
      [ENV.labelShards]: String(INDEX_DEFAULTS.labelShards),
      [ENV.queueUrl]: ref(clipQueueId()),
      [ENV.videoPrefix]: VIDEO_PREFIX,
      [ENV.clipSeconds]: String(DEFAULTS.clipSeconds),
      [ENV.model]: `/var/task/${MODEL_MANIFEST_FILE}`,
      [ENV.ffprobe]: FFPROBE_LAYER_PATH,
      NODE_OPTIONS: '--enable-source-maps',
    });
    expect(FFPROBE_LAYER_PATH).toBe('/opt/bin/ffprobe');
  });

  it('query environment: the table and the cursor key, resolved from Secrets Manager at deploy', () => {
    const secretId = byPrefix('AWS::SecretsManager::Secret', 'CursorSecret');
    expect(envOf(queryFnId())).toMatchObject({
      [ENV.table]: ref(tableId()),
      [CURSOR_SECRET_ENV]: { 'Fn::Join': ['', ['{{resolve:secretsmanager:', ref(secretId), ':SecretString:::}}']] },
    });
    expect(resources[secretId]!.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48 });
  });

  it('the ffprobe layer matches the functions\' architecture and holds an executable ffprobe at bin/ffprobe', () => {
    const layerId = byPrefix('AWS::Lambda::LayerVersion', 'FfprobeLayer');
    const layer = resources[layerId]!.Properties;
    expect(layer.CompatibleArchitectures).toEqual(['x86_64']);
    expect(resources[segmenterFnId()]!.Properties.Layers).toEqual([ref(layerId)]);
    const binary = join(assetDir(layer.Content), 'bin', 'ffprobe');
    expect(statSync(binary).mode & 0o777).toBe(0o755);
    expect(execFileSync(binary, ['-version'], { encoding: 'utf8' })).toMatch(/^ffprobe version/);
  });

  it('bundles are ESM built by esbuild, with the model manifest beside the segmenter and the labels beside the query handler', () => {
    const segmenter = assetDir(resources[segmenterFnId()]!.Properties.Code);
    const query = assetDir(resources[queryFnId()]!.Properties.Code);
    expect(readdirSync(segmenter).sort()).toEqual(['index.mjs', 'index.mjs.map', MODEL_MANIFEST_FILE].sort());
    expect(readFileSync(join(segmenter, MODEL_MANIFEST_FILE), 'utf8')).toBe(readFileSync(join(REPO_ROOT, FIXTURE_MANIFEST), 'utf8'));
    expect(readFileSync(join(segmenter, 'index.mjs'), 'utf8')).toMatch(/^import\{createRequire as __vidxCreateRequire\}|^import \{ createRequire as __vidxCreateRequire \}/);
    expect(readFileSync(join(query, 'kinetics400_labels.txt'), 'utf8')).toBe(
      readFileSync(join(REPO_ROOT, 'models', 'kinetics400_labels.txt'), 'utf8'),
    );
    expect(readFileSync(join(query, 'ava_v2.2_labels.txt'), 'utf8')).toBe(readFileSync(join(REPO_ROOT, 'models', 'ava_v2.2_labels.txt'), 'utf8'));
    expect(existsSync(join(query, 'index.mjs'))).toBe(true);
  });
  it('the bundles run: the query bundle answers GET /actions from its copied labels, the segmenter loads its manifest', () => {
    const run = (dir: string, script: string, env: Record<string, string>) =>
      spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', ...env },
        encoding: 'utf8',
        timeout: 30_000,
      });
    const query = assetDir(resources[queryFnId()]!.Properties.Code);
    const event = {
      version: '2.0', routeKey: 'GET /actions', rawPath: '/actions', rawQueryString: 'q=basketbal',
      queryStringParameters: { q: 'basketbal' }, headers: { host: 'api' }, isBase64Encoded: false,
      requestContext: {
        accountId: '123456789012', apiId: 'api', domainName: 'api.execute-api.us-east-1.amazonaws.com', domainPrefix: 'api',
        http: { method: 'GET', path: '/actions', protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
        requestId: 'r', routeKey: 'GET /actions', stage: '$default', time: '23/Nov/2026:11:00:00 +0000', timeEpoch: 1_795_000_000_000,
      },
    };
    const q = run(query, `const m = await import('./index.mjs'); const r = await m.handler(${JSON.stringify(event)}, {}); console.log('RESULT ' + JSON.stringify(r));`, {
      [ENV.table]: 'vidx-test',
      [CURSOR_SECRET_ENV]: 'test-secret',
    });
    const result = JSON.parse(/^RESULT (.*)$/m.exec(q.stdout)![1]!) as { statusCode: number; body: string };
    expect(result.statusCode, q.stderr).toBe(200);
    expect(JSON.parse(result.body).actions.map((a: { label: string }) => a.label)).toContain('playing basketball');
    const ava = run(query, `const m = await import('./index.mjs'); const r = await m.handler(${JSON.stringify({ ...event, rawQueryString: 'q=smoke', queryStringParameters: { q: 'smoke' } })}, {}); console.log('RESULT ' + JSON.stringify(r));`, {
      [ENV.table]: 'vidx-test',
      [CURSOR_SECRET_ENV]: 'test-secret',
    });
    const avaResult = JSON.parse(/^RESULT (.*)$/m.exec(ava.stdout)![1]!) as { statusCode: number; body: string };
    expect(JSON.parse(avaResult.body).actions.map((a: { label: string }) => a.label)).toContain('smoke');

    const segmenter = assetDir(resources[segmenterFnId()]!.Properties.Code);
    const sg = run(segmenter, `const m = await import('./index.mjs'); try { await m.handler({ not: 's3' }); } catch (e) { console.log('ERROR ' + e.code); }`, {
      [ENV.model]: join(segmenter, MODEL_MANIFEST_FILE),
      [ENV.queueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      [ENV.table]: 'vidx-test',
    });
    // BAD_EVENT (not INVALID_SETTING or MODEL_MANIFEST_BAD): the bundled manifest loaded, the event was refused.
    expect(sg.stdout, sg.stderr).toMatch(/^ERROR BAD_EVENT$/m);
  });
});

describe('least privilege', () => {
  it('segmenter: read videos, send clip messages, get/update/query/batch-write the table, remove clip payloads, write its logs', () => {
    const st = statementsOf(segmenterRoleId());
    expect(st).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Allow', Action: 's3:GetObject', Resource: videoObjectsArn() }),
        expect.objectContaining({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: arn(clipQueueId()) }),
        expect.objectContaining({
          Effect: 'Allow',
          Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
          Resource: arn(tableId()),
        }),
      ]),
    );
    // It consumes the intake queue (the event source mapping's grant) and sends to no other queue.
    const consume = statementsOf(segmenterRoleId()).find((x) => actionsOf(x).includes('sqs:ReceiveMessage'));
    expect(consume?.Resource).toEqual(arn(intakeQueueId()));
    expect(allowedActions(segmenterRoleId())).toEqual(
      [
        'dynamodb:BatchWriteItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'events:PutEvents',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:DeleteObject',
        's3:GetObject',
        'sns:Publish',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
      ].sort(),
    );
  });

  it('query: Query/GetItem on the table, Query on the label index, read clip payloads; for the URLs it signs, read videos and thumbnails, put videos; nothing else', () => {
    const st = statementsOf(queryRoleId());
    expect(st).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['dynamodb:GetItem', 'dynamodb:Query'], Resource: arn(tableId()) }),
        expect.objectContaining({ Action: 'dynamodb:Query', Resource: labelIndexArn() }),
        expect.objectContaining({ Action: 's3:GetObject', Resource: [videoObjectsArn(), objectsArn(THUMBNAIL_PREFIX)] }),
        expect.objectContaining({ Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: videoObjectsArn() }),
        expect.objectContaining({ Action: 's3:GetObject', Resource: objectsArn(CLIP_PAYLOAD_PREFIX) }),
      ]),
    );
    expect(allowedActions(queryRoleId())).toEqual(
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Query', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:AbortMultipartUpload', 's3:GetObject', 's3:GetObject', 's3:PutObject', ...VECTOR_READ].sort(),
    );
  });

  it('worker task: read videos, write, list and delete thumbnails, consume clip messages, read/write the table (not the label index), keep clip payloads, publish events', () => {
    const st = statementsOf(taskRoleId());
    expect(st).toEqual([
      expect.objectContaining({ Action: 's3:GetObject', Resource: videoObjectsArn() }),
      expect.objectContaining({
        Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
        Resource: arn(clipQueueId()),
      }),
      // Thumbnail jobs go to the CPU consumer's queue (send only).
      expect.objectContaining({ Action: 'sqs:SendMessage', Resource: arn(thumbnailQueueId()) }),
      expect.objectContaining({ Action: ['s3:PutObject', 's3:DeleteObject'], Resource: objectsArn(THUMBNAIL_PREFIX) }),
      // Listing is on the bucket, so a condition keeps it to the thumbnail prefix.
      expect.objectContaining({ Action: 's3:ListBucket', Resource: arn(bucketId()), Condition: { StringLike: { 's3:prefix': [`${THUMBNAIL_PREFIX}*`] } } }),
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
        Resource: arn(tableId()),
      }),
      expect.objectContaining({ Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], Resource: objectsArn(CLIP_PAYLOAD_PREFIX) }),
      expect.objectContaining({ Action: 'sns:Publish', Resource: ref(eventTopicId()) }),
      expect.objectContaining({ Action: 'events:PutEvents', Resource: arn(eventBusId()) }),
      expect.objectContaining({ Action: ['s3vectors:PutVectors', 's3vectors:GetVectors', 's3vectors:DeleteVectors'], Resource: vectorIndexArns() }),
      expect.objectContaining({ Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], Resource: objectsArn(VECTOR_KEYS_PREFIX) }),
      expect.objectContaining({ Action: 's3:ListBucket', Resource: arn(bucketId()), Condition: { StringLike: { 's3:prefix': [`${VECTOR_KEYS_PREFIX}*`] } } }),
    ]);
  });

  it('query: reads the vector index (query and get vectors, read and list the key lists) and nothing more of it', () => {
    const st = statementsOf(queryRoleId());
    expect(st).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['s3vectors:QueryVectors', 's3vectors:GetVectors'], Resource: vectorIndexArns() }),
        expect.objectContaining({ Action: 's3:GetObject', Resource: objectsArn(VECTOR_KEYS_PREFIX) }),
        expect.objectContaining({ Action: 's3:ListBucket', Resource: arn(bucketId()), Condition: { StringLike: { 's3:prefix': [`${VECTOR_KEYS_PREFIX}*`] } } }),
      ]),
    );
  });

  it('thumbnails are cut off the GPU path: their own queue (14 days, DLQ) and a CPU Lambda with ffmpeg from a layer', () => {
    const q = resources[thumbnailQueueId()]!.Properties;
    expect(q).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600, VisibilityTimeout: 6 * DEFAULTS.thumbnailTimeoutSeconds });
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: arn(thumbnailDlqId()), maxReceiveCount: DEFAULTS.maxReceiveCount });
    const fn = resources[thumbnailFnId()]!.Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', MemorySize: 2048, Timeout: DEFAULTS.thumbnailTimeoutSeconds });
    expect(envOf(thumbnailFnId())).toMatchObject({ [ENV.table]: ref(tableId()), [ENV.ffmpeg]: FFMPEG_LAYER_PATH });
    const layers = fn.Layers as { Ref: string }[];
    expect(resources[layers[0]!.Ref]!.Properties.Description).toMatch(/static ffmpeg .* at \/opt\/bin\/ffmpeg/);
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arn(thumbnailQueueId()),
      FunctionName: ref(thumbnailFnId()),
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: DEFAULTS.thumbnailMaxConcurrency },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // It reads a revision's window scores, which a large clip keeps under the payload prefix.
    expect(statementsOf(thumbnailRoleId())).toEqual(expect.arrayContaining([expect.objectContaining({ Action: 's3:GetObject', Resource: objectsArn(CLIP_PAYLOAD_PREFIX) })]));
    expect(allowedActions(thumbnailRoleId())).toEqual(
      ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:GetObject', 's3:GetObject', 's3:PutObject',
        'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'].sort(),
    );
  });

  it('no role of ours is allowed a wildcard action', () => {
    for (const role of [segmenterRoleId(), queryRoleId(), taskRoleId(), thumbnailRoleId()]) {
      for (const action of allowedActions(role)) expect(action, role).not.toMatch(/\*/);
    }
  });
});

describe('vector index', () => {
  it('one SSE-S3 vector bucket with a cosine float32 index per space, sized from the model manifests', () => {
    const bucket = byPrefix('AWS::S3Vectors::VectorBucket', 'VectorsBucket');
    expect(resources[bucket]!.Properties.EncryptionConfiguration).toEqual({ SseType: 'AES256' });
    const dims = Object.fromEntries(VECTOR_SPACES.map((space) => {
      const p = resources[byPrefix('AWS::S3Vectors::Index', `Vectors${space.replace('.', '')}`)]!.Properties;
      expect(p).toMatchObject({ DataType: 'float32', DistanceMetric: 'cosine', IndexName: space.replace('.', '-'), MetadataConfiguration: { NonFilterableMetadataKeys: ['start', 'end', 'person'] } });
      return [space, p.Dimension];
    }));
    // slowfast_r50 pools 2304 features, as does the AVA model per box; CLIP embeds in 512.
    expect(dims).toEqual({ 'window.clip': 512, 'window.action': 2304, 'person.clip': 512, 'person.action': 2304 });
  });

  it('the query function is told the vector bucket', () => {
    expect(envOf(queryFnId())[ENV.vectorBucket]).toBeTruthy();
  });
});

describe('GPU workers', () => {
  it('cluster with Container Insights (RunningTaskCount feeds scaling)', () => {
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  it('instances: ECS GPU-optimized AMI, g5.xlarge, IMDSv2 with hop limit 1, encrypted root volume', () => {
    const params = t.toJSON().Parameters as Record<string, { Default: string }>;
    const ami = Object.entries(params).find(([, p]) => p.Default === '/aws/service/ecs/optimized-ami/amazon-linux-2/gpu/recommended/image_id');
    expect(ami, 'GPU AMI SSM parameter').toBeDefined();
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        ImageId: { Ref: ami![0] },
        InstanceType: 'g5.xlarge',
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: Match.objectLike({ Encrypted: true, VolumeType: 'gp3' }) }],
      }),
    });
  });

  it('spot has several GPU families to choose from: g5, g6 and g4dn, one GPU each', () => {
    const asg = Object.values(resources).find((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')!;
    const overrides = (asg.Properties.MixedInstancesPolicy as { LaunchTemplate: { Overrides: { InstanceType: string }[] } }).LaunchTemplate.Overrides.map((o) => o.InstanceType);
    expect(overrides).toEqual([...DEFAULT_WORKER_INSTANCE_TYPES]);
    expect(new Set(overrides.map((o) => o.split('.')[0]))).toEqual(new Set(['g5', 'g6', 'g4dn']));
  });

  it('the workers spread over 3 AZs (subnets in three distinct AZs of the region)', () => {
    const subnets = Object.values(resources).filter((r) => r.Type === 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(3);
    const azs = subnets.map((r) => JSON.stringify(r.Properties.AvailabilityZone));
    expect(new Set(azs).size).toBe(3);
    for (const [i, az] of subnets.map((r) => r.Properties.AvailabilityZone).entries()) expect(az).toEqual({ 'Fn::Select': [i, { 'Fn::GetAZs': '' }] });
    const asg = Object.values(resources).find((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup')!;
    expect(asg.Properties.VPCZoneIdentifier).toHaveLength(3);
  });

  it('auto scaling group starts at 0, on demand by default, and ECS managed scaling drives it', () => {
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '0',
      MaxSize: '4',
      NewInstancesProtectedFromScaleIn: true,
      MixedInstancesPolicy: Match.objectLike({
        InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 100, SpotAllocationStrategy: 'price-capacity-optimized' },
      }),
    });
    t.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({
        ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100, MinimumScalingStepSize: 1 }),
        ManagedTerminationProtection: 'ENABLED',
      }),
    });
  });

  it('task: one GPU, drain within the stop timeout, health check on /health, init process, awslogs', () => {
    const c = workerContainer();
    expect(c.ResourceRequirements).toEqual([{ Type: 'GPU', Value: '1' }]);
    expect(c.StopTimeout).toBe(DEFAULTS.stopTimeoutSeconds);
    expect(c.HealthCheck).toEqual({ Command: ['CMD-SHELL', WORKER_HEALTH_SCRIPT], Interval: 30, Timeout: 5, Retries: 3, StartPeriod: 120 });
    expect(WORKER_HEALTH_SCRIPT).toContain('/health');
    expect(c.LinuxParameters).toMatchObject({ InitProcessEnabled: true });
    expect(c.LogConfiguration).toMatchObject({ LogDriver: 'awslogs' });
    expect(resources[taskDefId()]!.Properties).toMatchObject({ NetworkMode: 'bridge', RequiresCompatibilities: ['EC2'], TaskRoleArn: arn(taskRoleId()) });
  });

  it('worker environment: table and its label shards, the bucket for large clip payloads, queue, model, event topic and bus, region, health port, CUDA, queue settings', () => {
    const env = Object.fromEntries((workerContainer().Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));
    expect(env).toEqual({
      [ENV.table]: ref(tableId()),
      [ENV.labelShards]: String(INDEX_DEFAULTS.labelShards),
      [ENV.bucket]: ref(bucketId()),
      [ENV.queueUrl]: ref(clipQueueId()),
      [ENV.thumbnailQueueUrl]: ref(thumbnailQueueId()),
      [ENV.model]: `${IMAGE_MODELS_DIR}/slowfast_r50.json`,
      [ENV.eventTopicArn]: ref(eventTopicId()),
      [ENV.eventBusName]: ref(eventBusId()),
      [ENV.region]: { Ref: 'AWS::Region' },
      [ENV.healthPort]: '8080',
      [ENV.device]: 'cuda',
      [ENV.visibilityTimeoutSeconds]: String(DEFAULTS.visibilityTimeoutSeconds),
      [ENV.heartbeatSeconds]: String(DEFAULTS.heartbeatSeconds),
      [ENV.stopTimeoutSeconds]: String(DEFAULTS.stopTimeoutSeconds),
      // The default analyses: classification only (no detection models named).
      [ENV.analyses]: 'classify',
      [ENV.keyframeInterval]: '1',
      // Moment vectors: the S3 vector bucket (its key lists go in the video bucket above).
      [ENV.vectorBucket]: 'vidxtest-vectors',
    });
  });

  type Declared = { fields: SettingFields };
  it('each process gets exactly the settings its schema reads: every required one, nothing it does not read', () => {
    // Set by the platform or for it, not read as settings: Node's options, the Powertools service name.
    const PLATFORM = new Set(['NODE_OPTIONS', 'POWERTOOLS_SERVICE_NAME']);
    const lambdas: [string, Declared][] = [['vidx-segmenter', SEGMENTER_SETTINGS], ['vidx-query', QUERY_SETTINGS], ['vidx-sweeper', SWEEPER_SETTINGS], ['vidx-thumbnails', THUMBNAIL_SETTINGS]];
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function' && (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME);
    expect(functions.map(([id]) => envOf(id).POWERTOOLS_SERVICE_NAME).sort()).toEqual(lambdas.map(([name]) => name).sort());
    const worker = Object.fromEntries((workerContainer().Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));
    const sets: [string, Record<string, unknown>, Declared][] = [
      ...lambdas.map(([name, def]): [string, Record<string, unknown>, Declared] => [name, envOf(functions.find(([id]) => envOf(id).POWERTOOLS_SERVICE_NAME === name)![0]), def]),
      ['worker', worker, WORKER_SETTINGS],
    ];
    for (const [name, env, def] of sets) {
      const set = Object.keys(env).filter((k) => !PLATFORM.has(k)).sort();
      expect(set.filter((k) => !envNamesOf(def).includes(k)), `${name} gets variables it does not read`).toEqual([]);
      expect(requiredEnvNamesOf(def).filter((k) => !set.includes(k)), `${name} misses required variables`).toEqual([]);
    }
  });

  it('service: 0 tasks at creation, on the GPU capacity provider, rolls back failed deployments', () => {
    t.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 0,
      CapacityProviderStrategy: [{ CapacityProvider: { Ref: byPrefix('AWS::ECS::CapacityProvider', 'GpuCapacity') }, Weight: 1 }],
      DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }),
    });
  });

  it('image: gpu-worker/Dockerfile for linux/amd64, context = repo root trimmed by .dockerignore', () => {
    const manifest = JSON.parse(readFileSync(join(s.outdir, 'VidxTest.assets.json'), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; dockerFile: string; platform: string; dockerBuildArgs: Record<string, string> } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    const src = images[0]!.source;
    expect(src).toMatchObject({ dockerFile: 'gpu-worker/Dockerfile', platform: 'linux/amd64', dockerBuildArgs: { VIDX_ARCH: 'slowfast_r50', VIDX_MODEL_SOURCE: 'pretrained' } });
    expect(src.dockerBuildArgs.VIDX_EXTRA_ARCHS).toBeUndefined(); // classification only (the default analyses): no detection models
    const context = join(s.outdir, src.directory);
    const top = readdirSync(context).sort();
    expect(top).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'bin', 'core', 'gpu-worker', 'models', '.dockerignore']));
    for (const excluded of ['node_modules', 'cdk.out', '.git', 'test', 'cdk', 'docs', '.vidx', '.cache', '.npmrc']) {
      expect(top, excluded).not.toContain(excluded);
    }
    expect(existsSync(join(context, 'gpu-worker', 'Dockerfile'))).toBe(true);
    expect(existsSync(join(context, 'gpu-worker', 'main.ts'))).toBe(true);
  });
});

describe('worker scaling', () => {
  const policies = () =>
    Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApplicationAutoScaling::ScalingPolicy');
  const alarmActing = (policyId: string) =>
    Object.values(resources).find(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && JSON.stringify(r.Properties.AlarmActions ?? []).includes(`"${policyId}"`),
    )!;
  const stepPolicy = (adjustment: number) =>
    policies().find(([, r]) => {
      const c = r.Properties.StepScalingPolicyConfiguration as { AdjustmentType: string; StepAdjustments: { ScalingAdjustment: number }[] } | undefined;
      return c?.AdjustmentType === 'ExactCapacity' && c.StepAdjustments[0]?.ScalingAdjustment === adjustment;
    })!;

  it('scalable target: desired count from 0 to the configured maximum', () => {
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 0,
      MaxCapacity: 4,
    });
    expect(policies()).toHaveLength(3);
  });

  it('target tracking on (visible + in flight) / running tasks', () => {
    const [, policy] = policies().find(([, r]) => r.Properties.PolicyType === 'TargetTrackingScaling')!;
    const cfg = policy.Properties.TargetTrackingScalingPolicyConfiguration as {
      TargetValue: number;
      CustomizedMetricSpecification: { Metrics: { Id: string; Expression?: string; ReturnData: boolean; MetricStat?: { Metric: { MetricName: string; Namespace: string } } }[] };
    };
    expect(cfg.TargetValue).toBe(s.config.backlogPerTask);
    const metrics = cfg.CustomizedMetricSpecification.Metrics;
    const named = Object.fromEntries(metrics.filter((m) => m.MetricStat).map((m) => [m.Id, `${m.MetricStat!.Metric.Namespace}/${m.MetricStat!.Metric.MetricName}`]));
    expect(named).toEqual({
      visible: 'AWS/SQS/ApproximateNumberOfMessagesVisible',
      inflight: 'AWS/SQS/ApproximateNumberOfMessagesNotVisible',
      running: 'ECS/ContainerInsights/RunningTaskCount',
    });
    expect(metrics.filter((m) => m.ReturnData)).toEqual([expect.objectContaining({ Expression: '(visible + inflight) / running' })]);
  });

  it('scale from zero: exact capacity 1 when clips are visible and the desired count is 0', () => {
    const [id, policy] = stepPolicy(1);
    expect(policy.Properties.StepScalingPolicyConfiguration).toMatchObject({
      AdjustmentType: 'ExactCapacity',
      StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
    });
    const alarm = alarmActing(id).Properties;
    expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
    const expr = (alarm.Metrics as { Expression?: string }[]).find((m) => m.Expression)!.Expression!;
    expect(expr).toBe('IF(visible > 0 AND FILL(desired, 0) < 1, 1, 0)');
    expect(JSON.stringify(alarm.Metrics)).toContain('"MetricName":"DesiredTaskCount"');
    expect(JSON.stringify(alarm.Metrics)).toContain('"MetricName":"ApproximateNumberOfMessagesVisible"');
  });

  it('scale to zero: exact capacity 0 after the queue has been empty (visible and in flight) for 15 minutes', () => {
    const [id, policy] = stepPolicy(0);
    expect(policy.Properties.StepScalingPolicyConfiguration).toMatchObject({
      StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 0 }],
    });
    const alarm = alarmActing(id).Properties;
    expect(alarm).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      EvaluationPeriods: 15,
      DatapointsToAlarm: 15,
      TreatMissingData: 'breaching',
    });
    expect((alarm.Metrics as { Expression?: string }[]).find((m) => m.Expression)!.Expression).toBe('FILL(visible, 0) + FILL(inflight, 0)');
  });
});

describe('query API', () => {
  it(`routes GET ${QUERY_ROUTES.join(', ')} and POST ${QUERY_POST_ROUTES.join(', ')} to the query Lambda, each IAM-authorized`, () => {
    const routes = Object.values(resources).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route');
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual([...QUERY_ROUTES.map((p) => `GET ${p}`), ...QUERY_POST_ROUTES.map((p) => `POST ${p}`)].sort());
    for (const r of routes) expect(r.Properties.AuthorizationType, String(r.Properties.RouteKey)).toBe('AWS_IAM');
    t.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: arn(queryFnId()),
      PayloadFormatVersion: '2.0',
    });
  });

  it('$default stage: auto deploy, throttled, JSON access logs to a log group', () => {
    const stage = Object.values(resources).find((r) => r.Type === 'AWS::ApiGatewayV2::Stage')!.Properties;
    expect(stage).toMatchObject({
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: arn(byPrefix('AWS::Logs::LogGroup', 'QueryApiAccessLogs')) },
    });
    const format = JSON.parse((stage.AccessLogSettings as { Format: string }).Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' });
  });
});

describe('operations', () => {
  const alarms = () => Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties);
  const topicId = () => byPrefix('AWS::SNS::Topic', 'MonitoringAlarmTopic');
  const alarmOn = (metricName: string, dimension: unknown) =>
    alarms().find((a) => a.MetricName === metricName && JSON.stringify(a.Dimensions ?? []).includes(JSON.stringify(dimension)));

  it('alarms: clip DLQ and segmenter DLQ not empty, oldest clip age, worker errors, Lambda errors; all notify the topic', () => {
    const expected = [
      alarmOn('ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [clipDlqId(), 'QueueName'] }),
      alarmOn('ApproximateNumberOfMessagesVisible', { 'Fn::GetAtt': [segmenterDlqId(), 'QueueName'] }),
      alarmOn('ApproximateAgeOfOldestMessage', { 'Fn::GetAtt': [clipQueueId(), 'QueueName'] }),
      alarms().find((a) => a.MetricName === 'WorkerErrors' && a.Namespace === 'vidx'),
      alarmOn('Errors', ref(segmenterFnId())),
      alarmOn('Errors', ref(queryFnId())),
    ];
    for (const a of expected) {
      expect(a).toBeDefined();
      expect(a!.AlarmActions).toEqual([ref(topicId())]);
    }
    expect(expected[0]).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(expected[2]).toMatchObject({ Threshold: 3600, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('alarms against the 14-day retention: the oldest clip job or upload event has waited half of it', () => {
    for (const id of [clipQueueId(), intakeQueueId()]) {
      const a = alarms().find((x) => x.MetricName === 'ApproximateAgeOfOldestMessage' && x.Threshold === 7 * 24 * 3600 && JSON.stringify(x.Dimensions).includes(JSON.stringify({ 'Fn::GetAtt': [id, 'QueueName'] })));
      expect(a, id).toMatchObject({ ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Maximum', AlarmActions: [ref(topicId())] });
    }
  });

  it('worker errors are counted from the worker log group', () => {
    t.hasResourceProperties('AWS::Logs::MetricFilter', {
      LogGroupName: ref(byPrefix('AWS::Logs::LogGroup', 'WorkerLogs')),
      FilterPattern: Match.stringLikeRegexp('\\$\\.level = "error"'),
      MetricTransformations: [Match.objectLike({ MetricName: 'WorkerErrors', MetricNamespace: 'vidx', MetricValue: '1' })],
    });
  });

  it('the alarm topic is TLS-only, and a dashboard exists', () => {
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('VPC flow logs (rejected traffic) go to CloudWatch Logs', () => {
    t.hasResourceProperties('AWS::EC2::FlowLog', { TrafficType: 'REJECT', LogDestinationType: 'cloud-watch-logs' });
  });

  it('outputs: bucket, video prefix, API URL, queue URL (and DLQ, table, logs, dashboard, topic)', () => {
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.BucketName!.Value).toEqual(ref(bucketId()));
    expect(outputs.VideoPrefix!.Value).toBe(VIDEO_PREFIX); // `vidx upload --stack` reads it
    expect(outputs.QueueUrl!.Value).toEqual(ref(clipQueueId()));
    expect(JSON.stringify(outputs.ApiUrl!.Value)).toContain('execute-api');
    expect(Object.keys(outputs).sort()).toEqual(
      ['AlarmTopicArn', 'ApiUrl', 'BucketName', 'DashboardName', 'DeadLetterQueueUrl', 'EventBusName', 'EventTopicArn', 'IntakeDeadLetterQueueArn', 'IntakeQueueUrl', 'QueueUrl', 'TableName', 'VideoPrefix', 'WebhookSecretArn', 'WorkerLogGroup'].sort(),
    );
  });
});

describe('video events', () => {
  it('an SNS topic that refuses plain HTTP, named by the EventTopicArn output', () => {
    const topic = eventTopicId();
    t.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'vidx video events' });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [ref(topic)],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    expect((t.toJSON().Outputs as Record<string, { Value: unknown }>).EventTopicArn!.Value).toEqual(ref(topic));
  });

  it('an EventBridge bus of its own, named by the EventBusName output', () => {
    const bus = eventBusId();
    expect(resources[bus]!.Properties.Name).toBe('VidxTest-video-events');
    expect((t.toJSON().Outputs as Record<string, { Value: unknown }>).EventBusName!.Value).toEqual({ Ref: bus });
  });

  it('a generated webhook signing secret (never in the template), named by the WebhookSecretArn output', () => {
    const secret = byPrefix('AWS::SecretsManager::Secret', 'EventsWebhookSecret');
    expect(resources[secret]!.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
    expect(resources[secret]!.Properties.SecretString).toBeUndefined();
    expect((t.toJSON().Outputs as Record<string, { Value: unknown }>).WebhookSecretArn!.Value).toEqual(ref(secret));
  });

  it('the segmenter and the workers get the topic and the bus in their environment (no webhook by default)', () => {
    const env = envOf(segmenterFnId());
    expect(env[ENV.eventTopicArn]).toEqual(ref(eventTopicId()));
    expect(env[ENV.eventBusName]).toEqual(ref(eventBusId()));
    expect(env[ENV.webhookUrl]).toBeUndefined();
    const worker = Object.fromEntries((workerContainer().Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));
    expect(worker[ENV.eventTopicArn]).toEqual(ref(eventTopicId()));
    expect(worker[ENV.eventBusName]).toEqual(ref(eventBusId()));
  });
});
