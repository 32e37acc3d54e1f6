/**
 * The CDK configuration (defaults shared with the runtime, context parsing, refusals), the
 * segmenter's manifest resolution, and one synthesis with the non-default options: spot, several
 * instance types, a JWT authorizer, no reserved concurrency.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, type Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, VIDEO_PREFIX } from '../../core/names.ts';
import { loadManifest } from '../../core/pipeline/model-ref.ts';
import { loadConfig, type ContextSource } from '../../cdk/config.ts';
import { ffprobePackageDir } from '../../cdk/constructs/ffprobe-layer.ts';
import { QUERY_POST_ROUTES, QUERY_ROUTES } from '../../cdk/constructs/query-api.ts';
import { type ManifestOptions, segmenterManifest } from '../../cdk/model-manifest.ts';
import { isVidxError, type VidxError } from '../../core/errors.ts';
import { FIXTURE_MANIFEST, REPO_ROOT, synthesize, type Synthesized } from './synth.ts';

const context = (values: Record<string, unknown>): ContextSource => ({ tryGetContext: (k) => values[k] });

describe('loadConfig', () => {
  it('defaults come from core/names.ts', () => {
    const c = loadConfig(context({}));
    expect(c).toMatchObject({
      maxReceiveCount: DEFAULTS.maxReceiveCount,
      visibilityTimeoutSeconds: DEFAULTS.visibilityTimeoutSeconds,
      heartbeatSeconds: DEFAULTS.heartbeatSeconds,
      stopTimeoutSeconds: DEFAULTS.stopTimeoutSeconds,
      clipSeconds: DEFAULTS.clipSeconds,
      videoPrefix: VIDEO_PREFIX,
      workerInstanceTypes: ['g5.xlarge', 'g6.xlarge', 'g4dn.xlarge', 'g5.2xlarge', 'g6.2xlarge', 'g4dn.2xlarge'],
      workerSpot: false,
      workerMaxTasks: 4,
      maxAzs: 3,
      segmenterMaxConcurrency: DEFAULTS.segmenterMaxConcurrency,
      segmenterReservedConcurrency: 0,
      intakeMaxReceiveCount: DEFAULTS.intakeMaxReceiveCount,
      expiryAlarmPercent: 50,
      authorizer: { type: 'iam' },
      lambdaArchitecture: 'x86_64',
      modelSource: 'pretrained',
      analyses: ['classify'],
      keyframeIntervalSeconds: 1,
    });
  });

  it('analyses: classify, detect or both, from a list or a -c string in any order; nothing else', () => {
    expect(loadConfig(context({ 'vidx:analyses': 'detect, classify' })).analyses).toEqual(['classify', 'detect']);
    expect(loadConfig(context({ vidx: { analyses: ['detect'] } })).analyses).toEqual(['detect']);
    expect(() => loadConfig(context({ 'vidx:analyses': 'classify,track' }))).toThrow(/analyses/);
    expect(() => loadConfig(context({ 'vidx:analyses': '' }))).toThrow(/analyses/);
    expect(() => loadConfig(context({ 'vidx:keyframeIntervalSeconds': '0' }))).toThrow(/keyframeIntervalSeconds/);
    expect(() => loadConfig(context({ 'vidx:personThreshold': '1.5' }))).toThrow(/personThreshold/);
  });

  it('reads an object under "vidx" and single "vidx:<key>" strings from -c, the latter winning', () => {
    const c = loadConfig(
      context({
        vidx: { workerMaxTasks: 2, workerSpot: false },
        'vidx:workerSpot': 'true',
        'vidx:workerInstanceTypes': 'g5.xlarge, g6.xlarge',
        'vidx:maxReceiveCount': '3',
        'vidx:authorizer': '{"type":"jwt","issuer":"https://issuer.example.com","audience":["vidx"]}',
      }),
    );
    expect(c).toMatchObject({
      workerMaxTasks: 2,
      workerSpot: true,
      workerInstanceTypes: ['g5.xlarge', 'g6.xlarge'],
      maxReceiveCount: 3,
      authorizer: { type: 'jwt', issuer: 'https://issuer.example.com', audience: ['vidx'] },
    });
  });

  it('refuses a visibility timeout that a heartbeat or a drain could outlive', () => {
    expect(() => loadConfig(context({}), { visibilityTimeoutSeconds: 50, heartbeatSeconds: 30 })).toThrow(/twice heartbeatSeconds/);
    expect(() => loadConfig(context({}), { visibilityTimeoutSeconds: 100, stopTimeoutSeconds: 120 })).toThrow(/stopTimeoutSeconds/);
  });

  it('refuses nonsense with the key named', () => {
    expect(() => loadConfig(context({ 'vidx:workerMaxTasks': '0' }))).toThrow(/workerMaxTasks/);
    expect(loadConfig(context({ 'vidx:workerMaxTasks': '1000' })).workerMaxTasks).toBe(1000);
    expect(() => loadConfig(context({ 'vidx:workerMaxTasks': '1001' }))).toThrow(/workerMaxTasks/);
    // A reservation below the mapping's concurrency would throttle the intake.
    expect(() => loadConfig(context({ 'vidx:segmenterMaxConcurrency': '50', 'vidx:segmenterReservedConcurrency': '10' }))).toThrow(/segmenterReservedConcurrency/);
    expect(loadConfig(context({ 'vidx:segmenterMaxConcurrency': '50', 'vidx:segmenterReservedConcurrency': '60' })).segmenterReservedConcurrency).toBe(60);
    expect(() => loadConfig(context({ 'vidx:segmenterMaxConcurrency': '1' }))).toThrow(/segmenterMaxConcurrency/);
    expect(() => loadConfig(context({ 'vidx:logRetentionDays': '10' }))).toThrow(/logRetentionDays/);
    expect(() => loadConfig(context({ 'vidx:workerInstanceTypes': 'not an instance' }))).toThrow(/workerInstanceTypes/);
    expect(() => loadConfig(context({ vidx: { authorizer: { type: 'jwt', issuer: 'x', audience: [] } } }))).toThrow(/authorizer/);
  });

  it('refuses pretrained weights the image build cannot download, unless a mirror serves them', () => {
    expect(loadConfig(context({}), { model: 'i3d_inception_v1' }).model).toBe('i3d_inception_v1');
    expect(() => loadConfig(context({}), { model: 'mars_resnext101' })).toThrow(/mars_resnext101's weights have no public download address .*put MARS_Kinetics_16f\.pth on a mirror and set modelZooUrl/);
    expect(loadConfig(context({}), { model: 'mars_resnext101', modelZooUrl: 'https://mirror.example/zoo' }).modelZooUrl).toBe('https://mirror.example/zoo');
    expect(loadConfig(context({}), { model: 'mars_resnext101', modelSource: 'synthetic' }).modelSource).toBe('synthetic');
    // ModelScope's file has no fixed name here, so no mirror can stand in for it.
    expect(() => loadConfig(context({}), { model: 'tps_swin_tiny', modelZooUrl: 'https://mirror.example/zoo' })).toThrow(/tps_swin_tiny's weights .*set modelSource to synthetic/);
  });
});

describe('segmenter manifest', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'vidx-manifest-test-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  const emptyCache = (): ManifestOptions => ({ env: { VIDX_CACHE: mkdtempSync(join(scratch, 'cache-')) }, outdir: mkdtempSync(join(scratch, 'out-')) });
  const pulledCache = (): ManifestOptions => {
    const options = emptyCache();
    const cache = options.env!.VIDX_CACHE!;
    mkdirSync(join(cache, 'official'));
    copyFileSync(join(REPO_ROOT, FIXTURE_MANIFEST), join(cache, 'official', 'slowfast_r50.json'));
    return options;
  };

  it('uses the configured file', () => {
    const m = segmenterManifest('slowfast_r50', FIXTURE_MANIFEST, emptyCache());
    expect(m).toEqual({ model: 'slowfast_r50', path: join(REPO_ROOT, FIXTURE_MANIFEST), origin: 'configured', trained: false });
  });

  it('a configured file that is not there is a typed MODEL_MANIFEST_MISSING error', () => {
    expect(() => segmenterManifest('slowfast_r50', 'test/cdk/fixtures/nothing-here.json', emptyCache())).toThrow(
      expect.objectContaining({ code: 'MODEL_MANIFEST_MISSING', message: expect.stringMatching(/nothing-here\.json does not exist/) }),
    );
  });

  it('reads the manifest `vidx models pull` left in the cache only when modelManifest=pulled', () => {
    const options = pulledCache();
    expect(segmenterManifest('slowfast_r50', 'pulled', options).origin).toBe('pulled');
    // The default never looks at the cache, pulled or not: the same config, the same template.
    expect(segmenterManifest('slowfast_r50', undefined, options).origin).toBe('generated');
    expect(loadConfig(context({})).modelManifest).toBe('generated');
  });

  it('modelManifest=pulled with nothing pulled is a typed MODEL_MANIFEST_MISSING error that says what to run', () => {
    const options = emptyCache();
    let error: unknown;
    try {
      segmenterManifest('i3d_r50', 'pulled', options);
    } catch (e) {
      error = e;
    }
    expect(isVidxError(error, 'MODEL_MANIFEST_MISSING')).toBe(true);
    expect((error as VidxError).message).toContain(join(options.env!.VIDX_CACHE!, 'official', 'i3d_r50.json'));
    expect((error as VidxError).hint).toContain('npx vidx models pull i3d_r50');
  });

  it('by default generates a planning manifest with the worker\'s window settings, marked untrained, in the given folder', () => {
    const options = emptyCache();
    const m = segmenterManifest('slowfast_r50', undefined, options);
    expect(m.origin).toBe('generated');
    expect(m.trained).toBe(false);
    expect(m.path.startsWith(options.outdir!)).toBe(true);
    const generated = loadManifest(m.path);
    expect(generated).toMatchObject({ architecture: 'slowfast_r50', frames: 32, samplingRate: 2, fps: 30, trained: false, source: { kind: 'synthetic' } });
  });

  it.each([
    ['i3d_inception_v1', { frames: 64, samplingRate: 1, fps: 25, inputRange: [-1, 1] }],
    ['mars_resnext101', { frames: 16, samplingRate: 1, fps: 25, inputRange: [0, 255] }],
    ['tps_swin_tiny', { frames: 32, samplingRate: 2, fps: 30, inputRange: [0, 255] }],
  ])('takes the seed papers\' models too: %s gets its own window settings', (model, settings) => {
    const m = segmenterManifest(model, undefined, emptyCache());
    expect(loadManifest(m.path)).toMatchObject({ architecture: model, ...settings, trained: false });
  });

  it('refuses an unknown architecture or a manifest of another one', () => {
    expect(() => segmenterManifest('resnet9000', undefined, emptyCache())).toThrow(/unknown model architecture/);
    expect(() => segmenterManifest('i3d_r50', FIXTURE_MANIFEST, emptyCache())).toThrow(/manifest for slowfast_r50/);
  });
});

describe('ffprobe layer source', () => {
  it('is the npm static binary of the Lambda architecture, with a clear error when absent', () => {
    expect(ffprobePackageDir(lambda.Architecture.X86_64)).toMatch(/@ffprobe-installer[/\\]linux-x64$/);
    let arm: string | Error;
    try {
      arm = ffprobePackageDir(lambda.Architecture.ARM_64);
    } catch (e) {
      arm = e as Error;
    }
    if (arm instanceof Error) expect(arm.message).toMatch(/linux-arm64 is not installed.*lambdaArchitecture=x86_64/);
    else expect(arm).toMatch(/linux-arm64$/);
  });
});

describe('stack with spot, two instance types, a JWT authorizer', () => {
  let s: Synthesized;
  let t: Template;
  const previousCache = process.env.VIDX_CACHE;
  afterAll(() => {
    if (previousCache === undefined) delete process.env.VIDX_CACHE;
    else process.env.VIDX_CACHE = previousCache;
  });
  beforeAll(() => {
    // No manifest configured and an empty model cache: the segmenter's manifest is generated.
    process.env.VIDX_CACHE = mkdtempSync(join(tmpdir(), 'vidx-cache-'));
    s = synthesize({
      modelManifest: undefined,
      workerSpot: true,
      workerInstanceTypes: ['g5.xlarge', 'g5.2xlarge'],
      workerMaxTasks: 1000,
      segmenterMaxConcurrency: 200,
      intakeMaxReceiveCount: 8,
      expiryAlarmPercent: 25,
      authorizer: { type: 'jwt', issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example', audience: ['vidx-web'] },
      segmenterReservedConcurrency: 0,
      alarmEmail: 'ops@example.com',
    });
    t = s.template;
  });

  it('runs all capacity on spot, price-capacity-optimized, with rebalancing and ECS spot draining', () => {
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MaxSize: '1000',
      CapacityRebalance: true,
      MixedInstancesPolicy: {
        InstancesDistribution: { OnDemandBaseCapacity: 0, OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'price-capacity-optimized' },
        LaunchTemplate: Match.objectLike({ Overrides: [{ InstanceType: 'g5.xlarge' }, { InstanceType: 'g5.2xlarge' }] }),
      },
    });
    const lt = Object.values(t.findResources('AWS::EC2::LaunchTemplate'))[0] as { Properties: { LaunchTemplateData: { UserData: unknown } } };
    expect(JSON.stringify(lt.Properties.LaunchTemplateData.UserData)).toContain('ECS_ENABLE_SPOT_INSTANCE_DRAINING=true');
    t.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 0, MaxCapacity: 1000 });
  });

  it('a burst configuration: 1,000 workers, a wider intake, an earlier expiry alarm', () => {
    t.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({ ManagedScaling: Match.objectLike({ MaximumScalingStepSize: 1000 }) }),
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 200 }, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    t.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 8 }), VisibilityTimeout: 6 * DEFAULTS.segmenterTimeoutSeconds });
    // 25 % of 14 days.
    expect(Object.values(t.findResources('AWS::CloudWatch::Alarm')).filter((a) => (a as { Properties: { Threshold?: number } }).Properties.Threshold === 302_400)).toHaveLength(2);
  });

  it('authorizes every route with the JWT issuer and audience', () => {
    t.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example', Audience: ['vidx-web'] },
    });
    const routes = Object.values(t.findResources('AWS::ApiGatewayV2::Route')) as { Properties: { AuthorizationType: string } }[];
    expect(routes).toHaveLength(QUERY_ROUTES.length + QUERY_POST_ROUTES.length);
    for (const r of routes) expect(r.Properties.AuthorizationType).toBe('JWT');
  });

  it('leaves reserved concurrency off when 0, subscribes the alarm email, and still passes cdk-nag', () => {
    const fns = Object.values(t.findResources('AWS::Lambda::Function')) as { Properties: Record<string, unknown> }[];
    for (const f of fns) expect(f.Properties.ReservedConcurrentExecutions).toBeUndefined();
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    expect(s.nagViolations.map((v) => v.ruleName)).toEqual([]);
  });

  it('warns that the generated segmenter manifest says trained: false', () => {
    Annotations.fromStack(s.stack).hasWarning('/VidxTest', Match.stringLikeRegexp('generated slowfast_r50 manifest with trained: false'));
  });
});
