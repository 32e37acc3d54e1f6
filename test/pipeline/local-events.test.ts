/**
 * `vidx local`'s events never block: with a webhook that accepts connections and never answers,
 * `vidx upload` of a file that is not a video says NOT_A_VIDEO at once (its own result, not the
 * sink's), the API answers at once while the delivery hangs, and a start with undelivered events
 * is not held up by them; the event is delivered once a receiver answers. Concurrent duplicate S3
 * events for one new object enqueue its clips once. The scorer is the deterministic stand-in; the
 * rest is the real local stack and the real CLI.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import type { LocalConfig, LocalStack } from '../../cli/local/stack.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { videoIdFor } from '../../core/records.ts';
import { VideoEventSchema } from '../../core/events/video-event.ts';
import { waitFor } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo } from './fixtures.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MANIFEST = 'test/cdk/fixtures/slowfast_r50.json';

let dir: string;
let stack: LocalStack | undefined;
let scorer: DeterministicScorer;
const sockets = new Set<Socket>();
let hanging: Server;
let receiver: Server;
const received: string[] = [];

function listen(server: Server): Promise<string> {
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`)));
}

async function start(webhook: string): Promise<{ stack: LocalStack; ms: number }> {
  scorer = Object.assign(new DeterministicScorer(3), { architecture: 'slowfast_r50' }) as DeterministicScorer;
  // Each start is a new process: new module instances, so the query Lambda cold-starts against the new emulators.
  vi.resetModules();
  const { startLocalStack } = await import('../../cli/local/stack.ts');
  const t0 = performance.now();
  // The delivery defaults (4 attempts, 0.5 s backoff doubling, 10 s per attempt): 43.5 s per event if awaited.
  const s = await startLocalStack({ port: 0, dataDir: join(dir, 'data'), manifestPath: MANIFEST, scorer, clipSeconds: 2, logLevel: 'SILENT', worker: { waitTimeSeconds: 1 }, webhook: { url: webhook } });
  return { stack: s, ms: performance.now() - t0 };
}

function vidx(args: string[]): Promise<{ code: number | null; out: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/vidx.js', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, ms: performance.now() - t0 }));
  });
}

async function timedGet(path: string): Promise<number> {
  const t0 = performance.now();
  const r = await fetch(`${stack!.apiUrl}${path}`);
  await r.arrayBuffer();
  expect(r.status, path).toBe(200);
  return performance.now() - t0;
}

let hangUrl: string;
let receiveUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-events-'));
  hanging = createServer(() => undefined); // takes the request, never answers
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
    });
  });
  hangUrl = await listen(hanging);
  receiveUrl = await listen(receiver);
});

afterAll(async () => {
  await stack?.stop();
  for (const s of sockets) s.destroy();
  await Promise.all([hanging, receiver].map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

describe('a webhook that never answers holds up nothing', () => {
  const junk = () => join(dir, 'junk.mp4');
  let junkId: string;

  it('`vidx upload junk.mp4` says it is not a video (NOT_A_VIDEO) at once, and the API answers while the delivery hangs', async () => {
    stack = (await start(hangUrl)).stack;
    writeFileSync(junk(), Buffer.from('this is not a video, only text that says it is one\n'.repeat(50)));
    const r = await vidx(['upload', junk(), '--api', stack.apiUrl]);
    // Its own result: the segmenter's verdict on the file, not the sink's trouble.
    expect(r.out).toMatch(/FAILED: .*is not a video file/);
    expect(r.out).not.toMatch(/EVENT_DELIVERY|not delivered|webhook/);
    expect(r.code).toBe(1);
    // Before: 47 s (the upload waited for four 10 s attempts). The CLI's own start (tsx) is most of this.
    expect(r.ms).toBeLessThan(40_000);
    // The route the CLI calls, timed alone: the segmenter's answer, with no sink in its way.
    writeFileSync(join(dir, 'junk2.mp4'), 'still not a video\n'.repeat(50));
    const config2 = (await (await fetch(`${stack.apiUrl}/_local/config`)).json()) as LocalConfig;
    const s3 = new S3Client({ region: config2.region, endpoint: config2.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const up2 = await putVideoFile(s3, config2.bucket, config2.prefix, join(dir, 'junk2.mp4'));
    s3.destroy();
    const t0 = performance.now();
    const answer = await fetch(`${stack.apiUrl}/_local/s3-event`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(s3CreatedEvent([up2])) });
    expect(((await answer.json()) as { results: { code: string }[] }).results[0]).toMatchObject({ code: 'NOT_A_VIDEO' });
    expect(performance.now() - t0).toBeLessThan(10_000);
    const config = (await (await fetch(`${stack.apiUrl}/_local/config`)).json()) as LocalConfig;
    junkId = videoIdFor(config.bucket, `${config.prefix}junk.mp4`);
    expect((await stack.store.getVideo(junkId))?.status).toBe('failed');

    await waitFor('the delivery under way', async () => sockets.size > 0, 10_000, 50);
    const ms: number[] = [];
    for (let i = 0; i < 6; i++) ms.push(await timedGet(i % 2 === 0 ? '/videos' : '/_local/health'));
    expect(Math.max(...ms)).toBeLessThan(3000);
    const health = (await (await fetch(`${stack.apiUrl}/_local/health`)).json()) as { events: { watching: number } };
    expect(health.events.watching).toBe(2);
  }, 60_000);

  it('a start with an undelivered event is not held up by the sink', async () => {
    await stack!.stop();
    const started = await start(hangUrl);
    stack = started.stack;
    expect(started.stack.recovery.notified).toBe(2);
    expect(started.ms).toBeLessThan(20_000); // before: 43.5 s per undelivered event
    expect(await timedGet('/videos')).toBeLessThan(3000);
  }, 60_000);

  it('the event is delivered once a receiver answers', async () => {
    await stack!.stop();
    stack = (await start(receiveUrl)).stack;
    await waitFor('the failed events', async () => received.length >= 2, 30_000, 100);
    const event = received.map((b) => VideoEventSchema.parse(JSON.parse(b))).find((e) => e.video.videoId === junkId)!;
    expect(event).toMatchObject({ status: 'failed', video: { videoId: junkId } });
    // Recorded as delivered once the receiver has answered (just after it got the body).
    await waitFor('recorded as delivered', async () => (await stack!.store.getVideo(junkId))?.notifiedEvent === event.id, 10_000, 50);
  }, 60_000);
});

describe('duplicate S3 events', () => {
  it('10 concurrent duplicates of the event of one new object enqueue its clips once', async () => {
    const file = makeVideo(dir, 'dup.mp4', 5);
    const config = (await (await fetch(`${stack!.apiUrl}/_local/config`)).json()) as LocalConfig;
    const s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const up = await putVideoFile(s3, config.bucket, config.prefix, file);
    s3.destroy();
    const body = JSON.stringify(s3CreatedEvent([up]));
    const callsBefore = scorer.calls;
    const answers = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const r = await fetch(`${stack!.apiUrl}/_local/s3-event`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return ((await r.json()) as { results: { outcome: string; clips?: number }[] }).results[0]!;
      }),
    );
    const queued = answers.filter((a) => a.outcome === 'queued');
    expect(queued, JSON.stringify(answers)).toHaveLength(1);
    expect(answers.filter((a) => a.outcome === 'duplicate'), JSON.stringify(answers)).toHaveLength(9);
    await waitFor('indexed', async () => (await stack!.store.getVideo(up.videoId))?.status === 'indexed', 60_000, 200);
    await new Promise((r) => setTimeout(r, 2000)); // any extra job would be scored by now
    expect(scorer.calls - callsBefore).toBe(queued[0]!.clips);
  }, 90_000);
});
