/**
 * Done/failed events and re-indexing with a second model, on the emulators through the real SDK:
 * - SNS: fauxqs emulates it; a queue subscribed to the topic receives what was published.
 * - EventBridge: no emulator is installed, so a local HTTP endpoint answers PutEvents (the real
 *   EventBridgeClient serializes and sends the request; only the service side is stood in for).
 * - The webhook: a local HTTP receiver that verifies the HMAC signature as a user's would, and
 *   answers 503 to the first two deliveries (the retry delivers the same event id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo, quiet, testSegmenterDeps } from './fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { uploadAndNotify } from '../../cli/local/upload.ts';
import { s3CreatedEvent } from '../../cli/local/s3-event.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { snsSink, eventBridgeSink } from '../../adapters/event-sinks.ts';
import { webhookSink } from '../../core/events/webhook.ts';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, verifySignature } from '../../core/events/signing.ts';
import { VideoEventSchema, type VideoEvent } from '../../core/events/video-event.ts';
import type { EventSink } from '../../core/events/deliver.ts';
import { reindexVideo } from '../../core/pipeline/reindex.ts';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { QueryApi } from '../../core/query/api.ts';
import { objectEtagOf } from '../../core/records.ts';
import type { SegmenterDeps } from '../../core/pipeline/segment.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);
const SECRET = 'whsec-test-secret';

interface Received {
  id: string | undefined;
  event: VideoEvent;
  verified: boolean;
}

/** A tiny HTTP server: handle(path, headers, body) -> [status, json]. */
async function listen(handle: (req: { url: string; headers: Record<string, string | string[] | undefined>; body: string }) => [number, unknown]): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const [status, body] = handle({ url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let stack: TestStack;
let dir: string;
let servers: Server[] = [];
let sns: SNSClient;
let bridge: EventBridgeClient;
let topicQueueUrl: string;
const webhook: Received[] = [];
let webhookRefusals = 2;
const bridged: { source: string; detailType: string; bus: string; event: VideoEvent }[] = [];
let sinks: EventSink[];
let worker: ClipWorker | undefined;

function segmenterDeps(sha: string): SegmenterDeps {
  return testSegmenterDeps(stack, { model: { architecture: 'i3d_r50', trained: false, manifestSha256: sha }, events: { sinks, delivery: { backoffMs: 20 } } });
}

function startWorker(scorer: DeterministicScorer): ClipWorker {
  const w = new ClipWorker({
    sqs: stack.clients.sqs, queueUrl: stack.resources.queueUrl, s3: stack.clients.s3, store: stack.store, scorer,
    timeline: { threshold: 0, gap: 1 }, log: quiet, waitTimeSeconds: 1, visibilityTimeoutSeconds: 5, heartbeatSeconds: 1,
    events: { sinks, delivery: { backoffMs: 20 } },
    retryDelaySeconds: () => 0,
  });
  w.start();
  return w;
}

async function snsEvents(): Promise<VideoEvent[]> {
  const out: VideoEvent[] = [];
  for (;;) {
    const r = await stack.clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: topicQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!r.Messages?.length) return out;
    for (const m of r.Messages) out.push(VideoEventSchema.parse(JSON.parse((JSON.parse(m.Body!) as { Message: string }).Message)));
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-events-'));
  stack = await startTestStack();
  const creds = { accessKeyId: 'local', secretAccessKey: 'local' };
  sns = new SNSClient({ region: 'us-east-1', endpoint: stack.emulators.endpoint, credentials: creds });
  const topic = await sns.send(new CreateTopicCommand({ Name: 'vidx-events' }));
  topicQueueUrl = (await stack.clients.sqs.send(new CreateQueueCommand({ QueueName: 'events-subscriber' }))).QueueUrl!;
  const arn = (await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: topicQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  await sns.send(new SubscribeCommand({ TopicArn: topic.TopicArn, Protocol: 'sqs', Endpoint: arn }));

  const hook = await listen(({ headers, body }) => {
    const event = VideoEventSchema.parse(JSON.parse(body));
    webhook.push({ id: headers[EVENT_ID_HEADER] as string, event, verified: verifySignature(SECRET, body, headers[SIGNATURE_HEADER] as string).ok });
    if (webhookRefusals-- > 0) return [503, { error: 'try later' }];
    return [200, { ok: true }];
  });
  const eb = await listen(({ headers, body }) => {
    expect(headers['x-amz-target']).toBe('AWSEvents.PutEvents');
    const req = JSON.parse(body) as { Entries: { Source: string; DetailType: string; EventBusName: string; Detail: string }[] };
    for (const e of req.Entries) bridged.push({ source: e.Source, detailType: e.DetailType, bus: e.EventBusName, event: VideoEventSchema.parse(JSON.parse(e.Detail)) });
    return [200, { FailedEntryCount: 0, Entries: req.Entries.map((_, i) => ({ EventId: `eb-${bridged.length}-${i}` })) }];
  });
  servers = [hook.server, eb.server];
  bridge = new EventBridgeClient({ region: 'us-east-1', endpoint: eb.url, credentials: creds });
  sinks = [snsSink(sns, topic.TopicArn!), eventBridgeSink(bridge, 'vidx-test-bus'), webhookSink({ url: `${hook.url}/hooks/vidx`, secret: SECRET })];
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  sns?.destroy();
  bridge?.destroy();
  for (const s of servers) await new Promise((r) => s.close(r));
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('done and failed events', () => {
  let videoId: string;

  it('an indexed video sends one event (same id on every sink and every retry), signed for the webhook', async () => {
    worker = startWorker(new DeterministicScorer(3, 0, { manifestSha256: SHA_A }));
    const file = makeVideo(dir, 'rally.mp4', 4);
    const [up] = await uploadAndNotify(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, [file], makeSegmenterHandler(segmenterDeps(SHA_A)));
    videoId = up!.videoId;
    await waitFor('event delivered', async () => (await stack.store.getVideo(videoId))?.notifiedEvent, 60_000);
    const fromSns = await waitFor('sns', async () => { const e = await snsEvents(); return e.length > 0 && e; });
    await new Promise((r) => setTimeout(r, 1500)); // room for any duplicate to show up
    fromSns.push(...(await snsEvents()));

    const video = (await stack.store.getVideo(videoId))!;
    expect(fromSns).toHaveLength(1);
    const event = fromSns[0]!;
    expect(event).toMatchObject({
      type: 'vidx.video.indexed',
      status: 'indexed',
      video: { videoId, bucket: stack.resources.bucket, key: up!.key, etag: up!.etag, revision: up!.etag },
      model: { architecture: 'i3d_r50', manifestSha256: SHA_A, trained: false },
      counts: { clips: 2, segments: video.segments },
    });
    expect(event.id).toBe(video.notifiedEvent);
    expect(event.topLabels.length).toBeGreaterThan(0);
    expect(event.topLabels.length).toBeLessThanOrEqual(5);
    // EventBridge: one entry, source/detail-type to match rules on.
    expect(bridged).toEqual([{ source: 'vidx', detailType: 'Video Indexed', bus: 'vidx-test-bus', event }]);
    // Webhook: refused twice, delivered on the third try; every try the same id and a valid signature.
    expect(webhook.map((w) => w.id)).toEqual([event.id, event.id, event.id]);
    expect(webhook.every((w) => w.verified && w.event.id === event.id)).toBe(true);
    expect(verifySignature('another secret', JSON.stringify(event), 't=1,v1=' + '0'.repeat(64)).ok).toBe(false);
  }, 90_000);

  it('a video that cannot be indexed sends one failed event with the reason', async () => {
    const bad = join(dir, 'notes.mp4');
    writeFileSync(bad, 'not a video\n'.repeat(50));
    const before = webhook.length;
    const [up] = await uploadAndNotify(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, [bad], makeSegmenterHandler(segmenterDeps(SHA_A)));
    const events = await waitFor('sns', async () => { const e = await snsEvents(); return e.length > 0 && e; });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'vidx.video.failed', status: 'failed', video: { videoId: up!.videoId }, counts: { segments: 0 }, topLabels: [] });
    expect(events[0]!.reason).toBeTruthy();
    expect(events[0]!.errorCode).toBeTruthy();
    expect(webhook.slice(before).map((w) => [w.event.type, w.verified])).toEqual([['vidx.video.failed', true]]);
    // The same S3 event again: a duplicate revision, and no second event.
    const again = await makeSegmenterHandler(segmenterDeps(SHA_A))(s3CreatedEvent([up!]));
    expect(again.results[0]).toMatchObject({ outcome: 'duplicate', status: 'failed' });
    expect(await snsEvents()).toEqual([]);
  });

  it('re-index with a second model: the old timeline stays searchable until the new one is complete', async () => {
    await worker!.stop();
    worker = undefined;
    const api = new QueryApi({ index: new DynamoIndex(stack.clients.doc, stack.resources.tableName), vocabulary: Array.from({ length: 12 }, (_, i) => `action ${i}`), cursorSecret: Buffer.from('x') });
    const timeline = async () => (await api.handle({ method: 'GET', path: `/videos/${videoId}/timeline`, query: {} })).body as { video: { status: string; indexedWith?: { manifestSha256?: string }; modelSha256?: string }; segments: { label: string; start: number }[] };
    const old = await timeline();
    expect(old.video.indexedWith).toEqual({ architecture: 'i3d_r50', manifestSha256: SHA_A, trained: false });

    const r = await reindexVideo(segmenterDeps(SHA_B), videoId);
    expect(r).toMatchObject({ action: 'new-revision', result: { outcome: 'queued', clips: 2 } });
    const pending = await timeline();
    expect(pending.video.status).toBe('queued');
    expect(pending.video.modelSha256).toBe(SHA_B);
    expect(pending.video.indexedWith?.manifestSha256).toBe(SHA_A); // what made the segments still served
    expect(pending.segments).toEqual(old.segments);
    const probe = old.segments[0]!;
    const found = (await api.handle({ method: 'GET', path: '/search', query: { action: probe.label, videoId } })).body as { items: { start: number }[] };
    expect(found.items.some((i) => i.start === probe.start)).toBe(true);

    const eventsBefore = bridged.length;
    worker = startWorker(new DeterministicScorer(3, 0, { manifestSha256: SHA_B, salt: '#model-b' }));
    await waitFor('re-indexed', async () => (await stack.store.getVideo(videoId))?.notifiedEvent !== undefined && (await stack.store.getVideo(videoId))?.status === 'indexed', 60_000);
    const now = await timeline();
    expect(now.video.indexedWith).toEqual({ architecture: 'i3d_r50', manifestSha256: SHA_B, trained: false });
    expect(now.segments).not.toEqual(old.segments);
    const video = (await stack.store.getVideo(videoId))!;
    expect(objectEtagOf(video.etag)).not.toBe(video.etag);
    // Only the new revision's clip items are left.
    expect((await stack.store.derivedCounts(videoId)).clips).toBe(2);
    await waitFor('eventbridge', async () => bridged.length > eventsBefore);
    const e = bridged[bridged.length - 1]!.event;
    expect(e).toMatchObject({ status: 'indexed', model: { manifestSha256: SHA_B }, video: { revision: video.etag, etag: objectEtagOf(video.etag) } });
    expect(e.id).not.toBe(bridged[0]!.event.id);

    // Asking again with the same model changes nothing.
    expect(await reindexVideo(segmenterDeps(SHA_B), videoId)).toEqual({ videoId, action: 'current', status: 'indexed' });
  }, 90_000);
});
