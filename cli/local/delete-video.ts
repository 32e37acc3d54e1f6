/**
 * Deleting a video from `vidx local` (the page's Delete button): its index entries, its thumbnails,
 * its object in the bucket and the copy kept on disk, then its record last, so a delete cut short
 * can simply be asked again. A video still queued or processing is refused: its workers would
 * write it back.
 */
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { s3ThumbnailWriter } from '../../adapters/thumbnails.ts';
import { VidxError } from '../../core/errors.ts';
import { thumbnailPrefix } from '../../core/records.ts';
import type { LocalObjectKeeper } from './persistence.ts';

export const DELETE_VIDEO_PATH = /^\/_local\/videos\/([0-9a-f]{20})$/;

export async function deleteLocalVideo(deps: { store: Pick<DynamoIndex, 'getVideo' | 'forgetDerived' | 'forgetVideo'>; s3: S3Client; keeper: LocalObjectKeeper }, videoId: string): Promise<{ videoId: string; deleted: true }> {
  const video = await deps.store.getVideo(videoId);
  if (!video) throw new VidxError('VIDEO_NOT_FOUND', `no video with id ${videoId}`, { hint: 'list videos with GET /videos' });
  if (video.status === 'queued' || video.status === 'processing') {
    throw new VidxError('VIDEO_BUSY', `video ${videoId} is ${video.status}: it can be deleted once it is indexed or failed`);
  }
  await deps.store.forgetDerived(videoId);
  const thumbnails = s3ThumbnailWriter(deps.s3);
  await thumbnails.remove(video.bucket, await thumbnails.list(video.bucket, thumbnailPrefix(videoId)));
  await deps.s3.send(new DeleteObjectCommand({ Bucket: video.bucket, Key: video.key }));
  deps.keeper.remove(videoId);
  await deps.store.forgetVideo(videoId);
  return { videoId, deleted: true };
}
