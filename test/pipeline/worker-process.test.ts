/**
 * The worker as ECS runs it: `node bin/run-ts.js gpu-worker/main.ts` in its own process, configured
 * by the environment only, against the emulators. It reports healthy on GET /health, indexes a
 * video, and on SIGTERM stops receiving, drains, and exits 0 well within the stop timeout.
 * As `vidx local` runs it (cli/local/worker-process.ts): a child that dies is started again and
 * finishes the queue; a child whose parent is killed stops within seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { makeVideo, testSegmenterDeps } from './fixtures.ts';
import { synthesize } from '../../models/convert.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { loadManifest } from '../../core/pipeline/model-ref.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { planWindows } from '../../core/video/windows.ts';
import { DEFAULTS, ENV, VIDEO_PREFIX } from '../../core/names.ts';
import { startWorkerProcess } from '../../cli/local/worker-process.ts';

let stack: TestStack;
let dir: string;
let child: ChildProcess | undefined;
let manifestPath: string;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-wproc-'));
  stack = await startTestStack();
  manifestPath = (await synthesize('i3d_r50', join(dir, 'model'))).manifestPath;
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('gpu-worker/main.ts as a process', () => {
  it('is healthy, indexes a video, and drains on SIGTERM with exit 0', async () => {
    const port = await freePort();
    const logs: string[] = [];
    child = spawn(process.execPath, ['bin/run-ts.js', 'gpu-worker/main.ts'], {
      env: {
        ...process.env,
        [ENV.queueUrl]: stack.resources.queueUrl,
        [ENV.table]: stack.resources.tableName,
        [ENV.model]: manifestPath,
        [ENV.device]: 'auto',
        [ENV.threads]: '2',
        [ENV.healthPort]: String(port),
        [ENV.endpoint]: stack.emulators.endpoint,
        [ENV.dynamoEndpoint]: stack.emulators.dynamoEndpoint,
        [ENV.region]: DEFAULTS.region,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => logs.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => logs.push(d.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    const health = await waitFor('healthy', async () => {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/health`);
        return r.status === 200 ? ((await r.json()) as { status: string; device: string }) : undefined;
      } catch (_e) {
        return undefined; // not listening yet
      }
    }, 60_000, 250).catch((e: unknown) => {
      throw new Error(`${String(e)}\n${logs.join('')}`);
    });
    expect(health.status).toBe('ok');

    const manifest = loadManifest(manifestPath);
    const segment = makeSegmenterHandler(testSegmenterDeps(stack, { clipSeconds: 60, windowStarts: (d) => planWindows(d, manifest).map((w) => w.start) }));
    const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, makeVideo(dir, 'w.mp4', 2.5, { size: '128x96' }));
    await segment(s3CreatedEvent([up]));
    const v = await waitFor('indexed', async () => {
      const r = await stack.store.getVideo(up.videoId);
      return r?.status === 'indexed' ? r : undefined;
    }, 90_000, 250);
    expect(v.segments).toBeGreaterThan(0);
    const perClip = logs.join('').split('\n').filter((l) => l.includes('"clip scored"'));
    expect(perClip.length).toBe(1);
    const line = JSON.parse(perClip[0]!) as Record<string, unknown>;
    for (const k of ['decodeMs', 'inferenceMs', 'windows', 'device', 'videoId', 'clip']) expect(line).toHaveProperty(k);

    const t0 = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    expect(code).toBe(0);
    // The pending long poll (20 s) completes rather than being aborted; then it exits.
    expect(Date.now() - t0).toBeLessThan(DEFAULTS.stopTimeoutSeconds * 1000);
    expect(logs.join('')).toMatch(/worker stopped/);
  }, 180_000);
});

function workerEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    [ENV.queueUrl]: stack.resources.queueUrl,
    [ENV.table]: stack.resources.tableName,
    [ENV.model]: manifestPath,
    [ENV.device]: 'cpu',
    [ENV.threads]: '2',
    [ENV.healthPort]: '',
    [ENV.waitTimeSeconds]: '1',
    [ENV.endpoint]: stack.emulators.endpoint,
    [ENV.dynamoEndpoint]: stack.emulators.dynamoEndpoint,
    [ENV.region]: DEFAULTS.region,
    POWERTOOLS_LOG_LEVEL: 'WARN',
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (_e) {
    return false;
  }
}

describe('the worker child as vidx local supervises it', () => {
  it('a killed child is started again (said in the log and the status) and indexes what was queued meanwhile', async () => {
    const said: string[] = [];
    const worker = await startWorkerProcess({ env: workerEnv(), killAfterSeconds: 30, say: (m) => said.push(m), backoff: { firstMs: 500 } });
    try {
      const first = worker.supervision().pid!;
      expect(alive(first)).toBe(true);
      process.kill(first, 'SIGKILL');
      await waitFor('the restart said', async () => said.some((m) => /exited unexpectedly .*signal SIGKILL.*restarting it in/.test(m)), 20_000, 50);
      // Uploaded while no worker runs: it waits in the queue.
      const manifest = loadManifest(manifestPath);
      const segment = makeSegmenterHandler(testSegmenterDeps(stack, { clipSeconds: 60, windowStarts: (d) => planWindows(d, manifest).map((w) => w.start) }));
      const up = await putVideoFile(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, makeVideo(dir, 'while-down.mp4', 2.5, { size: '128x96' }));
      await segment(s3CreatedEvent([up]));
      await waitFor('indexed by the new child', async () => (await stack.store.getVideo(up.videoId))?.status === 'indexed', 120_000, 250);
      const status = (await worker.status()) as { supervisor: { state: string; restarts: number; pid: number; lastExit: { signal: string } } };
      expect(status.supervisor).toMatchObject({ state: 'running', restarts: 1, lastExit: { signal: 'SIGKILL' } });
      expect(status.supervisor.pid).not.toBe(first);
      expect(said.some((m) => /running again/.test(m))).toBe(true);
    } finally {
      await worker.stop();
    }
    expect(worker.supervision().state).toBe('stopped');
  }, 240_000);

  it('a child whose parent is killed exits within seconds', async () => {
    const parent = spawn(process.execPath, ['bin/run-ts.js', 'test/helpers/worker-parent.ts'], { env: workerEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    parent.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    parent.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const pid = await waitFor('the child ready', async () => Number(/READY (\d+)/.exec(out)?.[1]) || undefined, 120_000, 100).catch((e: unknown) => {
      parent.kill('SIGKILL');
      throw new Error(`${String(e)}\n${out}`);
    });
    expect(alive(pid)).toBe(true);
    const t0 = Date.now();
    parent.kill('SIGKILL');
    await waitFor('the orphaned child gone', async () => !alive(pid), 30_000, 100).catch((e: unknown) => {
      process.kill(pid, 'SIGKILL');
      throw e;
    });
    // It drains for at most 5 s after its parent is gone (then exits): well under the stop timeout.
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 180_000);
});
