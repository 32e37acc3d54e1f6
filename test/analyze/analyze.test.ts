/**
 * analyze end to end on real video (ffmpeg-made H.264 and the real cricket footage) with a
 * synthesized i3d_r50 (the cheaper model on CPU): schema, window count, clip-wise scoring equal
 * to whole-video scoring, and the CLI (JSON, text, errors).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVidx } from '../helpers/cli.ts';
import { analyzeVideo, scoreWindows } from '../../core/analyze.ts';
import { UNTRAINED_NOTE } from '../../core/analyze/format.ts';
import type { Manifest } from '../../core/model/manifest.ts';
import { ManifestSchema, windowSeconds } from '../../core/model/manifest.ts';
import { AnalysisResultSchema } from '../../core/result.ts';
import { probe } from '../../core/video/probe.ts';
import { planWindows, windowsInClip } from '../../core/video/windows.ts';
import { InferenceEngine } from '../../core/model/engine.ts';
import { synthesize } from '../../models/convert.ts';
import { CRICKET_GIF, makeVideo, tempDir } from '../helpers/media.ts';
import { readFileSync } from 'node:fs';


const vidx = (args: string[]) => runVidx(args, { VIDX_THREADS: '2' });

const tmp = tempDir('vidx-analyze-');
let manifestPath = '';
let manifest: Manifest;
let engine: Awaited<ReturnType<typeof InferenceEngine.load>>;
let video = '';

beforeAll(async () => {
  const made = await makeVideo(tmp.dir, { seconds: 7, fps: 30, width: 320, height: 240, pattern: 'testsrc', name: 'seven' });
  video = made.path;
  const pair = await synthesize('i3d_r50', tmp.dir);
  manifestPath = pair.manifestPath;
  manifest = ManifestSchema.parse(JSON.parse(readFileSync(manifestPath, 'utf8')));
  engine = await InferenceEngine.load(manifestPath, { device: 'cpu', threads: 2 });
}, 300_000);

afterAll(async () => {
  await engine?.close();
  tmp.cleanup();
});

describe('analyzeVideo', () => {
  it('an H.264 video: a valid result, one scored window per planned window, untrained defaults', async () => {
    const progress: Array<[number, number]> = [];
    const r = await analyzeVideo(video, engine, { batch: 2, onProgress: (d, t) => progress.push([d, t]) });
    expect(AnalysisResultSchema.parse(r)).toEqual(r);
    const planned = planWindows(r.video.duration, manifest);
    expect(r.windows.map((w) => [w.index, w.start, w.end])).toEqual(planned.map((w) => [w.index, w.start, w.end]));
    expect(r.windows).toHaveLength(3); // 7 s / (8 * 8 / 30 = 2.133 s)
    expect(progress[0]).toEqual([0, 3]);
    expect(progress.at(-1)).toEqual([3, 3]);
    for (const w of r.windows) {
      expect(w.top).toHaveLength(5);
      for (let i = 1; i < w.top.length; i++) expect(w.top[i]!.p).toBeLessThanOrEqual(w.top[i - 1]!.p);
    }
    expect(r.model).toMatchObject({ architecture: 'i3d_r50', trained: false });
    expect(r.options).toEqual({ stride: windowSeconds(manifest), threshold: 0, gap: 1, topK: 5 });
    // threshold 0: every window's top-5 labels are in some segment
    for (const w of r.windows) {
      for (const s of w.top) expect(r.segments.some((g) => g.label === s.label && g.start <= w.start && g.end >= w.end)).toBe(true);
    }
    expect(r.summary.length).toBeGreaterThan(0);
  });

  it('scoring the windows clip by clip ([0, a) and [a, end)) gives exactly the whole-video windows', async () => {
    const info = await probe(video);
    const all = planWindows(info.duration, manifest, 2.0); // overlapping windows (stride < 2.133 s)
    expect(all.map((w) => w.start)).toEqual([0, 2, 4]);
    const whole = await scoreWindows(video, engine, { info, windows: all, batch: 2, topK: 5 });
    // Split so the batches differ from the whole run's ([0,1],[2]): [0] then [1,2].
    const a = 1.0;
    const first = windowsInClip(all, 0, a);
    const second = windowsInClip(all, a, Infinity);
    expect([first.length, second.length]).toEqual([1, 2]);
    const parts = [
      ...(await scoreWindows(video, engine, { info, windows: first, batch: 2, topK: 5 })),
      ...(await scoreWindows(video, engine, { info, windows: second, batch: 2, topK: 5 })),
    ];
    expect(parts).toEqual(whole);
  });

  it('the real cricket footage (GIF, 25 fps, 3.2 s): one window, valid result', async () => {
    const r = await analyzeVideo(CRICKET_GIF, engine, { batch: 1, topK: 3 });
    expect(AnalysisResultSchema.parse(r)).toEqual(r);
    expect(r.video.codec).toBe('gif');
    expect(r.windows).toHaveLength(planWindows(r.video.duration, manifest).length);
    expect(r.windows).toHaveLength(1);
    expect(r.windows[0]!.top).toHaveLength(3);
  });

  it('rejects bad options with a typed error before decoding', async () => {
    await expect(analyzeVideo(video, engine, { batch: 0 })).rejects.toMatchObject({ code: 'ANALYZE_BAD_OPTIONS' });
    await expect(analyzeVideo(video, engine, { threshold: 2 })).rejects.toMatchObject({ code: 'TIMELINE_BAD_OPTIONS' });
    await expect(analyzeVideo(video, engine, { topK: 401 })).rejects.toMatchObject({ code: 'ANALYZE_BAD_OPTIONS' });
  });
});

describe('vidx analyze (CLI)', () => {
  it('--json prints the full result, windows included', async () => {
    const r = await vidx(['analyze', CRICKET_GIF, '--model', manifestPath, '--json', '--device', 'cpu']);
    expect(r.code, r.stderr).toBe(0);
    const parsed = AnalysisResultSchema.parse(JSON.parse(r.stdout));
    expect(parsed.windows).toHaveLength(1);
    expect(parsed.model.trained).toBe(false);
    expect(r.stderr).toContain(UNTRAINED_NOTE);
    expect(r.stderr).toMatch(/analyze: 1\/1 windows/); // progress, shown as lines when stderr is not a terminal
  });

  it('plain output is a readable timeline', async () => {
    const r = await vidx(['analyze', CRICKET_GIF, '--model', manifestPath, '--top-k', '2', '--threshold', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('video:   ');
    expect(r.stdout).toContain('model:   i3d_r50  untrained');
    expect(r.stdout).toContain(UNTRAINED_NOTE);
    expect(r.stdout).toMatch(/^timeline$/m);
    expect(r.stdout).toMatch(/^\s+0\.00 -\s+2\.13\s+\S/m);
    expect(r.stdout).toMatch(/^summary/m);
  });

  it('without --model: the default model (a synthesized SlowFast when none is pulled), untrained said plainly', async () => {
    const cache = join(tmp.dir, 'cache');
    const r = await vidx(['analyze', CRICKET_GIF, '--cache', cache, '--device', 'cpu', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).model).toEqual({ architecture: 'slowfast_r50', trained: false, source: 'synthetic' });
    expect(r.stderr).toContain(`no --model given: using ${join(cache, 'synthetic', 'slowfast_r50.json')}`);
    expect(r.stderr).toMatch(/labels are UNTRAINED/);
  }, 180_000);

  it('a missing video: its error code, exit 1, no stack trace', async () => {
    const r = await vidx(['analyze', join(tmp.dir, 'nope.mp4'), '--model', manifestPath]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[VIDEO_NOT_FOUND]');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a bad model path: its error code, exit 1, no stack trace', async () => {
    const r = await vidx(['analyze', CRICKET_GIF, '--model', join(tmp.dir, 'missing.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[MODEL_[A-Z_]+\]/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
