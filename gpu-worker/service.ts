/**
 * The worker service: the consumer, the health endpoint and the signal handling, configured by the
 * worker's parsed settings. `main.ts` runs it as the ECS task; `vidx local` runs it in-process.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { WorkerEnvSettings } from '../core/settings/processes.ts';
import type { AwsClients } from '../adapters/clients.ts';
import { createIndex } from '../adapters/dynamo-index/create.ts';
import { sqsThumbnailJobs } from '../adapters/queue.ts';
import { defaultTimelineOptions } from '../core/timeline/defaults.ts';
import type { Manifest } from '../core/model/manifest.ts';
import { ClipWorker, type WorkerOptions } from './worker.ts';
import { startHealthServer, type HealthServer } from './health.ts';
import { DEFAULT_QUEUE_SETTINGS, workerSettingsOf, type WorkerSettings } from './settings.ts';
import type { ClipScorer } from '../core/pipeline/clip-scorer.ts';

export interface WorkerServiceConfig {
  queueUrl: string;
  /** Set: assembly sends thumbnail jobs here (a CPU consumer cuts the frames); unset: the worker cuts them. */
  thumbnailQueueUrl?: string | undefined;
  tableName: string;
  healthPort: number | undefined;
  /** Where large clip payloads go (the video bucket). */
  bucket?: string | undefined;
  labelShards?: number | undefined;
}

export function workerConfigOf(s: Pick<WorkerEnvSettings, 'queueUrl' | 'thumbnailQueueUrl' | 'tableName' | 'healthPort' | 'bucket' | 'labelShards'>): WorkerServiceConfig {
  return { queueUrl: s.queueUrl, thumbnailQueueUrl: s.thumbnailQueueUrl, tableName: s.tableName, healthPort: s.healthPort, bucket: s.bucket, labelShards: s.labelShards };
}

export interface WorkerService {
  worker: ClipWorker;
  health: HealthServer | undefined;
  /** Graceful stop: drain, release, close the model and the health endpoint. */
  stop(): Promise<void>;
}

export async function startWorkerService(
  clients: AwsClients,
  config: WorkerServiceConfig,
  scorer: ClipScorer,
  manifest: Pick<Manifest, 'frames' | 'samplingRate' | 'fps'>,
  extra: Partial<WorkerOptions> = {},
  settings: WorkerSettings = workerSettingsOf(DEFAULT_QUEUE_SETTINGS, scorer.device),
): Promise<WorkerService> {
  const log = extra.log ?? new Logger({ serviceName: 'vidx-worker' });
  const timeline = defaultTimelineOptions(manifest, scorer.trained);
  const worker = new ClipWorker({
    sqs: clients.sqs,
    s3: clients.s3,
    queueUrl: config.queueUrl,
    ...(config.thumbnailQueueUrl ? { thumbnailJobs: sqsThumbnailJobs(clients.sqs, config.thumbnailQueueUrl) } : {}),
    store: createIndex(clients, config.tableName, { labelShards: config.labelShards, payloadBucket: config.bucket }),
    scorer,
    timeline: { threshold: timeline.threshold, gap: timeline.gap },
    log,
    batchSize: settings.batchSize,
    visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
    heartbeatSeconds: settings.heartbeatSeconds,
    waitTimeSeconds: settings.waitTimeSeconds,
    stopTimeoutSeconds: settings.drainSeconds,
    ...extra,
  });
  worker.start();
  log.info('worker settings', { ...settings, device: scorer.device });
  const health = config.healthPort === undefined ? undefined : await startHealthServer(config.healthPort, () => worker.status());
  if (health) log.info('health endpoint', { url: `http://127.0.0.1:${health.port}/health` });
  let stopping: Promise<void> | undefined;
  return {
    worker,
    health,
    stop() {
      stopping ??= (async () => {
        await worker.stop();
        await scorer.close();
        await health?.close();
      })();
      return stopping;
    },
  };
}
