/**
 * Why a video failed, in a person's words: the page never shows the raw reason (it can hold
 * storage URLs and ffmpeg's own output); it says what went wrong with the file and what to do.
 */
import type { VideoView } from '../core/query/responses.ts';

const PLAIN: Readonly<Record<string, string>> = {
  NOT_A_VIDEO: 'This file is not a video vidx can read. Upload a video file (mp4, mov, mkv, webm, avi, gif …).',
  VIDEO_CORRUPT: 'The file is damaged or incomplete. Upload the complete file again, or re-encode it.',
  VIDEO_EMPTY: 'The file is empty. Upload it again.',
  EMPTY_UPLOAD: 'The file is empty. Upload it again.',
  VIDEO_UNSUPPORTED: 'The video uses a codec vidx cannot decode. Re-encode it as H.264, VP9 or AV1.',
  VIDEO_TOO_LARGE: 'The picture is too large to index. Scale the video down first.',
  VIDEO_DECODE_FAILED: 'Part of the video could not be decoded; the file may be damaged. Re-encoding it usually helps.',
  FFMPEG_FAILED: 'The video could not be decoded; the file may be damaged. Re-encoding it usually helps.',
  FFMPEG_TIMEOUT: 'Reading the video took too long. Try again.',
  FFMPEG_NOT_FOUND: 'The server has no ffmpeg to read videos with. Install ffmpeg where vidx runs.',
  OBJECT_NOT_FOUND: 'The uploaded file is no longer in storage. Upload it again.',
  VIDEO_NOT_FOUND: 'The uploaded file is no longer in storage. Upload it again.',
  VIDEO_UNREACHABLE: 'Storage could not be reached while reading the video. Try again.',
  ENQUEUE_FAILED: 'The video could not be queued for indexing. Try again.',
  ENQUEUE_REJECTED: 'The queue refused the video. Upload it again, under a simpler file name.',
  STALLED: 'Indexing made no progress after several tries. Try again.',
  MODEL_MISMATCH: 'The worker runs another model than the one the video was planned for. Restart vidx with one model, then try again.',
  MODEL_RUN_FAILED: 'The model failed on this video. Try again.',
};

/** The failure of a video in plain words (never its raw reason). */
export function failureText(v: Pick<VideoView, 'errorCode' | 'reason'>): string {
  const code = v.errorCode;
  if (code && PLAIN[code]) return PLAIN[code];
  return code ? `Indexing failed (${code.toLowerCase().replace(/_/g, ' ')}). Try again, or upload the file again.` : 'Indexing failed for a reason the server did not record. Try again.';
}
