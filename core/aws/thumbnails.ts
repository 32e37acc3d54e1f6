/** Segment thumbnails as JPEG objects in the video bucket, cut by ffmpeg from the readable video. */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ThumbnailWriter } from '../pipeline/ports.ts';
import { frameJpeg } from '../video/frame-jpeg.ts';
import { putObject } from './objects.ts';

export function s3ThumbnailWriter(s3: S3Client): ThumbnailWriter {
  return {
    async write(bucket, key, video, at) {
      const jpeg = await frameJpeg(video.url, at);
      await putObject(s3, bucket, key, jpeg, { contentType: 'image/jpeg', contentLength: jpeg.length });
    },
  };
}
