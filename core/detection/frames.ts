/**
 * Decoding for detection: the frames the AVA protocol needs for a set of keyframes, with the
 * window pipeline's exact frame rule (core/video frame-times + frameOnScreen + decode by pts).
 *
 * - each keyframe's image: the frame on screen at t, scaled exactly as torchvision's detection
 *   transform does (detectorInputSize: short side minSize, long side at most maxSize; padding to
 *   the multiple of 32 happens in the uint8 entry's graph, or for the float entry when packing,
 *   packDetectorImage);
 * - each keyframe's action clip: the T frames at t - D/2 + j*r/F, the WHOLE frame scaled to short
 *   side `shortSide` (no crop). Instants before 0 take the first frame, past the end the last.
 *
 * One ffmpeg pass per call (decode-split.ts): every needed frame is decoded once and scaled to
 * each size it is needed at; the keyframes' action clips overlap (a 2.1 s clip every 1 s), so
 * their frames are the union of needed pts, decoded once and shared. `passes: 'two'` is the
 * former way (one decodeFrames pass per size), kept for the bench's comparison; both give the
 * same bytes.
 */
import { VidxError } from '../errors.ts';
import type { Entry, InputData } from '../model/engine.ts';
import { decodeFrames } from '../video/decode.ts';
import { decodeFramesSplit } from '../video/decode-split.ts';
import { listFrameTimes } from '../video/frame-times.ts';
import { frameOnScreen } from '../video/frame-plan.ts';
import { normalizationTable, shortSideSize } from '../video/normalize.ts';
import type { VideoInfo } from '../video/probe.ts';
import { inputFrameIndices } from '../video/windows.ts';
import type { ActionDetectorManifest, PersonDetectorManifest } from '../model/manifest.ts';
import { detectorInputSize, type Size } from './boxes.ts';
import { actionClipInstants, type KeyframePlan } from './keyframes.ts';

export type DetectorGeometry = Pick<PersonDetectorManifest, 'minSize' | 'maxSize' | 'sizeDivisible'>;
export type ActionGeometry = Pick<ActionDetectorManifest, 'frames' | 'samplingRate' | 'fps' | 'shortSide'>;

export interface DetectionFrames {
  /** The frame as scaled for the detector (before padding) and the padded input size. */
  detector: { scaled: Size; padded: Size };
  /** The action model's frame size: the whole frame at short side `shortSide`. */
  action: Size;
  /** Per keyframe (in the order given): its image, rgb24 detector.scaled. */
  images: Buffer[];
  /** Per keyframe: its action clip's T frames, rgb24 `action` (shared buffers where clips overlap). */
  clips: Buffer[][];
}

export interface DetectionDecodeOptions {
  /** 'one' (default): one ffmpeg pass for both sizes; 'two': a pass per size. */
  passes?: 'one' | 'two';
  signal?: AbortSignal;
  threads?: number;
}

/** Frame indices (into `times`) on screen at each instant, instants clamped into the video. */
function onScreen(times: readonly number[], instants: readonly number[], duration: number): number[] {
  return instants.map((t) => frameOnScreen(times, Math.min(Math.max(t, 0), duration)));
}

async function decodeUnique(source: string, info: VideoInfo, pts: readonly number[], size: Size, o: DetectionDecodeOptions): Promise<Map<number, Buffer>> {
  const wanted = [...new Set(pts)].sort((a, b) => a - b);
  const out = new Map<number, Buffer>();
  for await (const f of decodeFrames(source, info, wanted, { shortSide: 0, crop: 0, size, signal: o.signal, threads: o.threads })) out.set(f.pts, f.rgb);
  return out;
}

export async function readDetectionFrames(
  source: string,
  info: VideoInfo,
  keyframes: readonly KeyframePlan[],
  detector: DetectorGeometry,
  action: ActionGeometry,
  o: DetectionDecodeOptions = {},
): Promise<DetectionFrames> {
  const frame = { width: info.width, height: info.height };
  const det = detectorInputSize(frame, detector.minSize, detector.maxSize, detector.sizeDivisible);
  const act = shortSideSize(frame.width, frame.height, action.shortSide);
  if (keyframes.length === 0) return { detector: det, action: act, images: [], clips: [] };
  const instants = keyframes.map((k) => actionClipInstants(k.t, action));
  const all = instants.flat().concat(keyframes.map((k) => k.t));
  const from = Math.max(0, Math.min(...all));
  const to = Math.min(info.duration, Math.max(...all));
  const ft = await listFrameTimes(source, info, from, Math.max(from, to), o.signal);
  const keyIdx = onScreen(ft.times, keyframes.map((k) => k.t), info.duration);
  const clipIdx = instants.map((ts) => onScreen(ft.times, ts, info.duration));
  const keyPts = keyIdx.map((i) => ft.pts[i]!);
  const clipPts = clipIdx.flat().map((i) => ft.pts[i]!);
  let images: Map<number, Buffer>;
  let clipFrames: Map<number, Buffer>;
  if (o.passes === 'two') {
    images = await decodeUnique(source, info, keyPts, det.scaled, o);
    clipFrames = await decodeUnique(source, info, clipPts, act, o);
  } else {
    const unique = (pts: number[]) => [...new Set(pts)].sort((a, b) => a - b);
    [images, clipFrames] = (await decodeFramesSplit(source, info, [
      { wanted: unique(keyPts), size: det.scaled },
      { wanted: unique(clipPts), size: act },
    ], o)) as [Map<number, Buffer>, Map<number, Buffer>];
  }
  return {
    detector: det,
    action: act,
    images: keyIdx.map((i) => images.get(ft.pts[i]!)!),
    clips: clipIdx.map((idx) => idx.map((i) => clipFrames.get(ft.pts[i]!)!)),
  };
}

/** A detector run's input: the image's data for the entry and the size the model sees. */
export interface DetectorInput {
  image: InputData;
  height: number;
  width: number;
}

/** An action-model run's input: per input name of the entry, its data; the clip's frame size. */
export interface ActionInput {
  clip: Record<string, InputData>;
  height: number;
  width: number;
}

/**
 * A keyframe image as the detector's entry takes it. uint8: the scaled frame's rgb24 bytes as
 * decoded (no copy; the graph normalizes and pads). Float: packDetectorImage, [3, padded] floats.
 */
export function detectorInput(rgb: Uint8Array, sizes: DetectionFrames['detector'], m: Pick<PersonDetectorManifest, 'inputRange' | 'mean' | 'std'>, entry: Entry): DetectorInput {
  if (entry === 'uint8') return { image: rgb, height: sizes.scaled.height, width: sizes.scaled.width };
  return { image: packDetectorImage(rgb, sizes.scaled, sizes.padded, m), height: sizes.padded.height, width: sizes.padded.width };
}

/**
 * An action clip as the action model's entry takes it. uint8: the T frames' bytes one after
 * another, [T, H, W, 3] under the entry's input name (one copy per frame; the graph normalizes
 * and picks the slow pathway's frames). Float: packActionClip, [3, frames, H, W] floats per
 * manifest input.
 */
export function actionInput(frames: readonly Uint8Array[], size: Size, m: Pick<ActionDetectorManifest, 'inputs' | 'uint8' | 'frames' | 'inputRange' | 'mean' | 'std'>, entry: Entry): ActionInput {
  if (entry === 'float') return { clip: packActionClip(frames, size, m), height: size.height, width: size.width };
  if (!m.uint8) throw new VidxError('MODEL_BAD_OPTIONS', 'the action model has no uint8 entry to pack for', { hint: 'rebuild the model bundle, or pack for the float entry' });
  const frameBytes = size.width * size.height * 3;
  const out = new Uint8Array(m.frames * frameBytes);
  for (let t = 0; t < m.frames; t++) out.set(frames[t]!.subarray(0, frameBytes), t * frameBytes);
  return { clip: { [m.uint8.input]: out }, height: size.height, width: size.width };
}

/**
 * Several action clips as one batched input (ActionDetector.predictClips): per input name, the
 * clips' data one after another, each as actionInput gives it. One clip: actionInput's own.
 */
export function actionInputs(clips: readonly (readonly Uint8Array[])[], size: Size, m: Pick<ActionDetectorManifest, 'inputs' | 'uint8' | 'frames' | 'inputRange' | 'mean' | 'std'>, entry: Entry): ActionInput {
  if (clips.length === 1) return actionInput(clips[0]!, size, m, entry);
  if (entry === 'uint8') {
    if (!m.uint8) return actionInput(clips[0]!, size, m, entry); // throws MODEL_BAD_OPTIONS
    const frameBytes = size.width * size.height * 3;
    const out = new Uint8Array(clips.length * m.frames * frameBytes);
    clips.forEach((frames, n) => {
      for (let t = 0; t < m.frames; t++) out.set(frames[t]!.subarray(0, frameBytes), (n * m.frames + t) * frameBytes);
    });
    return { clip: { [m.uint8.input]: out }, height: size.height, width: size.width };
  }
  const parts = clips.map((frames) => actionInput(frames, size, m, entry).clip);
  const clip: Record<string, InputData> = {};
  for (const name of Object.keys(parts[0]!)) {
    const each = parts.map((p) => p[name]!);
    const length = each.reduce((n, d) => n + d.length, 0);
    const out = new Float32Array(length);
    let at = 0;
    for (const d of each) {
      out.set(d, at);
      at += d.length;
    }
    clip[name] = out;
  }
  return { clip, height: size.height, width: size.width };
}

/**
 * A keyframe image as the detector's float input [3, padded.height, padded.width]: normalized
 * (the manifest's inputRange, mean, std), zero at the right and bottom padding, as torchvision
 * batches images (it pads the normalized tensor with zeros).
 */
export function packDetectorImage(rgb: Uint8Array, scaled: Size, padded: Size, m: Pick<PersonDetectorManifest, 'inputRange' | 'mean' | 'std'>): Float32Array {
  const lut = normalizationTable(m);
  const plane = padded.width * padded.height;
  const out = new Float32Array(3 * plane);
  for (let y = 0; y < scaled.height; y++) {
    for (let x = 0; x < scaled.width; x++) {
      const j = 3 * (y * scaled.width + x);
      const i = y * padded.width + x;
      out[i] = lut[rgb[j]!]!;
      out[plane + i] = lut[256 + rgb[j + 1]!]!;
      out[2 * plane + i] = lut[512 + rgb[j + 2]!]!;
    }
  }
  return out;
}

/** An action clip's frames as the action model's inputs: per manifest input, [3, frames, H, W] normalized. */
export function packActionClip(frames: readonly Uint8Array[], size: Size, m: Pick<ActionDetectorManifest, 'inputs' | 'frames' | 'inputRange' | 'mean' | 'std'>): Record<string, Float32Array> {
  const lut = normalizationTable(m);
  const plane = size.width * size.height;
  const out: Record<string, Float32Array> = {};
  for (const input of m.inputs) {
    const take = inputFrameIndices(m.frames, input.frames);
    const data = new Float32Array(3 * take.length * plane);
    const T = take.length;
    take.forEach((f, t) => {
      const rgb = frames[f]!;
      for (let i = 0, j = 0; i < plane; i++, j += 3) {
        data[(0 * T + t) * plane + i] = lut[rgb[j]!]!;
        data[(1 * T + t) * plane + i] = lut[256 + rgb[j + 1]!]!;
        data[(2 * T + t) * plane + i] = lut[512 + rgb[j + 2]!]!;
      }
    });
    out[input.name] = data;
  }
  return out;
}
