/**
 * Local upload: put files under the video prefix of the local bucket, then deliver the S3
 * ObjectCreated event to the segmenter as S3 would (the emulator sends no notifications).
 */
import { basename } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { uploadFile } from '../../adapters/objects.ts';
import { videoIdFor } from '../../core/records.ts';
import { s3CreatedEvent, type CreatedObject } from './s3-event.ts';

export interface UploadedFile extends CreatedObject {
  file: string;
  videoId: string;
}

/** Puts one file under the prefix (multipart above one part, see uploadFile). */
export async function putVideoFile(
  s3: S3Client,
  bucket: string,
  prefix: string,
  file: string,
  key?: string,
  onProgress?: (sent: number, total: number) => void,
): Promise<UploadedFile> {
  const objectKey = key ?? `${prefix}${basename(file)}`;
  const { etag, size } = await uploadFile(s3, bucket, objectKey, file, { onProgress });
  return { file, bucket, key: objectKey, size, etag, videoId: videoIdFor(bucket, objectKey) };
}

/** Puts the files, then sends one S3 event with a record per file (S3 may batch records too). */
export async function uploadAndNotify(
  s3: S3Client,
  bucket: string,
  prefix: string,
  files: readonly string[],
  deliver: (event: unknown) => Promise<unknown>,
): Promise<UploadedFile[]> {
  const uploaded: UploadedFile[] = [];
  for (const f of files) uploaded.push(await putVideoFile(s3, bucket, prefix, f));
  await deliver(s3CreatedEvent(uploaded));
  return uploaded;
}
