/**
 * A video's timeline in the formats other tools read (issue 11, "Exports"). Pure: a timeline in,
 * text out. One cue / row / EDL event per segment, in the timeline's order (by start).
 *
 * - CSV (RFC 4180): a header row, then video_id,key,label,start,end,score,mean,windows,kind,
 *   person,boxes; seconds with 3 decimals, scores with 6; `kind` clip or person; for a person
 *   segment `person` is its track id and `boxes` its box on each keyframe as
 *   `t x1 y1 x2 y2` groups (frame fractions, 4 decimals) joined by `;` (both empty for a clip
 *   segment); fields quoted when they hold a comma, quote or line break.
 * - WebVTT: "WEBVTT", a NOTE naming the video and model, then one cue per segment whose
 *   identifier is its ordinal and whose text is "<label> (<score 2 decimals>)", for a person
 *   segment "person <id>: <label> (<score>)"; &, < and > escaped.
 * - MOT (MOTChallenge text, `format=mot`): one line per keyframe and person,
 *   `frame,id,bb_left,bb_top,bb_width,bb_height,conf,-1,-1,-1`, frames counted from 1 at the video's
 *   frame rate, boxes in pixels of the frame (the frame fractions where the video's size is
 *   unknown), conf the best score of that person's segments covering the keyframe; by frame then id.
 *   Clip segments have no boxes and are not in it.
 * - EDL (CMX3600): TITLE, FCM: NON-DROP FRAME, then per segment an event line
 *   `NNN  AX       V     C        <src in> <src out> <rec in> <rec out>` (source and record times
 *   both the segment's, at the video's frame rate) followed by `* FROM CLIP NAME:`, `* LOC:` (the
 *   marker editors show: a locator at the segment start with the label) and `* COMMENT:` lines.
 *   CMX3600 numbers events with three digits: more than 999 segments is EXPORT_TOO_LARGE.
 */
import { VidxError } from '../errors.ts';
import type { TimedBox } from '../detection/schema.ts';
import type { Segment } from '../result.ts';
import { framesAt, timecode, timecodeBase, vttTime } from './timecode.ts';

export const EXPORT_FORMATS = ['json', 'csv', 'vtt', 'edl', 'mot'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export const EDL_MAX_EVENTS = 999;

export const CONTENT_TYPES: Readonly<Record<Exclude<ExportFormat, 'json'>, string>> = {
  csv: 'text/csv; charset=utf-8',
  vtt: 'text/vtt; charset=utf-8',
  edl: 'text/plain; charset=utf-8',
  mot: 'text/plain; charset=utf-8',
};

/** The file name extension of each export (a MOT file is plain text). */
export const FILE_EXTENSIONS: Readonly<Record<Exclude<ExportFormat, 'json'>, string>> = { csv: 'csv', vtt: 'vtt', edl: 'edl', mot: 'mot.txt' };

/** A timeline segment: clip-level, or one tracked person's action with the person's boxes. */
export type ExportSegment = Segment & { kind?: 'clip' | 'person' | undefined; person?: number | undefined; boxes?: readonly TimedBox[] | undefined };

/** What every text export needs: the segments and a little about the video. */
export interface ExportableTimeline {
  video: { videoId: string; key: string; fps?: number | undefined; width?: number | undefined; height?: number | undefined; model?: string | undefined; trained?: boolean | undefined };
  segments: readonly ExportSegment[];
}

export const CSV_COLUMNS = ['video_id', 'key', 'label', 'start', 'end', 'score', 'mean', 'windows', 'kind', 'person', 'boxes'] as const;

const isPerson = (s: ExportSegment) => s.kind === 'person' && s.person !== undefined;

function boxesField(s: ExportSegment): string {
  if (!isPerson(s)) return '';
  return (s.boxes ?? []).map((b) => [b.t.toFixed(3), ...b.box.map((v) => v.toFixed(4))].join(' ')).join(';');
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function toCsv(t: ExportableTimeline): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const s of t.segments) {
    rows.push(
      [t.video.videoId, t.video.key, s.label, s.start.toFixed(3), s.end.toFixed(3), s.score.toFixed(6), s.mean.toFixed(6), String(s.windows), isPerson(s) ? 'person' : 'clip', isPerson(s) ? String(s.person) : '', boxesField(s)]
        .map(csvField)
        .join(','),
    );
  }
  return `${rows.join('\r\n')}\r\n`;
}

function vttText(s: string): string {
  // A cue payload may not contain "-->" or a blank line; labels never do, keys are not written here.
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/-->/g, '--&gt;').replace(/[\r\n]+/g, ' ');
}

export function toWebVtt(t: ExportableTimeline): string {
  const model = t.video.model ? `, model ${t.video.model}${t.video.trained === false ? ' (untrained: labels mean nothing)' : ''}` : '';
  // NOTE blocks may not contain "-->"; the key is user text, so strip that sequence from it.
  const note = `NOTE vidx timeline of ${t.video.key.replace(/-->/g, '->').replace(/[\r\n]+/g, ' ')} (${t.video.videoId})${model}`;
  const cues = t.segments.map((s, i) => `${i + 1}\n${vttTime(s.start)} --> ${vttTime(Math.max(s.end, s.start + 0.001))}\n${isPerson(s) ? `person ${s.person}: ` : ''}${vttText(s.label)} (${s.score.toFixed(2)})`);
  return `${['WEBVTT', note, ...cues].join('\n\n')}\n`;
}

/** EDL lines are ASCII; anything else (a key with accents, say) becomes '_'. */
function ascii(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, '_').slice(0, max);
}

export function toEdl(t: ExportableTimeline): string {
  if (t.segments.length > EDL_MAX_EVENTS) {
    throw new VidxError('EXPORT_TOO_LARGE', `the timeline has ${t.segments.length} segments; a CMX3600 EDL holds at most ${EDL_MAX_EVENTS} events`, {
      hint: 'raise threshold= or minDuration= (query-time segmentation) to export fewer segments, or use format=csv',
    });
  }
  const base = timecodeBase(t.video.fps);
  const fps = t.video.fps && t.video.fps > 0 ? t.video.fps : base;
  const clip = ascii(t.video.key.split('/').pop() ?? t.video.key, 60);
  const lines = [`TITLE: ${ascii(`vidx ${t.video.key}`, 60)}`, 'FCM: NON-DROP FRAME', ''];
  t.segments.forEach((s, i) => {
    const inF = framesAt(s.start, fps);
    const outF = Math.max(inF + 1, framesAt(s.end, fps)); // an event lasts at least one frame
    const tin = timecode(inF, base);
    const tout = timecode(outF, base);
    lines.push(`${String(i + 1).padStart(3, '0')}  AX       V     C        ${tin} ${tout} ${tin} ${tout}`);
    lines.push(`* FROM CLIP NAME: ${clip}`);
    lines.push(`* LOC: ${tin} YELLOW  ${ascii(s.label, 60)}`);
    lines.push(`* COMMENT: ${ascii(s.label, 60)} score ${s.score.toFixed(2)} mean ${s.mean.toFixed(2)}`);
    lines.push('');
  });
  return `${lines.join('\r\n')}`;
}

/** MOTChallenge lines: one per (keyframe, person), from the person segments' boxes. */
export function toMot(t: ExportableTimeline): string {
  const fps = t.video.fps && t.video.fps > 0 ? t.video.fps : timecodeBase(t.video.fps);
  const sized = t.video.width !== undefined && t.video.height !== undefined && t.video.width > 0 && t.video.height > 0;
  const w = sized ? t.video.width! : 1;
  const h = sized ? t.video.height! : 1;
  const digits = sized ? 2 : 6;
  const lines = new Map<string, { frame: number; id: number; box: TimedBox['box']; conf: number }>();
  for (const s of t.segments) {
    if (!isPerson(s)) continue;
    for (const b of s.boxes ?? []) {
      const frame = framesAt(b.t, fps) + 1;
      const k = `${frame}#${s.person}`;
      const prev = lines.get(k);
      if (!prev || prev.conf < s.score) lines.set(k, { frame, id: s.person!, box: b.box, conf: s.score });
    }
  }
  const rows = [...lines.values()].sort((a, b) => a.frame - b.frame || a.id - b.id);
  return rows
    .map((r) => {
      const [x1, y1, x2, y2] = r.box;
      const n = (v: number) => v.toFixed(digits);
      return `${r.frame},${r.id},${n(x1 * w)},${n(y1 * h)},${n((x2 - x1) * w)},${n((y2 - y1) * h)},${r.conf.toFixed(6)},-1,-1,-1\n`;
    })
    .join('');
}

export function renderTimeline(format: Exclude<ExportFormat, 'json'>, t: ExportableTimeline): string {
  switch (format) {
    case 'csv':
      return toCsv(t);
    case 'vtt':
      return toWebVtt(t);
    case 'edl':
      return toEdl(t);
    case 'mot':
      return toMot(t);
  }
}
