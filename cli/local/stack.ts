/**
 * `vidx local`: the whole pipeline on one machine. In-process emulators (fauxqs: S3 + SQS in
 * memory; dynalite: DynamoDB persisted under <data>/dynamodb), resources created from the shared
 * definitions, the segmenter handler (fed by `vidx upload` through POST /_local/s3-event, as S3
 * would invoke it), the worker (CPU) and the query Lambda served over HTTP.
 */
import { LocalVectorIndex } from '../../adapters/local-vectors.ts';
import { join, resolve } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { createClients, localSigningCredentials, type AwsClients } from '../../adapters/clients.ts';
import { BUCKET, DEFAULTS, ENV, VIDEO_PREFIX } from '../../core/names.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import type { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { loadModelRef } from '../../core/pipeline/model-ref.ts';
import { failedTransiently, type ReindexOutcome } from '../../core/pipeline/reindex.ts';
import { startThumbnailConsumer } from './thumbnail-consumer.ts';
import { DEFAULT_REINDEX_PACE, reindexPaced, type ReindexPace } from '../../core/pipeline/reindex-pace.ts';
import { webhookSink } from '../../core/events/webhook.ts';
import type { DeliveryOptions } from '../../core/events/deliver.ts';
import { z } from 'zod';
import { hintOf, httpStatusOf, isVidxError } from '../../core/errors.ts';
import { LocalObjectKeeper, objectsOfEvent, pruneFailedCopies, recoverLocalWork, type Recovery } from './persistence.ts';
import { buildSegmenterDeps } from '../../lambdas/segmenter/deps.ts';
import type { SegmenterDeps } from '../../core/pipeline/segment.ts';
import { buildSweepDeps } from '../../lambdas/sweeper/handler.ts';
import { staleAfterSeconds, sweepUnfinished, type SweepOptions, type SweepReport } from '../../core/pipeline/sweep.ts';
import { makeSegmenterHandler, type S3EventHandler } from '../../lambdas/segmenter/handler.ts';
import { handler as queryHandler } from '../../lambdas/query/handler.ts';
import { environmentOf, parseSettings, type ParsedSettings } from '../../core/settings/define.ts';
import { LOCAL_SETTINGS, QUERY_SETTINGS, WORKER_SETTINGS, type WorkerSettingsInput } from '../../core/settings/processes.ts';
import { startWorkerService } from '../../gpu-worker/service.ts';
import { startWorkerProcess, type LocalWorker } from './worker-process.ts';
import type { WorkerOptions } from '../../gpu-worker/worker.ts';
import type { ClipScorer } from '../../core/pipeline/clip-scorer.ts';
import type { PersonTimelineOptions } from '../../core/detection/defaults.ts';
import { startEmulators, type Emulators } from './emulators.ts';
import { ensureResources, type LocalResources } from './resources.ts';
import { serveHttpApi, type HttpApiHandler, type LocalRoute } from './http-adapter.ts';
import { s3EventRoute } from './s3-event-route.ts';
import { S3_PROXY_PATH, s3Proxy } from './s3-proxy.ts';
import { s3CreatedEvent } from './s3-event.ts';
import { webPage } from './web.ts';
import { DELETE_VIDEO_PATH, deleteLocalVideo } from './delete-video.ts';
import { EventOutbox } from './event-outbox.ts';
import { KeyedLock } from './keyed-lock.ts';

import { videoIdFor } from '../../core/records.ts';

export interface LocalStackOptions {
  port: number;
  dataDir: string;
  manifestPath: string;
  /**
   * Run the worker in this process with this scorer (tests: fakes and fault injection). Without it
   * (`vidx local`) the worker is a child process (gpu-worker/main.ts) loading the manifest on CPU,
   * so its CPU work never holds up the API; there only the `worker` settings below that have an
   * environment variable apply (wait, visibility, heartbeat, batch).
   */
  scorer?: ClipScorer;
  /** Child-process worker: ONNX Runtime threads (default: its own default). */
  threads?: number;
  clipSeconds?: number;
  /** Per-person detection (the scorer must detect too): keyframe interval for the segmenter, person-timeline options for assembly. */
  detection?: { keyframeInterval: number; people: PersonTimelineOptions };
  /** Child-process worker: more settings (its analyses and detection models, read by gpu-worker/main.ts). */
  workerSettings?: Partial<WorkerSettingsInput>;
  /** The local stack's own settings (default: parsed from this process's environment). */
  settings?: ParsedSettings<typeof LOCAL_SETTINGS.fields>;
  host?: string;
  /** Worker overrides (tests: short polls and visibility). */
  worker?: Partial<WorkerOptions>;
  /** The sweeper's round interval and staleness (default: every 60 s, stale after the queue's limits). */
  sweep?: { everySeconds?: number; staleAfterSeconds?: number; maxRequeues?: number };
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  /** POST every done/failed event here, signed with `secret` (default: <data>/webhook-secret). */
  webhook?: { url: string; secret?: string | undefined } | undefined;
  /** Event delivery tuning (tests: short backoff). */
  delivery?: DeliveryOptions;
  /** Hours the kept copy of a failed upload stays in <data>/objects (default 24); pruned at start and on each sweep round. */
  keepFailedHours?: number | undefined;
}

export interface LocalStack {
  apiUrl: string;
  dataDir: string;
  emulators: Emulators;
  clients: AwsClients;
  resources: LocalResources;
  store: DynamoIndex;
  segmenter: S3EventHandler;
  worker: LocalWorker;
  /** What the start found unfinished from a previous run and resumed. */
  recovery: Recovery;
  /** The webhook's signing secret (when a webhook is on). */
  webhookSecret: string | undefined;
  /** Re-index videos with the stack's model (re-enqueue unfinished ones). */
  /** 'failed': every video that failed for a transient reason. */
  reindex(videoIds: readonly string[] | 'all' | 'failed', options?: LocalReindexOptions): Promise<ReindexOutcome[]>;
  /** One sweeper round now (it also runs on its interval); `vidx local` runs one at start. */
  sweep(overrides?: Partial<SweepOptions>): Promise<SweepReport>;
  stop(): Promise<void>;
}

/** What `vidx upload` asks the running stack for (GET /_local/config). */
export interface LocalConfig {
  s3Endpoint: string;
  region: string;
  bucket: string;
  prefix: string;
}

export async function startLocalStack(o: LocalStackOptions): Promise<LocalStack> {
  const dataDir = resolve(o.dataDir);
  const emulators = await startEmulators({ dynamoPath: join(dataDir, 'dynamodb') });
  try {
    const settings = o.settings ?? parseSettings(LOCAL_SETTINGS);
    const region = settings.region;
    const aws = { region, endpoint: emulators.endpoint, dynamoEndpoint: emulators.dynamoEndpoint };
    const clients = createClients(aws);
    const resources = await ensureResources(clients, { bucket: BUCKET.localName });
    // The query handler reads its settings from the environment, exactly as in Lambda.
    // Moment vectors: the embedded store under <data>/vectors, shared by the worker and the API.
    const vectorsDir = join(dataDir, VECTORS_DIR);
    Object.assign(process.env, environmentOf(QUERY_SETTINGS, { ...aws, tableName: resources.tableName, bucket: resources.bucket, vectorsDir, cursorSecret: settings.cursorSecret ?? localSecret(dataDir) }));
    // Presigned media URLs are signed with a secret of this run; the S3 proxy verifies them with it.
    process.env[ENV.localSigningSecret] ??= randomBytes(32).toString('hex');
    const childWorker: WorkerSettingsInput = { ...aws, tableName: resources.tableName, queueUrl: resources.queueUrl, model: resolve(o.manifestPath), bucket: resources.bucket, vectorsDir, thumbnailQueueUrl: resources.thumbnailQueueUrl };
    const logLevel = o.logLevel ?? 'INFO';
    const { manifest, ref } = loadModelRef(o.manifestPath);
    const store = createIndex(clients, resources.tableName, { payloadBucket: resources.bucket });
    const webhookSecret = o.webhook ? (o.webhook.secret ?? localWebhookSecret(dataDir)) : undefined;
    // Events go out from the outbox, in the background (event-outbox.ts): no handler waits on a sink.
    const outbox = new EventOutbox({
      store,
      sinks: o.webhook ? [webhookSink({ url: o.webhook.url, secret: webhookSecret! })] : [],
      log: new Logger({ serviceName: 'vidx-events', logLevel }),
      delivery: o.delivery,
    });
    const segmenterDeps: SegmenterDeps = {
      ...buildSegmenterDeps({
      clients,
      tableName: resources.tableName,
      queueUrl: resources.queueUrl,
      model: manifest,
      manifestSha256: ref.manifestSha256,
      clipSeconds: o.clipSeconds,
      ...(o.detection ? { keyframeInterval: o.detection.keyframeInterval } : {}),
      log: new Logger({ serviceName: 'vidx-segmenter', logLevel }),
      }),
      // A duplicate event re-enqueues an unfinished video's clips only if they look lost: no
      // progress for a visibility timeout (a message in flight would have come back by then).
      requeueStaleAfterSeconds: o.worker?.visibilityTimeoutSeconds ?? DEFAULTS.visibilityTimeoutSeconds,
    };
    // Every object an event names is kept on disk first, so a restart can put it back.
    const keeper = new LocalObjectKeeper(dataDir, clients.s3);
    const handleEvent = makeSegmenterHandler(segmenterDeps);
    // One event at a time per object: concurrent duplicates of an event then find the revision
    // recorded and enqueued by the first, and enqueue nothing more.
    const perObject = new KeyedLock();
    const segmenter: S3EventHandler = async (event) => {
      const r = await perObject.run(objectsOfEvent(event).map((x) => videoIdFor(x.bucket, x.key)), async () => {
        await keeper.keepFromEvent(event);
        return handleEvent(event);
      });
      for (const x of r.results) if (x.outcome !== 'ignored') outbox.watch(x.videoId);
      return r;
    };
    const retention = { keepFailedHours: o.keepFailedHours };
    const recovery = await recoverLocalWork(keeper, store, segmenterDeps, { ...retention, watch: (id) => outbox.watch(id) });
    const reindex = async (ids: readonly string[] | 'all' | 'failed', options: LocalReindexOptions = {}): Promise<ReindexOutcome[]> => {
      const all = ids === 'all' || ids === 'failed' ? await store.allVideos() : undefined;
      const list = ids === 'failed' ? all!.filter(failedTransiently).map((v) => v.videoId) : all ? all.map((v) => v.videoId) : (ids as readonly string[]);
      // A whole archive goes at the documented pace; a list of ids at once.
      const pace = all ? { ...DEFAULT_REINDEX_PACE, ...options.pace } : { clipsPerSecond: Number.POSITIVE_INFINITY, maxWaiting: Number.POSITIVE_INFINITY };
      return reindexPaced(segmenterDeps, list, pace, { retryFailed: options.retryFailed === true || ids === 'failed' }, (id) => outbox.watch(id));
    };
    // Short polls locally: Ctrl-C waits for the poll in progress, so keep it brief.
    const waitTimeSeconds = o.worker?.waitTimeSeconds ?? 5;
    // The worker sends thumbnail jobs; this process cuts the frames (the CPU consumer, locally).
    const thumbnailConsumer = startThumbnailConsumer(clients, {
      queueUrl: resources.thumbnailQueueUrl,
      tableName: resources.tableName,
      waitTimeSeconds,
      log: new Logger({ serviceName: 'vidx-thumbnails', logLevel }),
    });
    const worker: LocalWorker = o.scorer
      ? await inProcessWorker(clients, resources, o.scorer, manifest, {
          log: new Logger({ serviceName: 'vidx-worker', logLevel }),
          ...(o.detection ? { people: o.detection.people } : {}),
          vectors: new LocalVectorIndex(vectorsDir),
          ...o.worker,
          waitTimeSeconds,
        })
      : await startWorkerProcess({
          env: workerProcessEnv(o, childWorker, logLevel, waitTimeSeconds),
          killAfterSeconds: DEFAULTS.stopTimeoutSeconds + 10,
          say: (m) => process.stderr.write(`vidx local: ${m}\n`),
        });
    // The sweeper (core/pipeline/sweep.ts) on an interval. The emulated bucket lives in memory, so
    // after a restart the objects of unfinished videos are gone: those wait for a re-upload.
    const sweepDeps = buildSweepDeps(clients, resources.tableName, resources.queueUrl, new Logger({ serviceName: 'vidx-sweeper', logLevel }));
    const visibility = o.worker?.visibilityTimeoutSeconds ?? DEFAULTS.visibilityTimeoutSeconds;
    const sweepOptions: SweepOptions = {
      staleAfterSeconds: o.sweep?.staleAfterSeconds ?? staleAfterSeconds(visibility, DEFAULTS.maxReceiveCount),
      maxRequeues: o.sweep?.maxRequeues ?? DEFAULTS.maxRequeues,
      missingObject: 'skip',
    };
    let sweeping: Promise<SweepReport> | undefined;
    const sweep = async (overrides: Partial<SweepOptions> = {}): Promise<SweepReport> => {
      while (sweeping) await sweeping.catch(() => undefined);
      sweeping = sweepUnfinished(sweepDeps, { ...sweepOptions, ...overrides }).finally(() => (sweeping = undefined));
      const report = await sweeping;
      for (const v of [...report.failed, ...report.requeued]) outbox.watch(v.videoId);
      await pruneFailedCopies(keeper, store, retention).catch((e: unknown) => process.stderr.write(`vidx local: pruning kept copies failed: ${String(e)}\n`));
      return report;
    };
    const sweepTimer = setInterval(() => {
      sweep().catch((e: unknown) => process.stderr.write(`vidx local: sweep failed: ${String(e)}\n`));
    }, (o.sweep?.everySeconds ?? 60) * 1000);
    sweepTimer.unref();
    const config: LocalConfig = { s3Endpoint: emulators.endpoint, region, bucket: resources.bucket, prefix: VIDEO_PREFIX };
    const routes: LocalRoute[] = [
      async (req) => (req.method === 'GET' && req.url === '/_local/config' ? { status: 200, body: config } : undefined),
      async (req) => (req.method === 'GET' && req.url === '/_local/health' ? { status: 200, body: { worker: await worker.status(), events: outbox.status() } } : undefined),
      async (req, body) => {
        if (req.method !== 'POST' || req.url !== '/_local/reindex') return undefined;
        const r = ReindexRequestSchema.safeParse(safeJson(body));
        if (!r.success) return { status: 400, body: { status: 400, code: 'BAD_REQUEST', message: 'send {"videoIds": [...]} or {"all": true}, optionally with "manifestSha256", "retryFailed", "clipsPerSecond", "maxWaiting"; or {"retryFailed": true} alone' } };
        if (r.data.manifestSha256 !== undefined && r.data.manifestSha256 !== ref.manifestSha256) {
          return {
            status: 409,
            body: { status: 409, code: 'MODEL_NOT_RUNNING', message: `this stack runs ${ref.architecture} (manifest ${ref.manifestSha256?.slice(0, 12)}), not the model asked for`, hint: hintOf('MODEL_NOT_RUNNING') },
          };
        }
        try {
          const which = r.data.all ? 'all' : r.data.videoIds ?? 'failed';
          const pace = { ...(r.data.clipsPerSecond ? { clipsPerSecond: r.data.clipsPerSecond } : {}), ...(r.data.maxWaiting ? { maxWaiting: r.data.maxWaiting } : {}) };
          return { status: 200, body: { results: await reindex(which, { retryFailed: r.data.retryFailed === true, pace }) } };
        } catch (e) {
          if (!isVidxError(e)) throw e;
          const status = httpStatusOf(e.code) === 500 ? 502 : httpStatusOf(e.code);
          return { status, body: { status, code: e.code, message: e.message, hint: e.hint } };
        }
      },
      async (req) => {
        const m = req.method === 'DELETE' ? DELETE_VIDEO_PATH.exec(req.url ?? '') : null;
        if (!m) return undefined;
        try {
          return { status: 200, body: await deleteLocalVideo({ store, s3: clients.s3, keeper, vectors: new LocalVectorIndex(vectorsDir) }, m[1]!) };
        } catch (e) {
          if (!isVidxError(e)) throw e;
          const status = httpStatusOf(e.code);
          return { status, body: { status, code: e.code, message: e.message, hint: e.hint } };
        }
      },
      s3EventRoute(segmenter),
    ];
    // The browser reaches S3 through this server (presigned URLs signed for the proxy's address);
    // the port is known only once listening, so the query Lambda reads it on its first request.
    const proxy = s3Proxy(emulators.endpoint, VIDEO_PREFIX, async (obj) => {
      await segmenter(s3CreatedEvent([obj], region));
    }, () => localSigningCredentials());
    const http = await serveHttpApi(o.port, queryHandler as HttpApiHandler, routes, o.host ?? '127.0.0.1', [proxy, webPage({ apiUrl: '', model: { architecture: ref.architecture, trained: ref.trained }, manage: true })]);
    Object.assign(process.env, environmentOf(QUERY_SETTINGS, { mediaEndpoint: `${http.url}${S3_PROXY_PATH}` }));
    let stopped: Promise<void> | undefined;
    return {
      apiUrl: http.url,
      dataDir,
      emulators,
      clients,
      resources,
      store,
      segmenter,
      worker,
      recovery,
      webhookSecret,
      reindex,
      sweep,
      stop() {
        stopped ??= (async () => {
          clearInterval(sweepTimer);
          await sweeping?.catch(() => undefined);
          await http.close();
          await outbox.stop();
          await worker.stop();
          await thumbnailConsumer.stop();
          clients.destroy();
          await emulators.stop();
        })();
        return stopped;
      },
    };
  } catch (e) {
    await emulators.stop();
    throw e;
  }
}

async function inProcessWorker(
  clients: AwsClients,
  resources: LocalResources,
  scorer: ClipScorer,
  manifest: Parameters<typeof startWorkerService>[3],
  extra: Partial<WorkerOptions>,
): Promise<LocalWorker> {
  const service = await startWorkerService(clients, { queueUrl: resources.queueUrl, thumbnailQueueUrl: resources.thumbnailQueueUrl, tableName: resources.tableName, healthPort: undefined, bucket: resources.bucket }, scorer, manifest, extra);
  return { status: async () => service.worker.status(), stop: () => service.stop() };
}

/**
 * The child worker's environment: this process's (PATH, tool locations, credentials) with the
 * worker's settings on top: the queue, table, model and emulator endpoints, the CPU device, the
 * local worker timing and the caller's more settings (analyses, detection models).
 */
function workerProcessEnv(o: LocalStackOptions, base: WorkerSettingsInput, logLevel: string, waitTimeSeconds: number): NodeJS.ProcessEnv {
  const w = o.worker ?? {};
  return {
    ...process.env,
    // No health endpoint locally (an inherited port would collide): empty is unset.
    [ENV.healthPort]: '',
    POWERTOOLS_LOG_LEVEL: logLevel,
    ...environmentOf(WORKER_SETTINGS, {
      ...base,
      device: 'cpu',
      threads: o.threads,
      waitTimeSeconds,
      visibilityTimeoutSeconds: w.visibilityTimeoutSeconds,
      heartbeatSeconds: w.heartbeatSeconds,
      batchSize: w.batchSize,
      ...o.workerSettings,
    }),
    // No sinks in the worker (empty is unset): the stack's outbox delivers the events, so the
    // worker never waits on one.
    [ENV.webhookUrl]: '',
    [ENV.webhookSecret]: '',
  };
}

/** What `POST /_local/reindex` takes: ids or all, or (retryFailed alone) every transiently failed video. */
const ReindexRequestSchema = z.strictObject({
  videoIds: z.array(z.string().regex(/^[0-9a-f]{20}$/)).max(10_000).optional(),
  all: z.literal(true).optional(),
  manifestSha256: z.string().regex(/^[0-9a-f]{64}$/).optional(),
  retryFailed: z.boolean().optional(),
  clipsPerSecond: z.number().positive().max(10_000).optional(),
  maxWaiting: z.number().int().positive().max(1_000_000).optional(),
}).refine((b) => !(b.all === true && b.videoIds !== undefined) && (b.all === true || b.videoIds !== undefined || b.retryFailed === true));

export interface LocalReindexOptions {
  retryFailed?: boolean;
  pace?: Partial<Pick<ReindexPace, 'clipsPerSecond' | 'maxWaiting'>>;
}

function safeJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (_e) {
    return undefined;
  }
}

/** The webhook's signing secret for this data dir: random once, kept (and printed) so receivers keep working. */
function localWebhookSecret(dataDir: string): string {
  const file = join(dataDir, 'webhook-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** The query API's cursor secret for this data dir: random once, kept so cursors survive restarts. */
/** The embedded vector store's folder under the data dir. */
const VECTORS_DIR = 'vectors';

function localSecret(dataDir: string): string {
  const file = join(dataDir, 'cursor-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
