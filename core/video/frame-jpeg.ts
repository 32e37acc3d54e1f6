/** One frame of a video as a small JPEG (a segment's thumbnail), cut by ffmpeg at a time. */
import { VidxError } from '../errors.ts';
import { ffmpegPath, httpInputArgs, runTool } from './ffmpeg.ts';

export const NO_FRAME = 'NO_FRAME';

export const THUMBNAIL_WIDTH = 320;

/**
 * The frame at `at` seconds of `source` (a path or URL), `width` pixels wide (height by aspect,
 * even), as JPEG bytes. Input seeking (-ss before -i) reads only what that frame needs, also over
 * a presigned URL.
 */
export async function frameJpeg(source: string, at: number, width = THUMBNAIL_WIDTH, signal?: AbortSignal): Promise<Buffer> {
  const { stdout } = await runTool(
    ffmpegPath(),
    ['-hide_banner', '-loglevel', 'error', '-nostdin', '-ss', at.toFixed(3), ...httpInputArgs(source), '-i', source, '-frames:v', '1', '-vf', `scale=${width}:-2`, '-q:v', '5', '-f', 'image2', '-c:v', 'mjpeg', 'pipe:1'],
    `thumbnail at ${at.toFixed(2)} s`,
    { signal, timeoutMs: 30_000 },
  );
  if (stdout.length === 0) throw new VidxError(NO_FRAME, `no frame at ${at.toFixed(2)} s (past the end?)`);
  return stdout;
}
