/**
 * Clip payloads too large for an index item (per-window scores, per-keyframe detections) live in
 * S3, one object per clip and revision under CLIP_PAYLOAD_PREFIX; the clip item keeps a pointer.
 * The object's key carries the revision, so a late worker of an old revision never overwrites a
 * newer one's.
 */
import { DeleteObjectsCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CLIP_PAYLOAD_PREFIX } from '../../core/names.ts';
import { revisionId } from '../../core/records.ts';

/** What a clip item says of its payload in S3. */
export interface PayloadPointer {
  bucket: string;
  key: string;
  /** Bytes of the stored JSON. */
  bytes: number;
}

/** The JSON text of a clip's window scores and (where people are detected) keyframes. */
export interface ClipPayload {
  windows: string;
  keyframes?: string | undefined;
}

export function payloadKey(videoId: string, etag: string, index: number): string {
  return `${CLIP_PAYLOAD_PREFIX}${videoId}/${revisionId(etag)}/${String(index).padStart(6, '0')}.json`;
}

export interface PayloadStore {
  /** Where new payloads go; absent = this process cannot move payloads out (it only reads and removes them). */
  readonly bucket?: string | undefined;
  put(pointer: Omit<PayloadPointer, 'bytes'>, body: string): Promise<void>;
  get(pointer: PayloadPointer): Promise<ClipPayload>;
  remove(pointers: readonly PayloadPointer[]): Promise<void>;
}

export function s3PayloadStore(s3: S3Client, bucket?: string): PayloadStore {
  return {
    bucket,
    async put(p, body) {
      await s3.send(new PutObjectCommand({ Bucket: p.bucket, Key: p.key, Body: body, ContentType: 'application/json' }));
    },
    async get(p) {
      const r = await s3.send(new GetObjectCommand({ Bucket: p.bucket, Key: p.key }));
      const text = (await r.Body?.transformToString('utf8')) ?? '';
      return JSON.parse(text) as ClipPayload;
    },
    async remove(pointers) {
      const byBucket = new Map<string, string[]>();
      for (const p of pointers) byBucket.set(p.bucket, [...(byBucket.get(p.bucket) ?? []), p.key]);
      for (const [bucket, keys] of byBucket) {
        for (let i = 0; i < keys.length; i += 1000) {
          await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
        }
      }
    },
  };
}
