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
    kf.people.forEach((p, j) => {
      const person = ids[i]![j]!;
      const colour = personColour(person).replace('#', '0x'); // ffmpeg's colour syntax
      const [x1, y1, x2, y2] = p.box;
      const x = Math.round(x1 * W);
      const y = Math.round(y1 * H);
      const w = Math.max(1, Math.round((x2 - x1) * W));
      const h = Math.max(1, Math.round((y2 - y1) * H));
      filters.push(`drawbox=x=${x}:y=${y}:w=${w}:h=${h}:color=${colour}@1:t=${thickness}:${enable}`);
      if (style.font === null) return;
      // Above the box when it fits, else just inside its top edge.
      const textY = y >= fontSize + 2 * thickness ? y - fontSize - 2 * thickness : y + thickness;
      filters.push(
        `drawtext=fontfile=${escapeDrawtext(style.font)}:expansion=none:text=${escapeDrawtext(personLabel(person, p, result.options.actionThreshold))}` +
          `:x=${x}:y=${textY}:fontsize=${fontSize}:fontcolor=white:box=1:boxcolor=${colour}@0.75:boxborderw=${thickness}:${enable}`,
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
