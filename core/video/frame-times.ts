/**
 * The presentation times of a video's frames in a time range, listed cheaply: ffprobe reads the
 * packets (no decoding) of the video stream from the keyframe before the range to a little past
 * its end. Each packet is one frame; its pts is the frame's presentation time. Where a container
 * gives packets without pts (e.g. some AVI), the frames are decoded by ffprobe instead and their
 * best-effort timestamps used, which is what ffmpeg's decoder gives the filter graph.
 *
 * This is how decoding stays exact: vidx knows the source pts of every frame before asking ffmpeg
 * for any of them (see frame-plan.ts and decode.ts).
 */
import { VidxError } from '../errors.ts';
import { collectTool, ffprobePath, toolError } from './ffmpeg.ts';
import type { VideoInfo } from './probe.ts';

export interface FrameTimes {
  /** Integer pts in the stream time base, ascending, unique. */
  pts: number[];
  /** The same, in seconds relative to VideoInfo.startTime. */
  times: number[];
  /** True when the listing started at the stream's first frame. */
  fromStart: boolean;
  /** True when the listing ran to the end of the stream. */
  toEnd: boolean;
}

/**
 * Margin (s) read past the range's end: frames are stored in decode order, so a frame presented
 * at or before `to` can come after one presented later; B-frame reordering spans far less than this.
 */
const REORDER_MARGIN = 2;
/** Margin (s) before the range's start for the seek (ffprobe seeks to the keyframe at or before it). */
const SEEK_MARGIN = 1;

export function ptsToSeconds(pts: number, info: Pick<VideoInfo, 'timeBase' | 'startTime'>): number {
  return (pts * info.timeBase[0]) / info.timeBase[1] - info.startTime;
}

async function list(source: string, info: VideoInfo, interval: string, decode: boolean, signal?: AbortSignal): Promise<{ pts: number[]; missing: boolean }> {
  const entries = decode ? 'frame=best_effort_timestamp' : 'packet=pts,flags';
  const args = ['-v', 'error', '-select_streams', String(info.streamIndex), '-show_entries', entries, '-of', 'csv=p=0', '-read_intervals', interval];
  if (decode) args.push('-threads', '1');
  args.push(source);
  const { stdout, exit } = await collectTool(ffprobePath(), args, { signal, timeoutMs: 120_000 });
  if (exit.code !== 0) throw toolError('ffprobe', exit, `listing frame times of ${source}`);
  const out: number[] = [];
  let missing = false;
  for (const line of stdout.toString('utf8').split('\n')) {
    const t = line.trim();
    if (!t) continue;
    const [p, flags] = t.split(',');
    if (flags?.includes('D')) continue; // discarded by the container (edit list): never displayed
    const v = Number(p);
    if (p === 'N/A' || !Number.isFinite(v)) {
      missing = true;
      continue;
    }
    out.push(v);
  }
  return { pts: out, missing };
}

/**
 * Frame times covering [from, to] (seconds relative to the start): every frame presented in that
 * range, plus the last frame presented before `from` (the one on screen at `from`).
 */
export async function listFrameTimes(source: string, info: VideoInfo, from: number, to: number, signal?: AbortSignal): Promise<FrameTimes> {
  const absFrom = info.startTime + from - SEEK_MARGIN;
  const absTo = info.startTime + to + REORDER_MARGIN;
  // read_intervals takes absolute stream times; no seek at all when the range starts near 0.
  const seekFrom = absFrom > info.startTime;
  const interval = `${seekFrom ? absFrom.toFixed(6) : ''}%${absTo.toFixed(6)}`;
  let r = await list(source, info, interval, false, signal);
  if (r.missing) r = await list(source, info, interval, true, signal);
  let pts = [...new Set(r.pts)].sort((a, b) => a - b);
  let fromStart = !seekFrom;
  if (seekFrom && (pts.length === 0 || ptsToSeconds(pts[0]!, info) > from)) {
    // The seek landed after `from` (unusual index): list from the beginning instead.
    r = await list(source, info, `%${absTo.toFixed(6)}`, r.missing, signal);
    pts = [...new Set(r.pts)].sort((a, b) => a - b);
    fromStart = true;
  }
  if (pts.length === 0) {
    throw new VidxError('VIDEO_CORRUPT', `${source}: no video frames found between ${from.toFixed(3)} s and ${to.toFixed(3)} s`, {
      hint: 'the file may be truncated',
    });
  }
  const times = pts.map((p) => ptsToSeconds(p, info));
  // ffprobe stops at the first packet presented at or after absTo; none there means end of stream.
  const toEnd = times[times.length - 1]! < to + REORDER_MARGIN - 1e-9;
  return { pts, times, fromStart, toEnd };
}
