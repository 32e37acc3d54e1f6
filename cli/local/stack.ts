/**
 * `vidx local`: the whole pipeline on one machine. In-process emulators (fauxqs: S3 + SQS in
 * memory; dynalite: DynamoDB persisted under <data>/dynamodb), resources created from the shared
 * definitions, the segmenter handler (fed by `vidx upload` through POST /_local/s3-event, as S3
 * would invoke it), the worker (CPU) and the query Lambda served over HTTP.
 */
import { join, resolve } from 'node:path';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { createClients, type AwsClients } from '../../core/aws/clients.ts';
import { BUCKET, DEFAULTS, ENV, VIDEO_PREFIX } from '../../core/names.ts';
import { IndexStore } from '../../core/aws/index-store.ts';
import { loadManifest } from '../../core/pipeline/model-ref.ts';
import { buildSegmenterDeps } from '../../lambdas/segmenter/deps.ts';
import { buildSweepDeps } from '../../lambdas/sweeper/handler.ts';
import { staleAfterSeconds, sweepUnfinished, type SweepOptions, type SweepReport } from '../../core/pipeline/sweep.ts';
import { makeSegmenterHandler, type S3EventHandler } from '../../lambdas/segmenter/handler.ts';
import { handler as queryHandler } from '../../lambdas/query/handler.ts';
import { CURSOR_SECRET_ENV } from '../../core/query/cursor.ts';
import { startWorkerService, type WorkerService } from '../../gpu-worker/service.ts';
import type { WorkerOptions } from '../../gpu-worker/worker.ts';
import type { ClipScorer } from '../../core/pipeline/clip-scorer.ts';
import { startEmulators, type Emulators } from './emulators.ts';
import { ensureResources, type LocalResources } from './resources.ts';
import { serveHttpApi, type HttpApiHandler, type LocalRoute } from './http-adapter.ts';
import { S3_PROXY_PATH, s3Proxy } from './s3-proxy.ts';
import { s3CreatedEvent } from './s3-event.ts';
import { webPage } from './web.ts';

export interface LocalStackOptions {
  port: number;
  dataDir: string;
  manifestPath: string;
  /** The worker's scorer; built from the manifest by the caller (CPU). */
  scorer: ClipScorer;
  clipSeconds?: number;
  host?: string;
  /** Worker overrides (tests: short polls and visibility). */
  worker?: Partial<WorkerOptions>;
  /** The sweeper's round interval and staleness (default: every 60 s, stale after the queue's limits). */
  sweep?: { everySeconds?: number; staleAfterSeconds?: number; maxRequeues?: number };
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
}

export interface LocalStack {
  apiUrl: string;
  dataDir: string;
  emulators: Emulators;
  clients: AwsClients;
  resources: LocalResources;
  store: IndexStore;
  segmenter: S3EventHandler;
  worker: WorkerService;
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
    const region = process.env[ENV.region] || DEFAULTS.region;
    const clients = createClients({ region, endpoint: emulators.endpoint, dynamoEndpoint: emulators.dynamoEndpoint });
    const resources = await ensureResources(clients, { bucket: BUCKET.localName });
    // The handlers read their configuration from the environment, exactly as in Lambda.
    process.env[CURSOR_SECRET_ENV] ??= localSecret(dataDir);
    Object.assign(process.env, {
      [ENV.region]: region,
      [ENV.endpoint]: emulators.endpoint,
      [ENV.dynamoEndpoint]: emulators.dynamoEndpoint,
      [ENV.table]: resources.tableName,
      [ENV.bucket]: resources.bucket,
      [ENV.queueUrl]: resources.queueUrl,
      [ENV.model]: resolve(o.manifestPath),
    });
    const logLevel = o.logLevel ?? 'INFO';
    const manifest = loadManifest(o.manifestPath);
    const store = new IndexStore(clients.doc, resources.tableName);
    const segmenter = makeSegmenterHandler(
      buildSegmenterDeps({
        clients,
        tableName: resources.tableName,
        queueUrl: resources.queueUrl,
        model: manifest,
        clipSeconds: o.clipSeconds,
        log: new Logger({ serviceName: 'vidx-segmenter', logLevel }),
      }),
    );
    const worker = await startWorkerService(clients, { queueUrl: resources.queueUrl, tableName: resources.tableName, healthPort: undefined }, o.scorer, manifest, {
      log: new Logger({ serviceName: 'vidx-worker', logLevel }),
      // Short polls locally: Ctrl-C waits for the poll in progress, so keep it brief.
      waitTimeSeconds: 5,
      ...o.worker,
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
      return sweeping;
    };
    const sweepTimer = setInterval(() => {
      sweep().catch((e: unknown) => process.stderr.write(`vidx local: sweep failed: ${String(e)}\n`));
    }, (o.sweep?.everySeconds ?? 60) * 1000);
    sweepTimer.unref();
    const config: LocalConfig = { s3Endpoint: emulators.endpoint, region, bucket: resources.bucket, prefix: VIDEO_PREFIX };
    const routes: LocalRoute[] = [
      async (req) => (req.method === 'GET' && req.url === '/_local/config' ? { status: 200, body: config } : undefined),
      async (req) => (req.method === 'GET' && req.url === '/_local/health' ? { status: 200, body: worker.worker.status() } : undefined),
      async (req, body) => {
        if (req.method !== 'POST' || req.url !== '/_local/s3-event') return undefined;
        let event: unknown;
        try {
          event = JSON.parse(body.toString('utf8'));
        } catch (_e) {
          return { status: 400, body: { status: 400, code: 'BAD_EVENT', message: 'the body is not JSON' } };
        }
        try {
          return { status: 200, body: await segmenter(event) };
        } catch (e) {
          const code = (e as { code?: string }).code ?? 'SEGMENTER_FAILED';
          return { status: code === 'BAD_EVENT' ? 400 : 502, body: { status: code === 'BAD_EVENT' ? 400 : 502, code, message: (e as Error).message } };
        }
      },
    ];
    // The browser reaches S3 through this server (presigned URLs signed for the proxy's address);
    // the port is known only once listening, so the query Lambda reads it on its first request.
    const proxy = s3Proxy(emulators.endpoint, VIDEO_PREFIX, async (obj) => {
      await segmenter(s3CreatedEvent([obj], region));
    });
    const http = await serveHttpApi(o.port, queryHandler as HttpApiHandler, routes, o.host ?? '127.0.0.1', [proxy, webPage()]);
    process.env[ENV.mediaEndpoint] = `${http.url}${S3_PROXY_PATH}`;
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
      sweep,
      stop() {
        stopped ??= (async () => {
          clearInterval(sweepTimer);
          await sweeping?.catch(() => undefined);
          await http.close();
          await worker.stop();
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

/** The query API's cursor secret for this data dir: random once, kept so cursors survive restarts. */
function localSecret(dataDir: string): string {
  const file = join(dataDir, 'cursor-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}
