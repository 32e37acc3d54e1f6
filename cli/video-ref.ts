/**
 * What the CLI accepts wherever a video id goes: the id itself (20 hex digits), the object key
 * (`videos/cricket.mp4`), or the file name it was uploaded from (`cricket.mp4`,
 * `~/clips/cricket.mp4`). A name several videos share is refused with the candidates.
 */
import { basename } from 'node:path';
import { VidxError } from '../core/errors.ts';
import { apiGetJson } from './api-client.ts';
import type { VideoListResponse, VideoView } from '../core/query/responses.ts';

const VIDEO_ID = /^[0-9a-f]{20}$/;
/** Listing pages fetched at most when looking a name up (100 videos each). */
const MAX_PAGES = 100;

/** Every video the API lists, newest first. */
export async function listAllVideos(api: string): Promise<VideoView[]> {
  const out: VideoView[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const body = await apiGetJson<VideoListResponse>(api, '/videos', { limit: '100', cursor });
    out.push(...body.items);
    if (!body.nextCursor) break;
    cursor = body.nextCursor;
  }
  return out;
}

/** The videos `ref` names: by id, by key, or by file name (the key's last part). */
export function matchVideos(ref: string, videos: readonly Pick<VideoView, 'videoId' | 'key'>[]): Pick<VideoView, 'videoId' | 'key'>[] {
  const byId = videos.filter((v) => v.videoId === ref);
  if (byId.length > 0) return byId;
  const byKey = videos.filter((v) => v.key === ref);
  if (byKey.length > 0) return byKey;
  const name = basename(ref);
  return videos.filter((v) => basename(v.key) === name);
}

/** The id of the one video `ref` names; VIDEO_NOT_FOUND or VIDEO_AMBIGUOUS (with the candidates) otherwise. */
export async function resolveVideoId(api: string, ref: string): Promise<string> {
  if (VIDEO_ID.test(ref)) return ref;
  const found = matchVideos(ref, await listAllVideos(api));
  if (found.length === 1) return found[0]!.videoId;
  if (found.length === 0) {
    throw new VidxError('VIDEO_NOT_FOUND', `no video has the id, key or file name "${ref}"`, { hint: '`vidx videos` lists the videos with their ids and keys' });
  }
  throw new VidxError('VIDEO_AMBIGUOUS', `"${ref}" names ${found.length} videos: ${found.map((v) => `${v.videoId} (${v.key})`).join(', ')}`, {
    hint: 'pass one of these ids, or the full key',
  });
}
