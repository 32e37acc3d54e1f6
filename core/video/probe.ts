/**
 * Probe a video (local path or http(s) URL, e.g. a presigned S3 URL: ffprobe reads it with Range
 * requests, nothing is downloaded) and classify bad input with stable codes, fast.
 */
import { open, stat } from 'node:fs/promises';
import { VidxError } from '../errors.ts';
import type { VideoFacts } from '../result.ts';
import { collectTool, ffmpegDiagnosis, ffmpegPath, ffprobePath, toolError } from './ffmpeg.ts';


/**
 * Sane limits (VIDEO_TOO_LARGE beyond them). 8192 px per side admits 8K UHD (7680x4320) and DCI 8K;
 * 24 h is longer than any recording we index in one piece; 6e6 frames is 24 h at ~69 fps. A file
 * claiming more is either absurd or hostile, and would tie up a worker for days.
 */
export const LIMITS = { maxSide: 8192, maxSeconds: 24 * 3600, maxFrames: 6_000_000 } as const;

export interface VideoInfo {
  /** Seconds: the video stream's duration, else the container's. */
  duration: number;
  /** The real (base) frame rate, ffprobe's r_frame_rate. */
  fps: number;
  /** Average frame rate (frames / duration). */
  avgFps: number;
  /** As displayed: after rotation. */
  width: number;
  height: number;
  /** Clockwise degrees the stored frames are turned for display: 0, 90, 180 or 270. */
  rotation: number;
  codec: string;
  /** Presentation time (s) of the video stream's start; window times are relative to it. */
  startTime: number;
  hasVideo: true;
  /** Index of the video stream in the container. */
  streamIndex: number;
  /** The stream's time base [num, den]: packet/frame pts are integers in it. */
  timeBase: [number, number];
  /** Frame count from the container, when it says (else null). */
  frameCount: number | null;
}

export interface ProbeOptions {
  signal?: AbortSignal;
  /** Default 30 s. */
  timeoutMs?: number;
}

export function isUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

function parseRate(r: string | undefined): number {
  if (!r) return 0;
  const [n, d] = r.split('/').map(Number);
  if (n === undefined || !Number.isFinite(n)) return 0;
  if (d === undefined) return n;
  return d > 0 ? n / d : 0;
}

function num(v: unknown): number | undefined {
  const x = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(x) ? x : undefined;
}

interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  time_base?: string;
  start_time?: string;
  duration?: string;
  nb_frames?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}
interface ProbeJson {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string };
}

/**
 * Clockwise display rotation. The legacy `rotate` tag is clockwise degrees; the display matrix's
 * `rotation` (ffprobe, av_display_rotation_get) is counter-clockwise, so it is negated.
 */
export function rotationOf(s: Pick<ProbeStream, 'tags' | 'side_data_list'>): number {
  const tag = s.tags?.rotate;
  let cw = 0;
  if (tag !== undefined && Number.isFinite(Number(tag))) cw = Number(tag);
  else {
    const dm = s.side_data_list?.find((d) => d.side_data_type === 'Display Matrix' && typeof d.rotation === 'number');
    if (dm?.rotation !== undefined) cw = -dm.rotation;
  }
  const r = ((Math.round(cw / 90) * 90) % 360 + 360) % 360;
  return r;
}

/** Matroska's DURATION tag, "HH:MM:SS.nnnnnnnnn". */
function hmsSeconds(v: string | undefined): number | undefined {
  const m = v ? /^(\d+):(\d+):(\d+(?:\.\d+)?)$/.exec(v) : null;
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : undefined;
}

/** The first bytes of a local file start like a video container (so a failure means damage). */
export function looksLikeContainer(head: Buffer): boolean {
  const ascii = (a: number, b: number): string => head.subarray(a, b).toString('latin1');
  return (
    ascii(4, 8) === 'ftyp' || // MP4 / MOV / 3GP
    ascii(4, 8) === 'moov' ||
    ascii(4, 8) === 'mdat' ||
    (ascii(0, 4) === 'RIFF' && ascii(8, 11) === 'AVI') ||
    head.readUInt32BE(0) === 0x1a45dfa3 || // EBML: Matroska / WebM
    ascii(0, 4) === 'GIF8' ||
    ascii(0, 4) === 'OggS' ||
    ascii(0, 3) === 'FLV' ||
    ascii(0, 3) === 'nut' ||
    (head[0] === 0x47 && head.length > 188 && head[188] === 0x47) || // MPEG-TS
    head.readUInt32BE(0) === 0x000001ba // MPEG-PS
  );
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(256);
    const { bytesRead } = await fh.read(buf, 0, 256, 0);
    return buf.subarray(0, Math.max(bytesRead, 12));
  } finally {
    await fh.close();
  }
}

/** Map ffprobe's failure to a typed error. */
function classifyFailure(source: string, stderr: string, container: boolean | undefined): VidxError {
  const s = stderr;
  const tail = ffmpegDiagnosis(s, source);
  if (/Server returned 404|No such file or directory/i.test(s)) {
    return new VidxError('VIDEO_NOT_FOUND', `video not found: ${source}`, { hint: 'check the path or URL (a presigned URL may have expired)' });
  }
  if (/Server returned|Connection refused|Connection timed out|Failed to resolve|Network is unreachable|HTTP error/i.test(s)) {
    return new VidxError('VIDEO_UNREACHABLE', `cannot read ${source}: ${tail}`, { hint: 'check the URL and the network' });
  }
  // A local file: its first bytes say whether it is a (damaged) video container or something else.
  if (container === true) {
    return new VidxError('VIDEO_CORRUPT', `${source} starts like a video file but cannot be read (truncated or corrupt): ${tail}`, { hint: 'upload the complete file again' });
  }
  if (container === false) {
    return new VidxError('NOT_A_VIDEO', `${source} is not a video file ffmpeg can read: ${tail}`, { hint: 'give a video file (mp4, mov, mkv, webm, avi, gif ...)' });
  }
  if (/moov atom not found|Truncat|corrupt|error reading header|End of file|invalid (?:box|atom)|partial file/i.test(s)) {
    return new VidxError('VIDEO_CORRUPT', `${source} is truncated or corrupt: ${tail}`, { hint: 'upload the complete file again' });
  }
  if (/Invalid data found when processing input|Is a directory/i.test(s)) {
    return new VidxError('NOT_A_VIDEO', `${source} is not a video file ffmpeg can read: ${tail}`, { hint: 'give a video file (mp4, mov, mkv, webm, avi, gif ...)' });
  }
  return new VidxError('VIDEO_CORRUPT', `${source} could not be read as a video: ${tail}`, { hint: 'check the file plays; re-encode it if needed' });
}

let decoders: Promise<Set<string>> | undefined;

/** Codec names the decoding ffmpeg can decode (from `ffmpeg -decoders`, once per process). */
export function decodableCodecs(): Promise<Set<string>> {
  decoders ??= (async () => {
    const { stdout, exit } = await collectTool(ffmpegPath(), ['-hide_banner', '-nostdin', '-decoders'], { timeoutMs: 15_000 });
    if (exit.code !== 0) throw toolError('ffmpeg', exit, 'listing decoders');
    const set = new Set<string>();
    for (const line of stdout.toString('utf8').split('\n')) {
      const m = /^\s*V[.A-Z]{5}\s+(\S+)\s+.*?(?:\(codec (\S+)\))?\s*$/.exec(line);
      if (!m) continue;
      if (m[1]) set.add(m[1]);
      if (m[2]) set.add(m[2]);
    }
    return set;
  })();
  return decoders;
}

export async function probe(input: string, opts: ProbeOptions = {}): Promise<VideoInfo> {
  if (opts.signal?.aborted) throw new VidxError('ABORTED', `probing ${input}: aborted`);
  if (!isUrl(input)) {
    const st = await stat(input).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') {
        throw new VidxError('VIDEO_NOT_FOUND', `video not found: ${input}`, { hint: 'check the path', cause: e });
      }
      throw new VidxError('VIDEO_NOT_FOUND', `cannot read ${input}: ${e.message}`, { hint: 'check the path and its permissions', cause: e });
    });
    if (st.isDirectory()) throw new VidxError('NOT_A_VIDEO', `${input} is a directory, not a video`, { hint: 'give a video file' });
    if (st.size === 0) throw new VidxError('VIDEO_EMPTY', `${input} is empty (0 bytes)`, { hint: 'upload the file again' });
  }
  const args = ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '-rw_timeout', '15000000', input];
  const { stdout, exit } = await collectTool(ffprobePath(), args, { signal: opts.signal, timeoutMs: opts.timeoutMs ?? 30_000 });
  if (exit.killedFor) throw toolError('ffprobe', exit, `probing ${input}`);
  if (exit.code !== 0) throw classifyFailure(input, exit.stderr, isUrl(input) ? undefined : looksLikeContainer(await readHead(input)));
  let json: ProbeJson;
  try {
    json = JSON.parse(stdout.toString('utf8')) as ProbeJson;
  } catch (e) {
    throw new VidxError('VIDEO_CORRUPT', `ffprobe gave unreadable output for ${input}`, { cause: e });
  }
  return interpret(input, json, await decodableCodecs());
}

/** Turn ffprobe's JSON into VideoInfo, or a typed error. Pure: exported for unit tests. */
export function interpret(input: string, json: ProbeJson, decodable: Set<string>): VideoInfo {
  const formatName = json.format?.format_name ?? '';
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && s.disposition?.attached_pic !== 1);
  if (!video) {
    const kinds = [...new Set(streams.map((s) => s.codec_type ?? 'unknown'))];
    const what = kinds.includes('audio') ? 'audio only' : kinds.length ? kinds.join(', ') : 'no streams';
    throw new VidxError('NOT_A_VIDEO', `${input} has no video stream (${what})`, { hint: 'give a file with a video track' });
  }
  if (formatName === 'image2' || formatName.endsWith('_pipe')) {
    throw new VidxError('NOT_A_VIDEO', `${input} is a still image (${formatName}), not a video`, { hint: 'give a video file' });
  }
  const codec = video.codec_name;
  if (!codec || codec === 'none' || !decodable.has(codec)) {
    throw new VidxError('VIDEO_UNSUPPORTED', `${input}: video codec ${codec ?? `unknown (tag ${video.tags?.handler_name ?? '?'})`} cannot be decoded`, {
      hint: 're-encode the video as H.264 (e.g. ffmpeg -i in -c:v libx264 out.mp4)',
    });
  }
  const storedW = video.width ?? 0;
  const storedH = video.height ?? 0;
  if (storedW <= 0 || storedH <= 0) throw new VidxError('VIDEO_CORRUPT', `${input}: the video stream has no frame size`, { hint: 'the file is likely damaged' });
  const rotation = rotationOf(video);
  const [width, height] = rotation % 180 === 90 ? [storedH, storedW] : [storedW, storedH];
  if (width > LIMITS.maxSide || height > LIMITS.maxSide) {
    throw new VidxError('VIDEO_TOO_LARGE', `${input} is ${width}x${height}; at most ${LIMITS.maxSide} px per side is accepted`, {
      hint: 'downscale the video first',
    });
  }
  // The video stream's own duration first: the container's also counts audio that runs longer.
  const duration = num(video.duration) ?? hmsSeconds(video.tags?.DURATION) ?? num(json.format?.duration);
  if (duration === undefined || duration <= 0) {
    throw new VidxError('VIDEO_CORRUPT', `${input}: the duration is unknown or zero`, { hint: 'remux or re-encode the file (ffmpeg -i in -c copy out.mkv)' });
  }
  if (duration > LIMITS.maxSeconds) {
    throw new VidxError('VIDEO_TOO_LARGE', `${input} lasts ${(duration / 3600).toFixed(1)} h; at most ${LIMITS.maxSeconds / 3600} h is accepted`, {
      hint: 'split the video',
    });
  }
  const frameCount = num(video.nb_frames) ?? null;
  let fps = parseRate(video.r_frame_rate);
  let avgFps = parseRate(video.avg_frame_rate);
  // Some containers (e.g. Matroska with variable timing) give no average: frames / duration, else the base rate.
  if (!(avgFps > 0)) avgFps = frameCount !== null && frameCount > 0 ? frameCount / duration : fps;
  if (!(fps > 0)) fps = avgFps;
  if (!(fps > 0)) throw new VidxError('VIDEO_CORRUPT', `${input}: the frame rate is unknown`, { hint: 're-encode the file' });
  const frames = frameCount ?? duration * avgFps;
  if (frames > LIMITS.maxFrames) {
    throw new VidxError('VIDEO_TOO_LARGE', `${input} has about ${Math.round(frames)} frames; at most ${LIMITS.maxFrames} are accepted`, {
      hint: 'lower the frame rate or split the video',
    });
  }
  const tb = (video.time_base ?? '').split('/').map(Number);
  const timeBase: [number, number] = tb.length === 2 && tb[0]! > 0 && tb[1]! > 0 ? [tb[0]!, tb[1]!] : [1, 1_000_000];
  const startTime = num(video.start_time) ?? num(json.format?.start_time) ?? 0;
  return { duration, fps, avgFps, width, height, rotation, codec, startTime, hasVideo: true, streamIndex: video.index, timeBase, frameCount };
}

export function toVideoFacts(source: string, info: VideoInfo): VideoFacts {
  return {
    source,
    duration: info.duration,
    fps: info.fps,
    avgFps: info.avgFps,
    width: info.width,
    height: info.height,
    rotation: info.rotation,
    codec: info.codec,
  };
}
