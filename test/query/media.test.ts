/**
 * The media routes through the query handler against real emulators (fauxqs S3, dynalite): the
 * signed URLs it returns really fetch the video (ranges included) and the thumbnails, and its
 * upload URL really takes a PUT of a new video, under the video prefix only.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresignS3 } from '../../adapters/clients.ts';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { S3MediaSigner } from '../../adapters/media-signer.ts';
import { putObject } from '../../adapters/objects.ts';
import { thumbnailKey, videoIdFor } from '../../core/records.ts';
import { SearchResponseSchema, TimelineResponseSchema, UploadPartsResponseSchema, UploadUrlResponseSchema } from '../../core/query/responses.ts';
import { UPLOAD_PART_BYTES } from '../../core/query/media.ts';
import { completeXml } from '../../web/upload.ts';
import { createQueryHandler, type QueryHandler } from '../../lambdas/query/app.ts';
import { startTestStack, type TestStack } from '../helpers/emulators.ts';
import { apigwEvent } from './helpers/events.ts';
import { segmentItem, videoItem } from './helpers/seed.ts';
import { kinetics400 } from './helpers/vocabulary.ts';

const KEY = 'videos/match day.mp4';
const VIDEO_BYTES = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 0xff, 0xd9]);

let stack: TestStack;
let bucket: string;
let videoId: string;
let handler: QueryHandler;
let bare: QueryHandler;

async function call(handle: QueryHandler, url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await handle(apigwEvent('GET', url));
  return { status: r.statusCode ?? 0, body: JSON.parse(r.body ?? 'null') };
}

beforeAll(async () => {
  stack = await startTestStack();
  bucket = stack.resources.bucket;
  videoId = videoIdFor(bucket, KEY);
  const { etag } = await putObject(stack.clients.s3, bucket, KEY, VIDEO_BYTES);
  const video = videoItem(KEY, '2026-01-01T00:00:00.000Z', { videoId, bucket, etag, PK: `VIDEO#${videoId}` });
  const withThumb = { ...segmentItem({ videoId, key: KEY, label: 'playing cricket', start: 4, end: 8, score: 0.9 }), etag, thumbAt: 5 };
  const without = { ...segmentItem({ videoId, key: KEY, label: 'playing cricket', start: 20, end: 24, score: 0.5 }), etag };
  await stack.clients.doc.send(new (await import('@aws-sdk/lib-dynamodb')).BatchWriteCommand({
    RequestItems: { [stack.resources.tableName]: [video, withThumb, without].map((Item) => ({ PutRequest: { Item } })) },
  }));
  await putObject(stack.clients.s3, bucket, thumbnailKey(videoId, etag, 5), JPEG, { contentType: 'image/jpeg' });
  const common = { index: new DynamoIndex(stack.clients.doc, stack.resources.tableName), vocabulary: kinetics400(), cursorSecret: Buffer.from('s'), logger: new Logger({ logLevel: 'SILENT' }) };
  handler = createQueryHandler({ ...common, media: new S3MediaSigner(createPresignS3(stack.clients.config, undefined), bucket) });
  bare = createQueryHandler(common);
});

afterAll(async () => {
  await stack?.stop();
});

describe('GET /videos/{id}/media', () => {
  it('returns a short-lived URL that plays the video, byte ranges included (seeking)', async () => {
    const r = await call(handler, `/videos/${videoId}/media`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ videoId, expiresIn: 900 });
    const url = String(r.body.url);
    expect(url).toContain('X-Amz-Expires=900');
    expect(Buffer.from(await (await fetch(url)).arrayBuffer())).toEqual(VIDEO_BYTES);
    const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(VIDEO_BYTES.subarray(100, 200));
  });

  it('is 404 for an unknown video, 400 for a malformed id or any parameter', async () => {
    expect((await call(handler, `/videos/${'0'.repeat(20)}/media`)).body).toMatchObject({ status: 404, code: 'VIDEO_NOT_FOUND' });
    expect((await call(handler, '/videos/nope/media')).status).toBe(400);
    expect((await call(handler, `/videos/${videoId}/media?x=1`)).body).toMatchObject({ status: 400, code: 'UNKNOWN_PARAMETER' });
  });

  it('says 501 MEDIA_UNAVAILABLE (not a 500) where the API has no media bucket', async () => {
    const r = await call(bare, `/videos/${videoId}/media`);
    expect(r.body).toMatchObject({ status: 501, code: 'MEDIA_UNAVAILABLE' });
    expect(String(r.body.message)).toMatch(/media bucket/);
  });
});

describe('thumbnails in search results and timelines', () => {
  it('gives a segment with a thumbnail a URL that fetches its JPEG; a segment without one gets none', async () => {
    const s = SearchResponseSchema.parse((await call(handler, `/search?action=${encodeURIComponent('playing cricket')}`)).body);
    expect(s.items.map((i) => i.start)).toEqual([4, 20]);
    const jpeg = await fetch(s.items[0]!.thumbnail!);
    expect(Buffer.from(await jpeg.arrayBuffer())).toEqual(JPEG);
    expect(s.items[1]!.thumbnail).toBeUndefined();
    const t = TimelineResponseSchema.parse((await call(handler, `/videos/${videoId}/timeline`)).body);
    expect(t.segments.map((x) => Boolean(x.thumbnail))).toEqual([true, false]);
    // No revision or thumbnail time leaks into the answer.
    expect(JSON.stringify(s)).not.toMatch(/"etag"|"thumbAt"/);
  });
});

describe('GET /upload-url', () => {
  it('signs a PUT under the video prefix that stores the file with its content type', async () => {
    const r = await call(handler, `/upload-url?name=${encodeURIComponent('new clip (2).mp4')}&type=video/mp4`);
    expect(r.status).toBe(200);
    const u = UploadUrlResponseSchema.parse(r.body);
    expect(u).toMatchObject({ key: 'videos/new clip (2).mp4', videoId: videoIdFor(bucket, 'videos/new clip (2).mp4'), method: 'PUT', headers: { 'content-type': 'video/mp4' } });
    // No checksum of an empty body is baked into the URL (S3 would refuse the real upload).
    expect(u.url).not.toMatch(/x-amz-checksum/i);
    expect(u.url).toMatch(/X-Amz-SignedHeaders=content-type%3Bhost/);
    const put = await fetch(u.url, { method: 'PUT', headers: u.headers, body: VIDEO_BYTES });
    expect(put.status).toBe(200);
    const head = await stack.clients.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: u.key }));
    expect(head.ContentLength).toBe(VIDEO_BYTES.length);
    expect(head.ContentType).toBe('video/mp4');
  });

  it('answers a file larger than one part with a signed multipart upload whose parts and completion really store it', async () => {
    const size = UPLOAD_PART_BYTES + 1000;
    const bytes = Buffer.alloc(size, 7);
    bytes.write('the last part', size - 20);
    const r = await call(handler, `/upload-url?name=big.mp4&type=video/mp4&size=${size}`);
    const u = UploadUrlResponseSchema.parse(r.body);
    if (u.method !== 'MULTIPART') throw new Error(`expected a multipart upload, got ${u.method}`);
    expect(u).toMatchObject({ key: 'videos/big.mp4', partSize: UPLOAD_PART_BYTES, parts: 2, headers: { 'content-type': 'video/mp4' } });
    const created = await (await fetch(u.url, { method: 'POST', headers: u.headers })).text();
    const uploadId = /<UploadId>([^<]+)</.exec(created)![1]!;
    const p = await call(handler, `/upload-parts?name=big.mp4&uploadId=${encodeURIComponent(uploadId)}&parts=${u.parts}`);
    const parts = UploadPartsResponseSchema.parse(p.body);
    expect(parts.parts).toHaveLength(2);
    const etags: string[] = [];
    for (const [i, url] of parts.parts.entries()) {
      const put = await fetch(url, { method: 'PUT', body: bytes.subarray(i * u.partSize, (i + 1) * u.partSize) });
      expect(put.status).toBe(200);
      etags.push(put.headers.get('etag')!);
    }
    const done = await fetch(parts.complete, { method: 'POST', body: completeXml(etags) });
    expect(await done.text()).toMatch(/CompleteMultipartUploadResult/);
    const got = await stack.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'videos/big.mp4' }));
    expect(got.ContentType).toBe('video/mp4');
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(bytes)).toBe(true);
    // A file of one part, or of unknown size, is one PUT as before.
    expect(UploadUrlResponseSchema.parse((await call(handler, `/upload-url?name=s.mp4&size=${UPLOAD_PART_BYTES}`)).body).method).toBe('PUT');
    expect((await call(handler, '/upload-parts?name=big.mp4&uploadId=x&parts=1001')).body).toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
    expect((await call(handler, '/upload-parts?name=../big.mp4&uploadId=x&parts=1')).body).toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
  });

  it('refuses names that are not plain video file names, and other content types', async () => {
    for (const name of ['../escape.mp4', 'a/b.mp4', 'notes.txt', 'x.mp4.exe', '.mp4', `${'a'.repeat(200)}.mp4`, '<script>.mp4']) {
      const r = await call(handler, `/upload-url?name=${encodeURIComponent(name)}`);
      expect(r.body, name).toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
    }
    expect((await call(handler, '/upload-url')).body).toMatchObject({ status: 400, message: 'name is required' });
    expect((await call(handler, '/upload-url?name=a.mp4&type=text/html')).body).toMatchObject({ status: 400, code: 'INVALID_PARAMETER' });
    expect((await call(handler, '/upload-url?name=a.mp4&bucket=other')).body).toMatchObject({ status: 400, code: 'UNKNOWN_PARAMETER' });
  });
});
