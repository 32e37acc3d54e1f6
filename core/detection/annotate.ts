/**
 * `analyze --detect --annotate out.mp4`: a copy of the video with every person's box and label
 * drawn, for a person to look at. ffmpeg draws (drawbox, drawtext) from a filter script built
 * here: each keyframe's boxes stay on screen over the span the keyframe stands for (its
 * KeyframePlan [start, end)), in the person's colour, labelled with the person id and the actions
 * at or above the result's action threshold (at most two, best first).
 *
 * Cost: one drawbox and one drawtext per person per keyframe, each skipped by ffmpeg's timeline
 * outside its span, so the time grows with keyframes x people: meant for reviewing clips, not for
 * hours of crowd footage. Boxes are fractions of the displayed frame and ffmpeg auto-rotates on
 * decode, so rotated video is drawn in the orientation it plays in.
 */
import { randomBytes } from 'node:crypto';
import { rm, rename } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { VidxError } from '../errors.ts';
import { ffmpegPath, spawnTool, toolError } from '../video/ffmpeg.ts';
import type { VideoInfo } from '../video/probe.ts';
import type { DetectionResult } from './analyze.ts';
import { planKeyframes } from './keyframes.ts';
import type { PersonDetection } from './schema.ts';
import { personColour } from './colours.ts';
import { linkTracks } from './tracks.ts';


/** Most actions written beside a box. */
const LABEL_ACTIONS = 2;

/**
 * Text as a drawtext `text=` value inside a filter script: escaped once for the filter's option
 * parser (\ ' :) and once more for the filtergraph parser (\ ' [ ] , ;). Control characters go.
 */
export function escapeDrawtext(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is removed
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const option = clean.replace(/[\\':]/g, (c) => `\\${c}`);
  return option.replace(/[\\'[\],;]/g, (c) => `\\${c}`);
}

/** `3 smoke 0.81, stand 0.95`: the person id and their actions at or above the threshold. */
export function personLabel(person: number, p: PersonDetection, threshold: number): string {
  const actions = p.actions.filter((a) => a.p >= threshold).slice(0, LABEL_ACTIONS);
  return actions.length ? `${person} ${actions.map((a) => `${a.label} ${a.p.toFixed(2)}`).join(', ')}` : String(person);
}

export interface AnnotationStyle {
  /** A font file for the labels; null draws boxes only. */
  font: string | null;
}

/** A label's size in pixels: drawtext's glyphs are about 0.6 em wide; the box adds its border on every side. */
export function labelSize(text: string, fontSize: number, border: number): { w: number; h: number } {
  return { w: Math.ceil(text.length * fontSize * 0.6) + 2 * border, h: fontSize + 2 * border };
}

/** The label cut to fit the frame's width (with an ellipsis). */
export function fitLabel(text: string, frameWidth: number, fontSize: number, border: number): string {
  const max = Math.max(1, Math.floor((frameWidth - 2 * border) / (fontSize * 0.6)));
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}

interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * Where each label of one keyframe goes (its box's top-left corner, in pixels): above its person's
 * box where it fits, else just inside the box's top; always wholly inside the frame; and moved
 * down, past the labels already placed, until it overlaps none (or the frame ends: then the spot
 * overlapping least is kept). Placed in the order given (best person first).
 */
export function layoutLabels(boxes: readonly Rect[], labels: readonly { w: number; h: number }[], W: number, H: number, gap: number): { x: number; y: number }[] {
  const placed: Rect[] = [];
  return boxes.map((b, i) => {
    const { w, h } = labels[i]!;
    const x = Math.min(Math.max(0, b.x), Math.max(0, W - w));
    const clampY = (y: number) => Math.min(Math.max(0, y), Math.max(0, H - h));
    let y = clampY(b.y >= h + gap ? b.y - h - gap : b.y + gap);
    let best = { y, hits: Infinity };
    for (let tries = 0; tries <= placed.length; tries++) {
      const r = { x, y, w, h };
      const hits = placed.filter((p) => overlaps(r, p));
      if (hits.length < best.hits) best = { y, hits: hits.length };
      if (hits.length === 0) break;
      const below = clampY(Math.max(...hits.map((p) => p.y + p.h)));
      if (below === y) break;
      y = below;
    }
    placed.push({ x, y: best.y, w, h });
    return { x, y: best.y };
  });
}

/** The ffmpeg filter script that draws a detection result onto its video (displayed frame size). */
export function annotationFilterScript(result: DetectionResult, style: AnnotationStyle): string {
  const { width: W, height: H } = result.video;
  const thickness = Math.max(2, Math.round(Math.min(W, H) / 200));
  const fontSize = Math.max(12, Math.round(Math.min(W, H) / 30));
  const spans = new Map(planKeyframes(result.video.duration, result.options.keyframeInterval).map((k) => [k.index, k]));
  const ids = linkTracks(result.keyframes);
  const filters: string[] = [];
  result.keyframes.forEach((kf, i) => {
    const span = spans.get(kf.index);
    if (!span) return;
    // [start, end): a frame at the boundary belongs to the next keyframe only.
    const enable = `enable='gte(t,${span.start.toFixed(3)})*lt(t,${span.end.toFixed(3)})'`;
    const boxes = kf.people.map((p) => {
      const [x1, y1, x2, y2] = p.box;
      return { x: Math.round(x1 * W), y: Math.round(y1 * H), w: Math.max(1, Math.round((x2 - x1) * W)), h: Math.max(1, Math.round((y2 - y1) * H)) };
    });
    const texts = kf.people.map((p, j) => fitLabel(personLabel(ids[i]![j]!, p, result.options.actionThreshold), W, fontSize, thickness));
    const spots = layoutLabels(boxes, texts.map((t) => labelSize(t, fontSize, thickness)), W, H, thickness);
    kf.people.forEach((_p, j) => {
      const person = ids[i]![j]!;
      const colour = personColour(person).replace('#', '0x'); // ffmpeg's colour syntax
      const { x, y, w, h } = boxes[j]!;
      filters.push(`drawbox=x=${x}:y=${y}:w=${w}:h=${h}:color=${colour}@1:t=${thickness}:${enable}`);
      if (style.font === null) return;
      // drawtext's x/y place the text; its box reaches `thickness` beyond on every side.
      const spot = spots[j]!;
      filters.push(
        `drawtext=fontfile=${escapeDrawtext(style.font)}:expansion=none:text=${escapeDrawtext(texts[j]!)}` +
          `:x=${spot.x + thickness}:y=${spot.y + thickness}:fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=${colour}@0.75:boxborderw=${thickness}:${enable}`,
      );
    });
  });
  // H.264 in yuv420p needs even sides; padding right and bottom keeps every box where it was.
  filters.push('pad=w=ceil(iw/2)*2:h=ceil(ih/2)*2', 'format=yuv420p');
  return filters.join(',\n');
}

export interface AnnotateOptions extends AnnotationStyle {
  signal?: AbortSignal;
  /** Seconds of video written so far, and the video's duration. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Write `out`: the video (and its audio, as AAC) with the result drawn on it, H.264. Written to a
 * temporary file beside `out` and renamed, so `out` is never left half-written.
 */
/** Refuse an output that is the input (ffmpeg would read what it overwrites). */
export function checkAnnotationOutput(source: string, out: string): void {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source) && resolve(out) === resolve(source)) {
    throw new VidxError('ANNOTATE_BAD_OUTPUT', `--annotate ${out} is the input video; it would be overwritten`);
  }
}

export async function annotateVideo(source: string, info: VideoInfo, result: DetectionResult, out: string, o: AnnotateOptions): Promise<void> {
  checkAnnotationOutput(source, out);
  const part = join(dirname(out), `.${basename(out, extname(out))}.${randomBytes(4).toString('hex')}.part${extname(out) || '.mp4'}`);
  const args = [
    '-hide_banner', '-nostats', '-loglevel', 'error', '-y',
    '-i', source,
    '-map', `0:${info.streamIndex}`, '-map', '0:a:0?',
    '-filter_script:v', 'pipe:0', '-filter_threads', '1',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20',
    '-c:a', 'aac',
    '-progress', 'pipe:1',
    part,
  ];
  const child = spawnTool(ffmpegPath(), args, { signal: o.signal });
  child.stdin.end(annotationFilterScript(result, o));
  let pending = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => {
    pending += s;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^out_time_ms=(\d+)/.exec(line); // microseconds, despite the name
      if (m) o.onProgress?.(Math.min(Number(m[1]) / 1e6, info.duration), info.duration);
    }
  });
  const exit = await child.closed;
  if (exit.code !== 0) {
    await rm(part, { force: true });
    throw toolError('ffmpeg', exit, `annotating ${source}`);
  }
  await rename(part, out);
}
