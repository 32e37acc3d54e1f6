/**
 * The worker runs with the settings it is given: batch sized to the machine, the queue settings of
 * cdk/config.ts from its environment (visibility timeout, heartbeat, stop timeout), honoured on the
 * real queue; and a stop releases at once a batch that cannot finish within the drain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, TEST_WINDOW, makeVideo, quiet, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { putVideoFile, type UploadedFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { startWorkerService } from '../../gpu-worker/service.ts';
import { batchSizeFor, drainPlan, workerSettingsOf } from '../../gpu-worker/settings.ts';
import { ENV, VIDEO_PREFIX } from '../../core/names.ts';
import { parseSettings } from '../../core/settings/define.ts';
import { WORKER_SETTINGS } from '../../core/settings/processes.ts';

/** The queue settings of a worker on `device` with `cpus` cores whose environment is `env` (plus the two it cannot do without). */
function workerSettingsFromEnv(device: string, env: NodeJS.ProcessEnv, cpus: number) {
  return workerSettingsOf(parseSettings(WORKER_SETTINGS, { [ENV.queueUrl]: 'http://127.0.0.1:9/queue', [ENV.model]: 'model.json', ...env }), device, cpus);
}

describe('settings', () => {
  it('batch: a full SQS batch on a GPU, one clip per two cores on CPU (a 2-core worker takes one)', () => {
    expect(batchSizeFor('cuda', 4)).toBe(10);
    expect(batchSizeFor('cpu', 2)).toBe(1);
    expect(batchSizeFor('cpu', 1)).toBe(1);
    expect(batchSizeFor('cpu', 8)).toBe(4);
    expect(batchSizeFor('cpu', 64)).toBe(10);
  });

  it('the stop sequence fits the stop timeout: poll, drain, hard exit', () => {
    expect(drainPlan(120)).toEqual({ waitTimeSeconds: 20, drainSeconds: 105, hardExitSeconds: 115 });
    expect(drainPlan(20)).toEqual({ waitTimeSeconds: 5, drainSeconds: 10, hardExitSeconds: 15 });
    for (const t of [2, 5, 8, 30, 60, 119]) {
      const p = drainPlan(t);
      expect(p.drainSeconds, `T=${t}`).toBeLessThan(p.hardExitSeconds);
      expect(p.hardExitSeconds, `T=${t}`).toBeLessThan(t);
    }
  });

  it('reads the environment, sizes the batch when it is not set, and refuses nonsense', () => {
    expect(workerSettingsFromEnv('cpu', {}, 2)).toEqual({ batchSize: 1, visibilityTimeoutSeconds: 120, heartbeatSeconds: 30, stopTimeoutSeconds: 120, ...drainPlan(120) });
    expect(workerSettingsFromEnv('cuda', { [ENV.visibilityTimeoutSeconds]: '300', [ENV.heartbeatSeconds]: '45', [ENV.stopTimeoutSeconds]: '60', [ENV.batchSize]: '4' }, 4)).toEqual({
      batchSize: 4, visibilityTimeoutSeconds: 300, heartbeatSeconds: 45, stopTimeoutSeconds: 60, ...drainPlan(60),
    });
    // `vidx local` shortens the poll (Ctrl-C waits for it); never beyond what the stop timeout allows.
    expect(workerSettingsFromEnv('cpu', { [ENV.waitTimeSeconds]: '5' }, 2).waitTimeSeconds).toBe(5);
    for (const env of [{ [ENV.batchSize]: '11' }, { [ENV.stopTimeoutSeconds]: 'soon' }, { [ENV.visibilityTimeoutSeconds]: '10', [ENV.heartbeatSeconds]: '6' }, { [ENV.stopTimeoutSeconds]: '8', [ENV.waitTimeSeconds]: '5' }]) {
      expect(() => workerSettingsFromEnv('cpu', env, 2)).toThrow(expect.objectContaining({ code: 'INVALID_SETTING', variable: Object.keys(env).at(-1) }));
    }
  });
});

describe('on the emulators', () => {
  let stack: TestStack;
  let dir: string;
  let segment: (event: unknown) => Promise<unknown>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vidx-worker-settings-'));
    stack = await startTestStack();
    // One clip per video (60 s clips), so one message stands for one video.
    segment = makeSegmenterHandler(testSegmenterDeps(stack, { clipSeconds: 60 }));
  });
  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function upload(name: string): Promise<UploadedFile> {
    const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, makeVideo(dir, name, 2));
    await segment(s3CreatedEvent([up]));
    return up;
  }
  const receiveNow = async () =>
    (await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.resources.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 0 }))).Messages ?? [];

  it('non-default heartbeat, visibility timeout and stop timeout from the environment are what the worker does', async () => {
    const env = { [ENV.visibilityTimeoutSeconds]: '4', [ENV.heartbeatSeconds]: '1', [ENV.stopTimeoutSeconds]: '8', [ENV.batchSize]: '2' };
    const settings = workerSettingsFromEnv('cpu', env, 2);
    const scorer = new DeterministicScorer(3, 6000); // a clip takes longer than the visibility timeout
    const service = await startWorkerService(stack.clients, { queueUrl: stack.resources.queueUrl, tableName: stack.resources.tableName, healthPort: 0 }, scorer, TEST_WINDOW, { log: quiet }, settings);
    try {
      const health = (await (await fetch(`http://127.0.0.1:${service.health!.port}/health`)).json()) as { settings: Record<string, unknown> };
      expect(health.settings).toMatchObject({ batchSize: 2, visibilityTimeoutSeconds: 4, heartbeatSeconds: 1, drainSeconds: drainPlan(8).drainSeconds });

      // Heartbeat: 5 s into a 6 s clip, past the 4 s visibility timeout, the message is still hidden.
      const a = await upload('heartbeat.mp4');
      await waitFor('work started', async () => service.worker.status().inFlight > 0, 20_000);
      await new Promise((res) => setTimeout(res, 5000));
      expect(await receiveNow()).toEqual([]);
      await waitFor('indexed', async () => (await stack.store.getVideo(a.videoId))?.status === 'indexed', 20_000);
      expect(scorer.calls).toBe(1);

      // Visibility timeout: a worker that dies holding a message gives it back after ~4 s, not 120 s.
      const b = await upload('visibility.mp4');
      await waitFor('work started', async () => service.worker.status().inFlight > 0, 20_000);
      service.worker.crash();
      const t0 = Date.now();
      const back = await waitFor('the message visible again', async () => {
        const m = await receiveNow();
        return m.length > 0 ? m : undefined;
      }, 20_000, 250);
      expect(back[0]!.Body).toContain(b.videoId);
      expect(Date.now() - t0).toBeLessThan(6000);
    } finally {
      await service.stop();
    }
  }, 90_000);

  it('a stop releases at once a batch that, at the pace of the last ones, cannot finish within the drain', async () => {
    // The video the crashed worker held is left on the queue: this test's worker finishes it first.
    const worker = new ClipWorker({
      sqs: stack.clients.sqs, s3: stack.clients.s3, queueUrl: stack.resources.queueUrl, store: stack.store,
      scorer: new DeterministicScorer(3, 5000), timeline: { threshold: 0, gap: 1 }, log: quiet,
      waitTimeSeconds: 1, visibilityTimeoutSeconds: 10, heartbeatSeconds: 2, batchSize: 1, stopTimeoutSeconds: 4,
    });
    worker.start();
    try {
      const first = await upload('pace.mp4');
      await waitFor('indexed', async () => (await stack.store.getVideo(first.videoId))?.status === 'indexed', 20_000);
      expect(worker.status().settings.batchMs).toBeGreaterThanOrEqual(5000);
      const second = await upload('released.mp4');
      await waitFor('work started', async () => worker.status().inFlight > 0, 20_000);
      const t0 = Date.now();
      await worker.stop();
      // The drain is 4 s; the batch needs ~5 s: released at once instead of held to the deadline.
      expect(Date.now() - t0).toBeLessThan(3000);
      const back = await receiveNow();
      expect(back.map((m) => m.Body).join()).toContain(second.videoId);
    } finally {
      await worker.stop();
    }
  }, 60_000);
});
