/** S3 objects: presigned GET URLs (the probe and the decoder read through them), put, head. */
import { GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { createReadStream, statSync } from 'node:fs';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { VidxError } from '../core/errors.ts';
import { redactSecrets } from '../core/redact.ts';
import type { ObjectHead, VideoObjects } from '../core/pipeline/ports.ts';

/** Presigned GET long enough for ffprobe / one clip's decode. */
export async function presignGet(s3: S3Client, bucket: string, key: string, expiresInSeconds = 3600): Promise<string> {
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
}

/** HEAD an object; a missing object is a VidxError OBJECT_NOT_FOUND, anything else propagates. */
export async function headObject(s3: S3Client, bucket: string, key: string): Promise<ObjectHead> {
  try {
    const r = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { size: r.ContentLength ?? 0, etag: stripQuotes(r.ETag ?? ''), contentType: r.ContentType };
  } catch (e) {
    if (e instanceof NotFound || (e as { name?: string }).name === 'NotFound' || httpStatus(e) === 404) {
      throw new VidxError('OBJECT_NOT_FOUND', `s3://${bucket}/${key} does not exist (deleted after upload?)`, { cause: e });
    }
    throw e;
  }
}

export async function putObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Uint8Array | Readable,
  options: { contentType?: string; contentLength?: number } = {},
): Promise<{ etag: string }> {
  const r = await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: options.contentType, ContentLength: options.contentLength }),
  );
  return { etag: stripQuotes(r.ETag ?? '') };
}

/** Multipart part size: under the local emulator's 11 MiB body limit, and 10,000 parts cover 80 GiB. */
export const UPLOAD_PART_BYTES = 8 * 1024 * 1024;
/** S3's limit on parts per multipart upload. */
const MAX_PARTS = 10_000;

/**
 * Uploads a file: one PutObject up to a part, a multipart upload above (parts in parallel; a
 * failed upload is aborted, leaving no parts behind). `onProgress` gets bytes sent so far.
 */
export async function uploadFile(
  s3: S3Client,
  bucket: string,
  key: string,
  file: string,
  options: { contentType?: string; onProgress?: (sent: number, total: number) => void } = {},
): Promise<{ etag: string; size: number }> {
  const size = statSync(file).size;
  const partSize = Math.max(UPLOAD_PART_BYTES, Math.ceil(size / MAX_PARTS));
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: size === 0 ? new Uint8Array(0) : createReadStream(file), ContentType: options.contentType },
    partSize,
    queueSize: 4,
    leavePartsOnError: false,
  });
  if (options.onProgress) upload.on('httpUploadProgress', (p) => options.onProgress?.(p.loaded ?? 0, p.total ?? size));
  const r = await upload.done();
  return { etag: stripQuotes(r.ETag ?? ''), size };
}

export function stripQuotes(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/**
 * Error messages from tools that read a presigned URL quote it: replace it (and its query-less
 * form) with s3://bucket/key, so a stored reason is readable, then remove any other signed URL
 * or signing parameter (core/redact.ts).
 */
export function redactPresigned(message: string, url: string, bucket: string, key: string): string {
  const plain = url.split('?')[0] ?? url;
  return redactSecrets(message.split(url).join(`s3://${bucket}/${key}`).split(plain).join(`s3://${bucket}/${key}`));
}

/** The pipeline's object store over S3: HEAD, and presigned GET URLs scrubbed from messages. */
export function s3VideoObjects(s3: S3Client): VideoObjects {
  return {
    head: (bucket, key) => headObject(s3, bucket, key),
    async readable(bucket, key) {
      const url = await presignGet(s3, bucket, key);
      return { url, redact: (message: string) => redactPresigned(message, url, bucket, key) };
    },
  };
}
