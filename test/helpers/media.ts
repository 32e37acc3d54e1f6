/**
 * Test videos made with ffmpeg (the same binary vidx decodes with). Frames can carry their own
 * index in their pixels (`pattern: 'index'`), so a test can read back which source frame a model
 * input holds:
 *   top half    luma 20 + 13 * (n mod 16)
 *   bottom half luma 20 + 13 * (floor(n / 16) mod 16)
 * (chroma neutral), i.e. 256 distinguishable frames, robust to +-6 levels of codec or scaling error.
 * With rotation the halves turn with the picture (see `indexFromFrame`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';

const run = promisify(execFile);

export const CRICKET_GIF = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/media/cricket_shot.gif');

export function tempDir(prefix = 'vidx-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function ffmpeg(args: string[]): Promise<void> {
  await run(ffmpegPath(), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
}

export type Codec = 'h264' | 'mpeg4' | 'rawvideo' | 'vp9' | 'mjpeg';

export interface VideoSpec {
  seconds: number;
  /** A number or an ffmpeg rational such as '30000/1001'. */
  fps: number | string;
  width: number;
  height: number;
  codec?: Codec;
  /** File extension / container; default mp4 (mkv for vfr, nut for rawvideo, avi for mpeg4). */
  container?: 'mp4' | 'mkv' | 'avi' | 'nut' | 'webm' | 'mov';
  /** Display rotation written as the legacy `rotate` tag (mp4/mov display matrix). */
  rotate?: 0 | 90 | 180 | 270;
  /** Variable frame rate: frame n at n/fps + (n mod 3) * 13 ms (see vfrTime), stored in ms. */
  vfr?: boolean;
  /** 'index' (default), 'testsrc', or a solid sRGB color. */
  pattern?: 'index' | 'testsrc' | { solid: [number, number, number] };
  /** Keyframe interval in frames. */
  gop?: number;
  name?: string;
}

export interface MadeVideo {
  path: string;
  /** Intended presentation time (s) of every frame, in order. */
  frameTimes: number[];
  frameCount: number;
}

function fpsValue(fps: number | string): number {
  if (typeof fps === 'number') return fps;
  const [n, d] = fps.split('/').map(Number);
  return n! / (d ?? 1);
}

/** VFR frame n at n/fps + 13 ms * (n mod 3), in whole milliseconds (1000/fps must be an integer). */
export function vfrTime(n: number, fps: number): number {
  return (n * Math.round(1000 / fps) + 13 * (n % 3)) / 1000;
}

let counter = 0;

export async function makeVideo(dir: string, spec: VideoSpec): Promise<MadeVideo> {
  const codec = spec.codec ?? 'h264';
  const container = spec.container ?? (spec.vfr ? 'mkv' : codec === 'rawvideo' ? 'nut' : codec === 'mpeg4' ? 'avi' : codec === 'vp9' ? 'webm' : 'mp4');
  const name = spec.name ?? `v${counter++}-${String(spec.fps).replace('/', '_')}fps-${spec.width}x${spec.height}`;
  const out = join(dir, `${name}.${container}`);
  const fps = fpsValue(spec.fps);
  const frameCount = Math.round(spec.seconds * fps);
  const pattern = spec.pattern ?? 'index';
  let src: string;
  const filters: string[] = [];
  // lavfi sources round odd sizes down: make an even size and scale to the exact one.
  const even = `${spec.width + (spec.width % 2)}x${spec.height + (spec.height % 2)}`;
  if (spec.width % 2 || spec.height % 2) filters.push(`scale=${spec.width}:${spec.height}`);
  if (pattern === 'testsrc') src = `testsrc=size=${even}:rate=${spec.fps}`;
  else if (pattern === 'index') {
    src = `color=c=black:size=${even}:rate=${spec.fps}`;
    filters.push('format=yuv444p', `geq=lum='if(lt(Y,H/2),20+13*mod(N,16),20+13*mod(floor(N/16),16))':cb=128:cr=128`);
  } else {
    const [r, g, b] = pattern.solid.map((v) => v.toString(16).padStart(2, '0'));
    src = `color=c=0x${r}${g}${b}:size=${even}:rate=${spec.fps}`;
    // Lossless codecs get the color as rgb24 straight from the source (no YUV round trip).
    if (codec === 'rawvideo') src += ',format=rgb24';
  }
  // VFR: millisecond time base, irregular pts; `-r 1000` below keeps the encoder at 1/1000 too.
  if (spec.vfr) {
    if (!Number.isInteger(1000 / fps)) throw new RangeError('vfr videos need 1000/fps to be an integer');
    filters.push('settb=1/1000', `setpts='N*${1000 / fps}+13*mod(N,3)'`);
  }
  const args = ['-f', 'lavfi', '-i', src, '-frames:v', String(frameCount)];
  if (filters.length) args.push('-vf', filters.join(','));
  switch (codec) {
    case 'h264':
      args.push('-c:v', 'libx264', '-preset', 'faster', '-crf', '12', '-pix_fmt', 'yuv420p');
      if (spec.width % 2 || spec.height % 2) args.splice(args.length - 2, 2, '-pix_fmt', 'yuv444p');
      break;
    case 'mpeg4':
      args.push('-c:v', 'mpeg4', '-q:v', '2', '-pix_fmt', 'yuv420p');
      break;
    case 'vp9':
      args.push('-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-crf', '20', '-b:v', '0', '-pix_fmt', 'yuv420p');
      break;
    case 'mjpeg':
      args.push('-c:v', 'mjpeg', '-q:v', '2', '-pix_fmt', 'yuvj444p');
      break;
    case 'rawvideo':
      args.push('-c:v', 'rawvideo', '-pix_fmt', 'rgb24');
      break;
  }
  if (spec.gop) args.push('-g', String(spec.gop));
  if (spec.vfr) args.push('-vsync', 'passthrough', '-r', '1000');
  const tmp = spec.rotate ? join(dir, `${name}.norot.${container}`) : out;
  await ffmpeg([...args, tmp]);
  if (spec.rotate) {
    await ffmpeg(['-i', tmp, '-c', 'copy', '-metadata:s:v:0', `rotate=${spec.rotate}`, out]);
    rmSync(tmp);
  }
  // Matroska/WebM store times in whole milliseconds (rounded to nearest); MP4/AVI/NUT keep n/fps exactly.
  const ms = container === 'mkv' || container === 'webm';
  const frameTimes = Array.from({ length: frameCount }, (_, n) => (spec.vfr ? vfrTime(n, fps) : ms ? Math.round((n * 1000) / fps) / 1000 : n / fps));
  return { path: out, frameTimes, frameCount };
}

/** A 1-second audio-only file (AAC in .m4a). */
export async function makeAudioOnly(dir: string): Promise<string> {
  const out = join(dir, 'audio.m4a');
  await ffmpeg(['-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', out]);
  return out;
}

/** A PNG still image. */
export async function makePng(dir: string): Promise<string> {
  const out = join(dir, 'still.png');
  await ffmpeg(['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=1', '-frames:v', '1', out]);
  return out;
}

export function makeTextFile(dir: string): string {
  const out = join(dir, 'notes.mp4');
  writeFileSync(out, 'this is not a video, just some text pretending to be one\n'.repeat(50));
  return out;
}

/**
 * Read the frame index from a normalized planar [3][C][C] frame (see the pattern above). The two
 * halves are sampled at their middles; `rotation` is the video's clockwise display rotation.
 */
export function indexFromFrame(frame: Float32Array, C: number, mean: readonly number[], std: readonly number[], rotation = 0): number {
  const gray = (y: number, x: number): number => {
    // Channel 1 (green) is closest to luma for a gray picture; undo (x-mean)/std and x/255.
    const v = frame[C * C + y * C + x]! * std[1]! + mean[1]!;
    return v * 255;
  };
  const q = Math.floor(C / 4);
  const mid = Math.floor(C / 2);
  // Where the source's top half is after a clockwise rotation.
  const [topY, topX, botY, botX] =
    rotation === 90 ? [mid, C - 1 - q, mid, q] : rotation === 180 ? [C - 1 - q, mid, q, mid] : rotation === 270 ? [mid, q, mid, C - 1 - q] : [q, mid, C - 1 - q, mid];
  const digit = (rgb: number): number => {
    const y = (rgb * 219) / 255 + 16;
    return Math.min(15, Math.max(0, Math.round((y - 20) / 13)));
  };
  return digit(gray(topY, topX)) + 16 * digit(gray(botY, botX));
}

/** Frame t of window n of a packed NCTHW input, as planar [3][C][C] (a copy). */
export function planarFrame(input: Float32Array, n: number, t: number, tLen: number, C: number): Float32Array {
  const plane = C * C;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) out.set(input.subarray(((n * 3 + c) * tLen + t) * plane, ((n * 3 + c) * tLen + t + 1) * plane), c * plane);
  return out;
}
