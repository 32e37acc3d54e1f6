/**
 * One synthesis with non-default settings: the sweeper (a scheduled Lambda that finishes or fails
 * videos whose clip jobs were lost), the worker settings that reach the worker's environment
 * (heartbeat, visibility timeout, stop timeout), and the analyses (classification and detection)
 * reaching the segmenter, the worker and the worker image's models, each as configured.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Template } from 'aws-cdk-lib/assertions';
import { CLIP_PAYLOAD_PREFIX, ENV, VIDEO_PREFIX } from '../../core/names.ts';
import { KEYS } from '../../adapters/dynamo-index/layout.ts';
import { staleAfterSeconds } from '../../core/pipeline/sweep.ts';
import { IMAGE_MODELS_DIR } from '../../cdk/constructs/gpu-worker-service.ts';
import { synthesize, type Synthesized } from './synth.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
const SETTINGS = {
  visibilityTimeoutSeconds: 300,
  heartbeatSeconds: 45,
  stopTimeoutSeconds: 60,
  maxReceiveCount: 4,
  sweepEveryMinutes: 10,
  maxRequeues: 2,
  // As `-c vidx:analyses=detect,classify` gives it: a string, in any order.
  analyses: 'detect,classify',
  keyframeIntervalSeconds: 2,
  personThreshold: 0.7,
};

let s: Synthesized;
let t: Template;
let resources: Resources;
beforeAll(() => {
  s = synthesize(SETTINGS);
  t = s.template;
  resources = t.toJSON().Resources as Resources;
  expect(s.nagViolations).toEqual([]);
}, 300_000);

function only(type: string, prefix: string): string {
  const ids = Object.keys(resources).filter((id) => resources[id]!.Type === type && id.startsWith(prefix));
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0]!;
}
const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('sweeper', () => {
  it('a Lambda run on the configured schedule, told the staleness the queue settings imply', () => {
    const fn = only('AWS::Lambda::Function', 'SweeperFunction');
    expect(resources[fn]!.Properties).toMatchObject({ Runtime: 'nodejs22.x', Timeout: 120 });
    expect((resources[fn]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      [ENV.table]: { Ref: only('AWS::DynamoDB::Table', 'IndexTable') },
      [ENV.queueUrl]: { Ref: only('AWS::SQS::Queue', 'ClipQueueClips') },
      [ENV.sweepStaleSeconds]: String(staleAfterSeconds(300, 4)),
      [ENV.sweepMaxRequeues]: '2',
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(10 minutes)',
      State: 'ENABLED',
      Targets: [{ Arn: arn(fn), Id: 'Target0', RetryPolicy: { MaximumRetryAttempts: 0 } }],
    });
    t.hasResourceProperties('AWS::Lambda::Permission', { Action: 'lambda:InvokeFunction', FunctionName: arn(fn), Principal: 'events.amazonaws.com' });
  });

  it('may read the index of unfinished videos, update and clean up records, send clip jobs, read queue depth and HEAD videos: nothing more', () => {
    const role = only('AWS::IAM::Role', 'SweeperRole');
    const table = only('AWS::DynamoDB::Table', 'IndexTable');
    const statements = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(`"${role}"`))
      .flatMap((r) => (r.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement);
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Action: ['dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'dynamodb:BatchGetItem'], Resource: arn(table) }),
        expect.objectContaining({ Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [arn(table), `/index/${KEYS.unfinished.name}`]] } }),
        expect.objectContaining({ Action: 's3:DeleteObject', Resource: { 'Fn::Join': ['', [arn(only('AWS::S3::Bucket', 'StorageVideos')), `/${CLIP_PAYLOAD_PREFIX}*`]] } }),
        expect.objectContaining({ Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes'], Resource: arn(only('AWS::SQS::Queue', 'ClipQueueClips')) }),
        expect.objectContaining({ Action: 's3:GetObject', Resource: { 'Fn::Join': ['', [arn(only('AWS::S3::Bucket', 'StorageVideos')), `/${VIDEO_PREFIX}*`]] } }),
      ]),
    );
    const actions = statements.flatMap((st) => [st.Action].flat()).sort();
    expect(actions).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:Query', 'dynamodb:Query', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 's3:DeleteObject', 's3:GetObject', 'sqs:GetQueueAttributes', 'sqs:SendMessage'].sort(),
    );
  });
});

describe('worker settings from cdk/config.ts', () => {
  it('heartbeat, visibility timeout and stop timeout reach the worker as configured', () => {
    const task = only('AWS::ECS::TaskDefinition', 'WorkerTask');
    const container = (resources[task]!.Properties.ContainerDefinitions as Record<string, unknown>[])[0]!;
    expect(workerEnvironment()).toMatchObject({ [ENV.visibilityTimeoutSeconds]: '300', [ENV.heartbeatSeconds]: '45', [ENV.stopTimeoutSeconds]: '60' });
    expect(container.StopTimeout).toBe(60);
    t.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 300, RedrivePolicy: { maxReceiveCount: 4, deadLetterTargetArn: arn(only('AWS::SQS::Queue', 'ClipQueueDeadLetter')) } });
  });
});

function workerEnvironment(): Record<string, unknown> {
  const task = only('AWS::ECS::TaskDefinition', 'WorkerTask');
  const container = (resources[task]!.Properties.ContainerDefinitions as Record<string, unknown>[])[0]!;
  return Object.fromEntries((container.Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]));
}

describe('analyses from cdk/config.ts', () => {
  it('the segmenter plans detection keyframes at the configured interval', () => {
    const fn = only('AWS::Lambda::Function', 'SegmenterFunction');
    expect((resources[fn]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      [ENV.analyses]: 'classify,detect',
      [ENV.keyframeInterval]: '2',
    });
  });

  it('the worker runs both analyses with the detection models the image holds, at the configured person threshold', () => {
    expect(workerEnvironment()).toMatchObject({
      [ENV.analyses]: 'classify,detect',
      [ENV.keyframeInterval]: '2',
      [ENV.peopleModel]: `${IMAGE_MODELS_DIR}/fasterrcnn_resnet50_fpn_v2.json`,
      [ENV.actionsModel]: `${IMAGE_MODELS_DIR}/slowfast_r50_detection.json`,
      [ENV.personThreshold]: '0.7',
    });
  });

  it('the worker image is built with the detection pair beside the classifier', () => {
    const manifest = JSON.parse(readFileSync(join(s.outdir, 'VidxTest.assets.json'), 'utf8')) as { dockerImages: Record<string, { source: { dockerBuildArgs: Record<string, string> } }> };
    const [image] = Object.values(manifest.dockerImages);
    expect(image!.source.dockerBuildArgs).toMatchObject({ VIDX_ARCH: 'slowfast_r50', VIDX_EXTRA_ARCHS: 'fasterrcnn_resnet50_fpn_v2 slowfast_r50_detection' });
  });
});
