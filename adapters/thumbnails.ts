/** Segment thumbnails as JPEG objects in the video bucket, cut by ffmpeg from the readable video. */
import { DeleteObjectsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { ThumbnailWriter } from '../core/pipeline/ports.ts';
import { frameJpeg } from '../core/video/frame-jpeg.ts';
import { putObject } from './objects.ts';

export function s3ThumbnailWriter(s3: S3Client): ThumbnailWriter {
  return {
    async write(bucket, key, video, at) {
      const jpeg = await frameJpeg(video.url, at);
      await putObject(s3, bucket, key, jpeg, { contentType: 'image/jpeg', contentLength: jpeg.length });
    },
    async list(bucket, prefix) {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    async remove(bucket, keys) {
      // DeleteObjects takes at most 1,000 keys; a key it could not delete comes back in Errors.
      for (let i = 0; i < keys.length; i += 1000) {
        const r = await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }));
        const failed = r.Errors ?? [];
        if (failed.length > 0) throw new Error(`${failed.length} thumbnail(s) not deleted, e.g. ${failed[0]!.Key}: ${failed[0]!.Code ?? ''} ${failed[0]!.Message ?? ''}`.trim());
      }
    },
  };
}
