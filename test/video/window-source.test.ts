/**
 * The window contract end to end, on videos whose frames carry their own index in their pixels:
 * for every window and every k, the model input holds the frame on screen at t0 + k*r/F (the last
 * frame presented at or before it; the last frame past the end), reported with its pts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../core/model/manifest.ts';
import { probe, type VideoInfo } from '../../core/video/probe.ts';
import { readWindows, type PackedBatch } from '../../core/video/window-source.ts';
import { frameInstants, planWindows, slowPathwayIndices, windowsInClip, type WindowPlan } from '../../core/video/windows.ts';
import { normalizationTable } from '../../core/video/normalize.ts';
import { CRICKET_GIF, indexFromFrame, makeVideo, planarFrame, tempDir, type VideoSpec } from '../helpers/media.ts';
import { i3dManifest, slowfastManifest } from './manifests.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Independent statement of the rule: scan for the last frame with time <= instant. */
function expectedFrame(times: number[], instant: number): number {
  let pick = 0;
  for (let n = 0; n < times.length; n++) if (times[n]! <= instant + 1e-6) pick = n;
  return pick;
}

async function readAll(path: string, m: Manifest, info: VideoInfo, windows: WindowPlan[], batch = 3, stats?: { decoded: number; converted: number; spans: number }): Promise<PackedBatch[]> {
  const out: PackedBatch[] = [];
  for await (const b of readWindows(path, m, { info, windows, batch, stats })) out.push(b);
  return out;
}

/** Check every frame of every window against the rule; returns the frame indices used. */
function checkRule(batches: PackedBatch[], m: Manifest, frameTimes: number[], rotation: number): number[][] {
  const C = m.crop;
  const fastName = m.inputs.find((i) => i.frames === m.frames)!.name;
  const used: number[][] = [];
  for (const b of batches) {
    expect(b.windows.length).toBeGreaterThan(0);
    for (let n = 0; n < b.windows.length; n++) {
      const w = b.windows[n]!;
      const idx = frameInstants(w, m).map((t) => expectedFrame(frameTimes, t));
      used.push(idx);
      expect(b.frameTimes[n]!.length).toBe(m.frames);
      for (let k = 0; k < m.frames; k++) {
        expect(b.frameTimes[n]![k]).toBeCloseTo(frameTimes[idx[k]!]!, 6);
        const seen = indexFromFrame(planarFrame(b.inputs[fastName]!, n, k, m.frames, C), C, m.mean, m.std, rotation);
        expect(seen, `window ${w.index} frame ${k} (t=${frameInstants(w, m)[k]!.toFixed(4)})`).toBe(idx[k]! % 256);
      }
    }
  }
  return used;
}

describe('frame rule on constant frame rates (24, 25, 29.97, 30, 60 fps)', () => {
  const m = slowfastManifest({ T: 8, r: 2, alpha: 4, F: 30, S: 32, C: 32 });
  for (const fps of [24, 25, '30000/1001', 30, 60] as const) {
    it(`${fps} fps`, async () => {
      const v = await makeVideo(tmp.dir, { seconds: 2.2, fps, width: 64, height: 48 });
      const info = await probe(v.path);
      const windows = planWindows(info.duration, m, 0.4);
      const batches = await readAll(v.path, m, info, windows);
      expect(batches.flatMap((b) => b.windows.map((w) => w.index))).toEqual(windows.map((w) => w.index));
      checkRule(batches, m, v.frameTimes, 0);
    });
  }

  it('hand-computed: 24 fps sampled at 15 Hz (F=30, r=2)', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 1.2, fps: 24, width: 64, height: 48, name: 'hand24' });
    const info = await probe(v.path);
    const [b] = await readAll(v.path, m, info, [{ index: 0, start: 0, end: 8 / 15 }]);
    // instants k/15 = 0, .0667, .1333, .2, .2667, .3333, .4, .4667 -> frames floor(k*24/15)
    const seen = Array.from({ length: 8 }, (_, k) => indexFromFrame(planarFrame(b!.inputs.fast!, 0, k, 8, 32), 32, m.mean, m.std));
    expect(seen).toEqual([0, 1, 3, 4, 6, 8, 9, 11]);
    expect(b!.frameTimes[0]!.map((t) => Math.round(t * 24))).toEqual([0, 1, 3, 4, 6, 8, 9, 11]);
  });
});

describe('frame rule on awkward videos', () => {
  const m = slowfastManifest({ T: 8, r: 2, alpha: 4, F: 30, S: 32, C: 32 });

  const cases: [string, VideoSpec][] = [
    ['variable frame rate (mkv)', { seconds: 2.4, fps: 25, width: 64, height: 48, vfr: true }],
    ['odd size 63x47', { seconds: 1.5, fps: 30, width: 63, height: 47 }],
    ['mpeg4 in AVI (packets without pts: frames are listed by decoding)', { seconds: 1.5, fps: 24, width: 64, height: 48, codec: 'mpeg4' }],
    ['vp9 webm', { seconds: 1.2, fps: 30, width: 64, height: 48, codec: 'vp9' }],
    ['portrait (taller than wide)', { seconds: 1.2, fps: 30, width: 36, height: 64 }],
  ];
  for (const [name, spec] of cases) {
    it(name, async () => {
      const v = await makeVideo(tmp.dir, spec);
      const info = await probe(v.path);
      expect([info.width, info.height]).toEqual([spec.width, spec.height]);
      const windows = planWindows(info.duration, m, 0.3);
      checkRule(await readAll(v.path, m, info, windows), m, v.frameTimes, 0);
    });
  }

  it('rotation 90: frames are as displayed', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 1.2, fps: 30, width: 64, height: 32, rotate: 90 });
    const info = await probe(v.path);
    expect(info.rotation % 180).toBe(90);
    expect([info.width, info.height]).toEqual([32, 64]);
    const windows = planWindows(info.duration, m);
    // indexFromFrame finds the source's top half where the reported rotation puts it.
    checkRule(await readAll(v.path, m, info, windows), m, v.frameTimes, info.rotation);
  });

  it('shorter than a window: one window, frames past the end repeat the last frame', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 0.3, fps: 30, width: 64, height: 48, name: 'short' });
    const info = await probe(v.path);
    const windows = planWindows(info.duration, m);
    expect(windows).toHaveLength(1);
    const batches = await readAll(v.path, m, info, windows);
    const [used] = checkRule(batches, m, v.frameTimes, 0);
    // instants 0, 1/15, ..., 7/15 s; frames at n/30, n = 0..8 -> 0, 2, 4, 6, 8, then 8 repeated.
    expect(used).toEqual([0, 2, 4, 6, 8, 8, 8, 8]);
    expect(batches[0]!.frameTimes[0]!.slice(4)).toEqual([8 / 30, 8 / 30, 8 / 30, 8 / 30].map((t) => expect.closeTo(t, 6)));
  });

  it('several minutes at tiny resolution, across spans: bounded, every window exact', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 250, fps: 10, width: 32, height: 24, gop: 40, name: 'long' });
    const info = await probe(v.path);
    const mm = i3dManifest({ T: 4, r: 5, F: 10, S: 16, C: 16 }); // D = 2 s
    const windows = planWindows(info.duration, mm, 3);
    expect(windows.length).toBe(83); // starts 0, 3, ..., 246 (246 + 2 <= 250)
    const stats = { decoded: 0, converted: 0, spans: 0 };
    const batches = await readAll(v.path, mm, info, windows, 16, stats);
    expect(stats.spans).toBeGreaterThanOrEqual(3);
    const used = checkRule(batches, mm, v.frameTimes, 0);
    expect(stats.decoded).toBe(new Set(used.flat()).size);
  });
});

describe('spans (bounded frame lists and ffmpeg runs)', () => {
  it('a frame shared across a span boundary is converted once (carried over)', async () => {
    // 2 fps, sampled at 10 Hz: every frame is used by several windows, including across 120 s.
    const v = await makeVideo(tmp.dir, { seconds: 130, fps: 2, width: 32, height: 24, gop: 10, name: 'carry' });
    const info = await probe(v.path);
    const m = i3dManifest({ T: 4, r: 1, F: 10, S: 16, C: 16 }); // D = 0.4 s
    const windows = planWindows(info.duration, m, 0.3);
    const stats = { decoded: 0, converted: 0, spans: 0 };
    const batches = await readAll(v.path, m, info, windows, 64, stats);
    expect(stats.spans).toBe(2);
    const used = checkRule(batches, m, v.frameTimes, 0);
    expect(stats.converted).toBe(new Set(used.flat()).size);
  });
});

describe('packing', () => {
  it('SlowFast slow input = fast frames at floor(linspace(0, T-1, T/alpha)); I3D video = the T frames', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 2.5, fps: 30, width: 48, height: 48, pattern: 'testsrc' });
    const info = await probe(v.path);
    const sf = slowfastManifest({ T: 16, r: 2, alpha: 4, F: 30, S: 24, C: 24 });
    const [b] = await readAll(v.path, sf, info, planWindows(info.duration, sf), 4);
    const plane = 24 * 24;
    const slowIdx = slowPathwayIndices(16, 4);
    expect(slowIdx).toEqual([0, 5, 10, 15]);
    const n = b!.windows.length;
    expect(b!.inputs.fast!.length).toBe(n * 3 * 16 * plane);
    expect(b!.inputs.slow!.length).toBe(n * 3 * 4 * plane);
    for (let w = 0; w < n; w++)
      for (let j = 0; j < 4; j++) expect(planarFrame(b!.inputs.slow!, w, j, 4, 24)).toEqual(planarFrame(b!.inputs.fast!, w, slowIdx[j]!, 16, 24));
    const i3d = i3dManifest({ T: 16, r: 2, F: 30, S: 24, C: 24 });
    const [c] = await readAll(v.path, i3d, info, planWindows(info.duration, i3d), 4);
    expect(c!.inputs.video).toEqual(b!.inputs.fast);
  });

  it('overlapping windows: each decoded frame converted once; batches of the asked size', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 3, fps: 30, width: 48, height: 36, name: 'overlap' });
    const info = await probe(v.path);
    const m = i3dManifest({ T: 8, r: 2, F: 30, S: 24, C: 24 });
    const windows = planWindows(info.duration, m, 0.1); // heavy overlap
    const stats = { decoded: 0, converted: 0, spans: 0 };
    const batches = await readAll(v.path, m, info, windows, 5, stats);
    expect(batches.map((b) => b.windows.length)).toEqual([...Array(Math.floor(windows.length / 5)).fill(5), ...(windows.length % 5 ? [windows.length % 5] : [])]);
    const used = checkRule(batches, m, v.frameTimes, 0);
    // 8 frames x ~18 windows use only the video's 90 frames: each converted exactly once.
    expect(stats.converted).toBe(new Set(used.flat()).size);
    expect(stats.converted).toBeLessThan(used.flat().length / 2);
  });

  it('uint8 entry: each window is its T frames as bytes [T, C, C, 3], which normalize to exactly the float packing', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 2.5, fps: 30, width: 48, height: 40, pattern: 'testsrc', name: 'bytes' });
    const info = await probe(v.path);
    const base = slowfastManifest({ T: 16, r: 2, alpha: 4, F: 30, S: 24, C: 24 });
    const m = { ...base, uint8: { onnx: 'm.u8.onnx', onnxFloat16: null, input: 'frames', layout: 'NTHWC' as const, precision: 'float32' as const } };
    const windows = planWindows(info.duration, m, 0.5);
    const floats = await readAll(v.path, m, info, windows, 3);
    const bytes: Array<PackedBatch<Uint8Array>> = [];
    for await (const b of readWindows(v.path, m, { info, windows, batch: 3, entry: 'uint8' })) bytes.push(b);
    expect(bytes.map((b) => b.windows)).toEqual(floats.map((b) => b.windows));
    expect(bytes.map((b) => b.frameTimes)).toEqual(floats.map((b) => b.frameTimes));
    expect(Object.keys(bytes[0]!.inputs)).toEqual(['frames']);
    const lut = normalizationTable(m);
    const P = 24 * 24;
    for (let i = 0; i < bytes.length; i++) {
      const n = bytes[i]!.windows.length;
      const u8 = bytes[i]!.inputs.frames!;
      expect(u8.length).toBe(n * 16 * P * 3); // a quarter of the float bytes of `fast` alone
      for (const [name, take] of [['fast', [...Array(16).keys()]], ['slow', slowPathwayIndices(16, 4)]] as const) {
        const expected = floats[i]!.inputs[name]!;
        const got = new Float32Array(expected.length);
        for (let w = 0; w < n; w++)
          for (let c = 0; c < 3; c++)
            take.forEach((t, k) => {
              for (let p = 0; p < P; p++) got[((w * 3 + c) * take.length + k) * P + p] = lut[c * 256 + u8[((w * 16 + t) * P + p) * 3 + c]!]!;
            });
        expect(got).toEqual(expected);
      }
    }
  });

  it('clips read independently give exactly the whole video’s windows and inputs', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 6, fps: 25, width: 40, height: 30, name: 'clips' });
    const info = await probe(v.path);
    const m = i3dManifest({ T: 4, r: 4, F: 30, S: 16, C: 16 });
    const all = planWindows(info.duration, m, 0.45);
    const whole = await readAll(v.path, m, info, all, 64);
    const parts: PackedBatch[] = [];
    for (let a = 0; a < info.duration; a += 2) parts.push(...(await readAll(v.path, m, info, windowsInClip(all, a, a + 2), 64)));
    expect(parts.flatMap((b) => b.windows)).toEqual(all);
    const cat = (bs: PackedBatch[]): number[] => bs.flatMap((b) => Array.from(b.inputs.video!));
    expect(cat(parts)).toEqual(cat(whole));
    expect(parts.flatMap((b) => b.frameTimes)).toEqual(whole.flatMap((b) => b.frameTimes));
  });
});

describe('real footage: cricket_shot.gif', () => {
  it('probes and packs a SlowFast window with the frames on screen at k/15 s', async () => {
    const info = await probe(CRICKET_GIF);
    expect(info).toMatchObject({ width: 224, height: 224, codec: 'gif', fps: 25, rotation: 0, frameCount: 79 });
    expect(info.duration).toBeCloseTo(3.16, 2);
    const m = slowfastManifest({ T: 32, r: 2, alpha: 4, F: 30, S: 256, C: 256 });
    const windows = planWindows(info.duration, m);
    expect(windows).toEqual([{ index: 0, start: 0, end: 64 / 30 }]);
    const [b] = await readAll(CRICKET_GIF, m, info, windows);
    // GIF frames every 0.04 s: frame on screen at k/15 is floor(k * 25 / 15).
    expect(b!.frameTimes[0]!.map((t) => Math.round(t * 25))).toEqual(Array.from({ length: 32 }, (_, k) => Math.floor((k * 25) / 15 + 1e-9)));
    const fast = b!.inputs.fast!;
    expect(fast.length).toBe(3 * 32 * 256 * 256);
    let sum = 0;
    let bad = 0;
    for (const x of fast) {
      if (!Number.isFinite(x)) bad++;
      sum += x;
    }
    expect(bad).toBe(0);
    const mean = sum / fast.length;
    expect(mean).toBeGreaterThan(-2);
    expect(mean).toBeLessThan(2.45);
    // Consecutive sampled frames of real footage differ, repeated ones do not.
    expect(planarFrame(fast, 0, 0, 32, 256)).not.toEqual(planarFrame(fast, 0, 1, 32, 256));
  });
});
