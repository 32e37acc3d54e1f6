/**
 * Process settings (core/settings): one schema per process, parsed once at its entry, with the
 * defaults of core/names.ts; the environment that sets them is typed by the same schema.
 */
import { INDEX_DEFAULTS } from '../../core/infra-definitions.ts';
import { describe, expect, it } from 'vitest';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DEFAULTS, ENV, TABLE, VIDEO_PREFIX } from '../../core/names.ts';
import { environmentOf, envNamesOf, InvalidSettingError, parseSettings, requiredEnvNamesOf } from '../../core/settings/define.ts';
import { ANALYZE_SETTINGS, LOCAL_SETTINGS, QUERY_SETTINGS, SEGMENTER_SETTINGS, SWEEPER_SETTINGS, WORKER_SETTINGS, defaultHeartbeatSeconds, drainPlan } from '../../core/settings/processes.ts';
import { staleAfterSeconds } from '../../core/pipeline/sweep.ts';
import { DEFAULT_KEYFRAME_INTERVAL } from '../../core/detection/keyframes.ts';
import { isVidxError } from '../../core/errors.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { workerSettingsOf } from '../../gpu-worker/settings.ts';
import { DeterministicScorer, quiet } from '../pipeline/fixtures.ts';
import { loadConfig } from '../../cdk/config.ts';

const QUEUE = 'http://127.0.0.1:9/000000000000/vidx-clips';
const WORKER_ENV = { [ENV.queueUrl]: QUEUE, [ENV.model]: '/models/current/slowfast_r50.json' };

function refusal(f: () => unknown): InvalidSettingError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidSettingError);
    expect(isVidxError(e, 'INVALID_SETTING')).toBe(true);
    return e as InvalidSettingError;
  }
  return expect.unreachable('the settings were accepted');
}

describe('defaults', () => {
  it('the worker: the queue and model it is given, everything else from DEFAULTS', () => {
    expect(parseSettings(WORKER_SETTINGS, WORKER_ENV)).toEqual({
      queueUrl: QUEUE,
      model: '/models/current/slowfast_r50.json',
      tableName: TABLE.name,
      labelShards: INDEX_DEFAULTS.labelShards,
      device: 'auto',
      fastDecode: false,
      analyses: { classify: true, detect: false },
      keyframeInterval: DEFAULT_KEYFRAME_INTERVAL,
      visibilityTimeoutSeconds: DEFAULTS.visibilityTimeoutSeconds,
      stopTimeoutSeconds: DEFAULTS.stopTimeoutSeconds,
      region: DEFAULTS.region,
    });
  });

  it('the segmenter, the query API, the sweeper and vidx local', () => {
    expect(refusal(() => parseSettings(SEGMENTER_SETTINGS, { ...WORKER_ENV, [ENV.clipSeconds]: '0' })).variable).toBe(ENV.clipSeconds);
    expect(parseSettings(SEGMENTER_SETTINGS, WORKER_ENV)).toEqual({
      queueUrl: QUEUE,
      model: '/models/current/slowfast_r50.json',
      tableName: TABLE.name,
      labelShards: INDEX_DEFAULTS.labelShards,
      videoPrefix: VIDEO_PREFIX,
      clipSeconds: DEFAULTS.clipSeconds,
      analyses: { classify: true, detect: false },
      keyframeInterval: DEFAULT_KEYFRAME_INTERVAL,
      region: DEFAULTS.region,
    });
    expect(parseSettings(QUERY_SETTINGS, {})).toEqual({ tableName: TABLE.name, labelShards: INDEX_DEFAULTS.labelShards, videoPrefix: VIDEO_PREFIX, region: DEFAULTS.region });
    expect(parseSettings(SWEEPER_SETTINGS, { [ENV.queueUrl]: QUEUE })).toEqual({
      queueUrl: QUEUE,
      tableName: TABLE.name,
      labelShards: INDEX_DEFAULTS.labelShards,
      staleAfterSeconds: staleAfterSeconds(DEFAULTS.visibilityTimeoutSeconds, DEFAULTS.maxReceiveCount),
      maxRequeues: DEFAULTS.maxRequeues,
      region: DEFAULTS.region,
    });
    expect(parseSettings(LOCAL_SETTINGS, {})).toEqual({ region: DEFAULTS.region, analyses: { classify: true, detect: false }, keyframeInterval: DEFAULT_KEYFRAME_INTERVAL, noPull: false });
    expect(parseSettings(ANALYZE_SETTINGS, {})).toEqual({ fastDecode: false });
    expect(parseSettings(ANALYZE_SETTINGS, { [ENV.threads]: '2', [ENV.fastDecode]: '1' })).toEqual({ threads: 2, fastDecode: true });
  });

  it('the CDK config starts from the same defaults the processes fall back to', () => {
    const config = loadConfig({ tryGetContext: () => undefined });
    const worker = parseSettings(WORKER_SETTINGS, WORKER_ENV);
    expect(config.visibilityTimeoutSeconds).toBe(worker.visibilityTimeoutSeconds);
    expect(config.stopTimeoutSeconds).toBe(worker.stopTimeoutSeconds);
    expect(config.heartbeatSeconds).toBe(workerSettingsOf(worker, 'cuda').heartbeatSeconds);
    expect(config.keyframeIntervalSeconds).toBe(worker.keyframeInterval);
    expect(config.labelShards).toBe(worker.labelShards);
    const segmenter = parseSettings(SEGMENTER_SETTINGS, WORKER_ENV);
    expect(config.clipSeconds).toBe(segmenter.clipSeconds);
    expect(config.videoPrefix).toBe(segmenter.videoPrefix);
    expect(config.maxRequeues).toBe(parseSettings(SWEEPER_SETTINGS, { [ENV.queueUrl]: QUEUE }).maxRequeues);
  });

  it('an empty variable is an unset one', () => {
    expect(parseSettings(QUERY_SETTINGS, { [ENV.table]: '', [ENV.bucket]: '  ' })).toEqual(parseSettings(QUERY_SETTINGS, {}));
  });
});

describe('the worker\'s timing: one rule, whoever asks', () => {
  it('drain and heartbeat of a ClipWorker built without them are those of a worker with the default settings', () => {
    const parsed = workerSettingsOf(parseSettings(WORKER_SETTINGS, WORKER_ENV), 'cpu', 2);
    // Once 105 s (the stop sequence) here and 110 s (stop timeout minus 10) in the worker.
    expect(parsed.drainSeconds).toBe(drainPlan(DEFAULTS.stopTimeoutSeconds).drainSeconds);
    expect(parsed.drainSeconds).toBe(105);
    const worker = (visibilityTimeoutSeconds?: number) =>
      new ClipWorker({
        sqs: new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }),
        s3: new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' }),
        queueUrl: QUEUE,
        store: {} as never, // never reached: the worker is not started
        scorer: new DeterministicScorer(3),
        timeline: { threshold: 0, gap: 1 },
        log: quiet,
        ...(visibilityTimeoutSeconds === undefined ? {} : { visibilityTimeoutSeconds }),
      }).status().settings;
    expect(worker().drainSeconds).toBe(parsed.drainSeconds);
    expect(worker().heartbeatSeconds).toBe(parsed.heartbeatSeconds);
    for (const visibility of [2, 12, 45, 90, 600]) {
      const fromEnv = workerSettingsOf(parseSettings(WORKER_SETTINGS, { ...WORKER_ENV, [ENV.visibilityTimeoutSeconds]: String(visibility) }), 'cpu', 2);
      expect(worker(visibility).heartbeatSeconds, `visibility ${visibility}`).toBe(fromEnv.heartbeatSeconds);
      expect(fromEnv.heartbeatSeconds).toBe(defaultHeartbeatSeconds(visibility));
    }
  });
});

describe('refused values: a typed error naming the variable and what it allows', () => {
  it('a value out of range, of the wrong kind, or not among the choices', () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ [ENV.batchSize]: '11' }, ENV.batchSize, /an integer from 1 to 10/],
      [{ [ENV.stopTimeoutSeconds]: 'soon' }, ENV.stopTimeoutSeconds, /an integer from 2 to 120/],
      [{ [ENV.device]: 'gpu' }, ENV.device, /auto, cpu, cuda/],
      [{ [ENV.fastDecode]: 'yes' }, ENV.fastDecode, /1 \(on\) or 0 \(off\)/],
      [{ [ENV.analyses]: 'classify,track' }, ENV.analyses, /classify, detect or classify,detect/],
      [{ [ENV.personThreshold]: '1.5' }, ENV.personThreshold, /a number from 0 to 1/],
      [{ [ENV.webhookUrl]: 'ftp://example.com/hook', [ENV.webhookSecret]: 's' }, ENV.webhookUrl, /an http\(s\) URL/],
    ];
    for (const [env, variable, allowed] of cases) {
      const e = refusal(() => parseSettings(WORKER_SETTINGS, { ...WORKER_ENV, ...env }));
      expect(e.variable).toBe(variable);
      expect(e.allowed).toMatch(allowed);
      expect(e.message).toContain(variable);
      expect(e.message).toContain(`"${Object.values(env)[0]}"`);
      expect(e.hint).toContain(variable);
    }
  });

  it('a required variable missing is named with what it holds', () => {
    const e = refusal(() => parseSettings(SWEEPER_SETTINGS, {}));
    expect(e.variable).toBe(ENV.queueUrl);
    expect(e.message).toBe(`the sweeper needs ${ENV.queueUrl} (the clip queue URL)`);
    expect(refusal(() => parseSettings(SEGMENTER_SETTINGS, { [ENV.queueUrl]: QUEUE })).variable).toBe(ENV.model);
  });

  it('rules between settings: heartbeat within the visibility timeout, poll within the stop, detection with its models, a signed webhook', () => {
    expect(refusal(() => parseSettings(WORKER_SETTINGS, { ...WORKER_ENV, [ENV.visibilityTimeoutSeconds]: '10', [ENV.heartbeatSeconds]: '6' })).variable).toBe(ENV.heartbeatSeconds);
    expect(refusal(() => parseSettings(WORKER_SETTINGS, { ...WORKER_ENV, [ENV.stopTimeoutSeconds]: '8', [ENV.waitTimeSeconds]: '5' })).variable).toBe(ENV.waitTimeSeconds);
    expect(refusal(() => parseSettings(WORKER_SETTINGS, { ...WORKER_ENV, [ENV.analyses]: 'detect', [ENV.actionsModel]: 'a.json' })).variable).toBe(ENV.peopleModel);
    expect(refusal(() => parseSettings(SEGMENTER_SETTINGS, { ...WORKER_ENV, [ENV.webhookUrl]: 'https://example.com/hook' })).variable).toBe(ENV.webhookUrl);
    expect(parseSettings(SEGMENTER_SETTINGS, { ...WORKER_ENV, [ENV.webhookUrl]: 'https://example.com/hook', [ENV.webhookSecretArn]: 'arn:aws:secretsmanager:us-east-1:1:secret:x' }).webhookUrl).toBe('https://example.com/hook');
  });
});

describe('environmentOf: the environment that sets a process, typed by its schema', () => {
  it('writes each given setting to its variable, and the process reads back what was given', () => {
    const env = environmentOf(WORKER_SETTINGS, {
      queueUrl: QUEUE,
      model: 'm.json',
      analyses: ['classify', 'detect'],
      peopleModel: 'p.json',
      actionsModel: 'a.json',
      keyframeInterval: 0.5,
      fastDecode: true,
      heartbeatSeconds: 20,
      healthPort: 8080,
    });
    expect(env).toEqual({
      [ENV.queueUrl]: QUEUE,
      [ENV.model]: 'm.json',
      [ENV.analyses]: 'classify,detect',
      [ENV.peopleModel]: 'p.json',
      [ENV.actionsModel]: 'a.json',
      [ENV.keyframeInterval]: '0.5',
      [ENV.fastDecode]: '1',
      [ENV.heartbeatSeconds]: '20',
      [ENV.healthPort]: '8080',
    });
    expect(parseSettings(WORKER_SETTINGS, env)).toMatchObject({ analyses: { classify: true, detect: true }, keyframeInterval: 0.5, fastDecode: true, heartbeatSeconds: 20, healthPort: 8080 });
  });

  it('refuses at once what the process would refuse', () => {
    expect(refusal(() => environmentOf(SWEEPER_SETTINGS, { queueUrl: QUEUE, maxRequeues: 0 })).variable).toBe(ENV.sweepMaxRequeues);
  });

  it('a missing required setting or a misspelled one does not type-check', () => {
    // @ts-expect-error queueUrl is required
    expect(() => environmentOf(SWEEPER_SETTINGS, { tableName: 't' })).toThrow(InvalidSettingError);
    // @ts-expect-error maxRequeue is not a setting of the sweeper
    expect(environmentOf(SWEEPER_SETTINGS, { queueUrl: QUEUE, maxRequeue: 2 })).toEqual({ [ENV.queueUrl]: QUEUE });
  });

  it('every variable a process reads is one of core/names.ts ENV, and each process reads its own list once', () => {
    const names = new Set<string>(Object.values(ENV));
    for (const def of [WORKER_SETTINGS, SEGMENTER_SETTINGS, QUERY_SETTINGS, SWEEPER_SETTINGS, LOCAL_SETTINGS, ANALYZE_SETTINGS]) {
      const read = envNamesOf(def);
      expect(read.filter((n) => !names.has(n))).toEqual([]);
      expect(new Set(read).size).toBe(read.length);
      expect(requiredEnvNamesOf(def).every((n) => read.includes(n))).toBe(true);
    }
    expect(requiredEnvNamesOf(WORKER_SETTINGS).sort()).toEqual([ENV.model, ENV.queueUrl].sort());
    expect(requiredEnvNamesOf(QUERY_SETTINGS)).toEqual([]);
  });
});
