/**
 * The worker service's entry point (ECS task, `node bin/run-ts.js gpu-worker/main.ts` or tsx).
 * Settings: core/settings/processes.ts WORKER_SETTINGS, parsed here once: the queue, the table, the
 * model manifest, the device, the health port (GET /health, see health.ts), the analyses and
 * detection models, the queue timing (settings.ts; the batch defaults to the device: 10 on a GPU,
 * a clip per 2 cores on CPU), the event sinks and the AWS region (+ endpoint overrides).
 * Forked with an IPC channel (`vidx local`): messages of process-messages.ts; when the parent goes
 * away (even killed), it stops within PARENT_GONE_EXIT_SECONDS: drains what it can, then exits.
 * SIGTERM/SIGINT: stop receiving, finish or release the batch in hand, exit 0 within the ECS
 * stop timeout (VIDX_STOP_TIMEOUT_SECONDS); a hard deadline exits 1 if the drain hangs.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { awsConfigOf, createClients } from '../adapters/clients.ts';
import { eventSinksOf } from '../adapters/event-sinks.ts';
import { isVidxError } from '../core/errors.ts';
import { loadManifest, loadModelManifest } from '../core/pipeline/model-ref.ts';
import { loadModelScorer } from './load-model.ts';
import { defaultPersonTimelineOptions } from '../core/detection/defaults.ts';
import { parseSettings } from '../core/settings/define.ts';
import { WORKER_SETTINGS } from '../core/settings/processes.ts';
import { startWorkerService, workerConfigOf } from './service.ts';
import { workerSettingsOf } from './settings.ts';
import type { WorkerProcessMessage } from './process-messages.ts';

const log = new Logger({ serviceName: 'vidx-worker' });

/** Seconds a worker whose parent is gone takes at most to exit (its unfinished clips are redelivered). */
const PARENT_GONE_EXIT_SECONDS = 5;

// A parent that goes away while the model loads: nothing to drain yet, exit now.
let onParentGone = (): void => {
  log.warn('the parent process is gone: exiting');
  process.exit(1);
};
if (process.send) process.once('disconnect', () => onParentGone());

/**
 * Run as a child of `vidx local` (forked, with an IPC channel; cli/local/worker-process.ts): say
 * when ready, answer status requests, and drain when the parent goes away, so none is orphaned.
 */
function serveParent(send: (m: WorkerProcessMessage) => boolean, status: () => unknown, shutdown: () => void): void {
  if (!process.connected) return shutdown();
  process.on('message', (m: unknown) => {
    if (typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'status') send({ type: 'status', status: status() });
  });
  onParentGone = shutdown;
  send({ type: 'ready' });
}

try {
  const env = parseSettings(WORKER_SETTINGS);
  const config = workerConfigOf(env);
  const manifest = loadManifest(env.model);
  const scorer = await loadModelScorer(env.model, {
    device: env.device,
    threads: env.threads,
    fastDecode: env.fastDecode,
    analyses: env.analyses,
    peopleModel: env.peopleModel,
    actionsModel: env.actionsModel,
    keyframeInterval: env.keyframeInterval,
    ...(env.personThreshold === undefined ? {} : { personThreshold: env.personThreshold }),
    log: (m) => log.info(m),
  });
  log.info('model loaded', { architecture: scorer.architecture, trained: scorer.trained, device: scorer.device });
  const people = env.analyses.detect && env.actionsModel ? defaultPersonTimelineOptions(loadModelManifest(env.actionsModel, 'detect-actions').trained, env.keyframeInterval) : undefined;
  const settings = workerSettingsOf(env, scorer.device);
  const clients = createClients(awsConfigOf(env));
  const events = await eventSinksOf(clients.config, env);
  if (events.sinks.length > 0) log.info('events on', { sinks: events.sinks.map((s) => s.name) });
  const service = await startWorkerService(clients, config, scorer, manifest, { log, events: { sinks: events.sinks }, ...(people ? { people } : {}) }, settings);
  const shutdown = (signal: string, hardExitSeconds = settings.hardExitSeconds) => {
    log.info('signal received: draining', { signal });
    const hard = setTimeout(() => {
      log.error('drain did not finish in time: exiting');
      process.exit(1);
    }, hardExitSeconds * 1000);
    hard.unref();
    service.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error('stop failed', { error: String(e) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  if (process.send) serveParent(process.send.bind(process), () => service.worker.status(), () => shutdown('parent gone', Math.min(PARENT_GONE_EXIT_SECONDS, settings.hardExitSeconds)));
} catch (e) {
  log.error('worker failed to start', { error: isVidxError(e) ? `${e.message} [${e.code}]` : String(e) });
  process.exit(1);
}
