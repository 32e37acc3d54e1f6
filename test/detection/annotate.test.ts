/**
 * `analyze --detect --annotate`: the boxes of a detection result drawn onto a copy of the video by
 * ffmpeg, read back pixel by pixel. Results are built by hand (no model), so every box is known.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetectionResult } from '../../core/detection/analyze.ts';
import { annotateVideo, annotationFilterScript, escapeDrawtext, personLabel } from '../../core/detection/annotate.ts';
import { personColour } from '../../core/detection/colours.ts';
import type { Box, PersonDetection } from '../../core/detection/schema.ts';
import { VidxError } from '../../core/errors.ts';
import { ffmpegPath, runTool } from '../../core/video/ffmpeg.ts';
import { findFont } from '../../core/video/font.ts';
import { probe, type VideoInfo } from '../../core/video/probe.ts';
import { makeVideo, tempDir } from '../helpers/media.ts';

const GREY = [128, 128, 128] as const;

const person = (box: Box, actions: Array<[string, number]> = []): PersonDetection => ({
  box,
  score: 0.9,
  actions: actions.map(([label, p], index) => ({ label, index, p })),
});

function resultFor(info: VideoInfo, keyframes: PersonDetection[][], interval = 1): DetectionResult {
  return {
    schema: 'vidx.detections/v1',
    video: { source: 'x', duration: info.duration, width: info.width, height: info.height, rotation: info.rotation },
    models: { people: { architecture: 'fasterrcnn_resnet50_fpn_v2', trained: true }, actions: { architecture: 'slowfast_r50_detection', trained: true } },
    options: { keyframeInterval: interval, scoreThreshold: 0.8, actionThreshold: 0.5, gap: 1 },
    keyframes: keyframes.map((people, index) => ({ index, t: index * interval + interval / 2, people })),
    segments: [],
  };
}

/** The frame on screen at `t` of an annotated video, rgb24, with its size. */
async function frameAt(file: string, t: number): Promise<{ width: number; height: number; rgb: Buffer }> {
  const info = await probe(file);
  const { stdout } = await runTool(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-ss', String(t), '-i', file, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], 'reading a frame');
  return { width: info.width, height: info.height, rgb: stdout };
}

function pixel(f: { width: number; rgb: Buffer }, x: number, y: number): [number, number, number] {
  const i = (Math.round(y) * f.width + Math.round(x)) * 3;
  return [f.rgb[i]!, f.rgb[i + 1]!, f.rgb[i + 2]!];
}

function colourOf(hex: string): [number, number, number] {
  const v = Number.parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** Within `tol` per channel (H.264 at crf 20 and 4:2:0 chroma blur a 2-pixel line a little). */
function near(a: readonly number[], b: readonly number[], tol = 40): boolean {
  return a.every((v, i) => Math.abs(v - b[i]!) <= tol);
}

let work: { dir: string; cleanup: () => void };
beforeAll(() => {
  work = tempDir('vidx-annotate-');
});
afterAll(() => work.cleanup());

describe('annotation text', () => {
  it('is escaped for both of ffmpeg filter parsers', () => {
    expect(escapeDrawtext("a: b, it's [x]; c\\d")).toBe("a\\\\: b\\, it\\\\\\'s \\[x\\]\\; c\\\\\\\\d");
  });

  it('names the person and at most two actions at or above the threshold, best first', () => {
    const p = person([0, 0, 1, 1], [['smoke', 0.81], ['stand', 0.7], ['sit', 0.6], ['walk', 0.2]]);
    expect(personLabel(3, p, 0.5)).toBe('3 smoke 0.81, stand 0.70');
    expect(personLabel(3, p, 0.9)).toBe('3');
  });
});

describe('vidx analyze --annotate', () => {
  it('draws each person in their colour over the span of the keyframe, in the orientation the video plays in', async () => {
    // Stored 160x120 with a 90° rotate tag: it plays as 120x160 (portrait).
    const video = await makeVideo(work.dir, { seconds: 2, fps: 25, width: 160, height: 120, rotate: 90, pattern: { solid: [...GREY] }, name: 'rotated' });
    const info = await probe(video.path);
    expect([info.width, info.height]).toEqual([120, 160]);
    // Keyframe 0 ([0, 1) s): person 1 in the top half; keyframe 1 ([1, 2) s): nobody.
    const result = resultFor(info, [[person([0.25, 0.125, 0.75, 0.5], [['talk to (e.g., self, a person, a group)', 0.9]])], []]);
    const out = join(work.dir, 'rotated-annotated.mp4');
    const progress: number[] = [];
    await annotateVideo(video.path, info, result, out, { font: findFont().file, onProgress: (done) => progress.push(done) });
    expect(progress.at(-1)).toBeCloseTo(2, 0);

    const first = await frameAt(out, 0.5);
    expect([first.width, first.height]).toEqual([120, 160]);
    const red = colourOf(personColour(1));
    // The box's left edge at x = 30, between y = 20 and 80; its inside and the lower half untouched.
    expect(pixel(first, 31, 50)).toSatisfy((c: number[]) => near(c, red));
    expect(pixel(first, 60, 50)).toSatisfy((c: number[]) => near(c, GREY, 6));
    expect(pixel(first, 60, 130)).toSatisfy((c: number[]) => near(c, GREY, 6));
    // One second later the keyframe's span is over: no box.
    const second = await frameAt(out, 1.5);
    expect(pixel(second, 31, 50)).toSatisfy((c: number[]) => near(c, GREY, 6));
  }, 60_000);

  it('keeps a box at the frame edge inside the frame, and odd-sized video is padded to even sides', async () => {
    const video = await makeVideo(work.dir, { seconds: 1, fps: 10, width: 99, height: 75, codec: 'mjpeg', container: 'avi', pattern: { solid: [...GREY] }, name: 'edge' });
    const info = await probe(video.path);
    const result = resultFor(info, [[person([0, 0, 1, 1]), person([0.5, 0.5, 1, 1])]]);
    const out = join(work.dir, 'edge.mp4');
    await annotateVideo(video.path, info, result, out, { font: null });
    const f = await frameAt(out, 0.5);
    expect([f.width, f.height]).toEqual([100, 76]);
    expect(pixel(f, 0, 37)).toSatisfy((c: number[]) => near(c, colourOf(personColour(1))));
    expect(pixel(f, 75, 38)).toSatisfy((c: number[]) => near(c, colourOf(personColour(2))));
  }, 60_000);

  it('draws boxes only when there is no font, and nothing when nobody was found', () => {
    const info = { duration: 2, width: 100, height: 100, rotation: 0 } as VideoInfo;
    const one = annotationFilterScript(resultFor(info, [[person([0.1, 0.1, 0.2, 0.2])]]), { font: null });
    expect(one).toContain('drawbox=');
    expect(one).not.toContain('drawtext');
    expect(annotationFilterScript(resultFor(info, [[], []]), { font: '/f.ttf' })).toBe('pad=w=ceil(iw/2)*2:h=ceil(ih/2)*2,\nformat=yuv420p');
  });

  it('refuses to overwrite the input, and leaves no partial file when ffmpeg fails', async () => {
    const video = await makeVideo(work.dir, { seconds: 1, fps: 10, width: 64, height: 48, name: 'small' });
    const info = await probe(video.path);
    const result = resultFor(info, [[person([0.1, 0.1, 0.5, 0.5])]]);
    await expect(annotateVideo(video.path, info, result, video.path, { font: null })).rejects.toMatchObject({ code: 'ANNOTATE_BAD_OUTPUT' });
    const before = readdirSync(work.dir).sort();
    const err = await annotateVideo(video.path, info, result, join(work.dir, 'out.notaformat'), { font: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VidxError);
    expect((err as VidxError).code).toBe('FFMPEG_FAILED');
    expect(readdirSync(work.dir).sort()).toEqual(before);
    expect(existsSync(join(work.dir, 'out.notaformat'))).toBe(false);
  }, 60_000);
});
