/**
 * `vidx local` remembers: a restart in the middle of a video still ends `indexed` (issue 11).
 * The stack's emulated S3 and SQS (fauxqs) forget everything on stop; the stack keeps the upload
 * under --data and resumes the unfinished revision from the index. The done event reaches a local
 * webhook receiver signed with the secret kept in the data dir. The scorer is the deterministic
 * stand-in (slow on purpose, so the stop lands mid-video); the rest is the real local stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { startLocalStack, type LocalConfig, type LocalStack } from '../../cli/local/stack.ts';
import { putVideoFile } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { SIGNATURE_HEADER, verifySignature } from '../../core/events/signing.ts';
import { VideoEventSchema, type VideoEvent } from '../../core/events/video-event.ts';
import { waitFor } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo } from './fixtures.ts';

const MANIFEST = 'test/cdk/fixtures/slowfast_r50.json'; // slowfast windows (2.13 s) plan the clips

let dir: string;
let stack: LocalStack | undefined;
let receiver: Server;
let hookUrl: string;
const received: { body: string; signature: string }[] = [];

function start(): Promise<LocalStack> {
  // Slow clips (0.8 s each, one at a time) so that a stop lands mid-video.
  const scorer = Object.assign(new DeterministicScorer(3, 800), { architecture: 'slowfast_r50' });
  return startLocalStack({
    port: 0,
    dataDir: join(dir, 'data'),
    manifestPath: MANIFEST,
    scorer,
    clipSeconds: 2,
    logLevel: 'SILENT',
    worker: { waitTimeSeconds: 1, batchSize: 1, visibilityTimeoutSeconds: 10, heartbeatSeconds: 2 },
    webhook: { url: hookUrl },
    delivery: { backoffMs: 20 },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-restart-'));
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), signature: String(req.headers[SIGNATURE_HEADER]) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/vidx`;
});

afterAll(async () => {
  await stack?.stop();
  await new Promise((r) => receiver.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('vidx local across a restart', () => {
  it('a video caught mid-processing by a restart still ends indexed, with one signed event', async () => {
    stack = await start();
    const file = makeVideo(dir, 'long rally.mp4', 12);
    const config = (await (await fetch(`${stack.apiUrl}/_local/config`)).json()) as LocalConfig;
    const s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    const up = await putVideoFile(s3, config.bucket, config.prefix, file);
    s3.destroy();
    const r = await fetch(`${stack.apiUrl}/_local/s3-event`, { method: 'POST', body: JSON.stringify(s3CreatedEvent([up])) });
    expect(((await r.json()) as { results: { outcome: string; clips: number }[] }).results[0]).toMatchObject({ outcome: 'queued', clips: 5 });
    await waitFor('some clips done', async () => ((await stack!.store.getVideo(up.videoId))?.doneClips.length ?? 0) >= 1, 60_000);

    await stack.stop(); // fauxqs forgets the object and the queued clips
    const mid = (await readIndexAfterStop(up.videoId))!;
    expect(mid).not.toBe('indexed');
    expect(existsSync(join(dir, 'data', 'objects', `${up.videoId}.bin`))).toBe(true);

    stack = await start();
    expect(stack.recovery.restored).toBe(1);
    expect(stack.recovery.resumed).toEqual([expect.objectContaining({ videoId: up.videoId, action: 'requeued' })]);
    await waitFor('indexed after the restart', async () => (await stack!.store.getVideo(up.videoId))?.status === 'indexed', 90_000, 200);
    const video = (await stack.store.getVideo(up.videoId))!;
    expect(video.doneClips).toEqual([0, 1, 2, 3, 4]);

    await waitFor('event', async () => received.length > 0, 20_000);
    await new Promise((res) => setTimeout(res, 500));
    const secret = readFileSync(join(dir, 'data', 'webhook-secret'), 'utf8').trim();
    expect(received).toHaveLength(1);
    expect(verifySignature(secret, received[0]!.body, received[0]!.signature).ok).toBe(true);
    const event: VideoEvent = VideoEventSchema.parse(JSON.parse(received[0]!.body));
    expect(event).toMatchObject({ status: 'indexed', video: { videoId: up.videoId, etag: up.etag }, counts: { clips: 5 } });
  }, 180_000);

  it('reindex: an indexed video with the running model is left alone; another model is refused locally', async () => {
    const all = await fetch(`${stack!.apiUrl}/_local/reindex`, { method: 'POST', body: JSON.stringify({ all: true }) });
    expect(((await all.json()) as { results: { action: string }[] }).results.map((x) => x.action)).toEqual(['current']);
    const other = await fetch(`${stack!.apiUrl}/_local/reindex`, { method: 'POST', body: JSON.stringify({ all: true, manifestSha256: 'c'.repeat(64) }) });
    expect(other.status).toBe(409);
    expect(((await other.json()) as { code: string }).code).toBe('MODEL_NOT_RUNNING');
  });
});

/** The status as the index (on disk) holds it while the stack is down: read it through a fresh stack-less reader. */
async function readIndexAfterStop(videoId: string): Promise<string | undefined> {
  const { startEmulators } = await import('../../cli/local/emulators.ts');
  const { createClients } = await import('../../adapters/clients.ts');
  const { createIndex } = await import('../../adapters/dynamo-index/create.ts');
  const { TABLE } = await import('../../core/names.ts');
  const em = await startEmulators({ dynamoPath: join(dir, 'data', 'dynamodb') });
  const clients = createClients({ region: 'us-east-1', endpoint: em.endpoint, dynamoEndpoint: em.dynamoEndpoint });
  try {
    return (await createIndex(clients, TABLE.name).getVideo(videoId))?.status;
  } finally {
    clients.destroy();
    await em.stop();
  }
}
