/**
 * One ffmpeg pass for several sizes (decode-split.ts) gives, per size, exactly the bytes a
 * decodeFrames pass at that size gives; detection's frames come out the same whichever way
 * they are decoded; a pts that is not in the video fails loudly.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDetectionFrames } from '../../core/detection/frames.ts';
import { planKeyframes } from '../../core/detection/keyframes.ts';
import { decodeFrames } from '../../core/video/decode.ts';
import { decodeFramesSplit } from '../../core/video/decode-split.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import { listFrameTimes } from '../../core/video/frame-times.ts';
import { probe, type VideoInfo } from '../../core/video/probe.ts';

let work: string;
let video: string;
let info: VideoInfo;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'vidx-decode-split-'));
  video = join(work, 'v.mp4');
  execFileSync(ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25:duration=3', '-pix_fmt', 'yuv420p', '-g', '10', video]);
  info = await probe(video);
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function oneSize(wanted: number[], size: { width: number; height: number }): Promise<Map<number, Buffer>> {
  const out = new Map<number, Buffer>();
  for await (const f of decodeFrames(video, info, wanted, { shortSide: 0, crop: 0, size })) out.set(f.pts, f.rgb);
  return out;
}

describe('decodeFramesSplit: one decode, several sizes', () => {
  it('gives each size the bytes a pass at that size alone gives', async () => {
    const ft = await listFrameTimes(video, info, 0, info.duration);
    const big = { width: 200, height: 150 };
    const small = { width: 170, height: 128 };
    const a = [ft.pts[12]!, ft.pts[40]!];
    const b = ft.pts.slice(5, 50);
    const [x, y] = await decodeFramesSplit(video, info, [
      { wanted: a, size: big },
      { wanted: b, size: small },
    ]);
    expect([...x!.keys()]).toEqual(a);
    expect([...y!.keys()]).toEqual(b);
    const alone = [await oneSize(a, big), await oneSize(b, small)];
    for (const p of a) expect(x!.get(p)!.equals(alone[0]!.get(p)!)).toBe(true);
    for (const p of b) expect(y!.get(p)!.equals(alone[1]!.get(p)!)).toBe(true);
  }, 120_000);

  it('gives detection the same keyframe images and clips as two passes', async () => {
    const plan = planKeyframes(info.duration, 1);
    const geometry = [{ minSize: 150, maxSize: 1333, sizeDivisible: 32 }, { frames: 32, samplingRate: 2, fps: 30, shortSide: 128 }] as const;
    const one = await readDetectionFrames(video, info, plan, ...geometry);
    const two = await readDetectionFrames(video, info, plan, ...geometry, { passes: 'two' });
    expect(one.images).toHaveLength(3);
    one.images.forEach((img, k) => expect(img.equals(two.images[k]!)).toBe(true));
    one.clips.forEach((clip, k) => clip.forEach((f, j) => expect(f.equals(two.clips[k]![j]!)).toBe(true)));
  }, 120_000);

  it('fails with VIDEO_DECODE_FAILED when a wanted pts is not in the video', async () => {
    const ft = await listFrameTimes(video, info, 0, info.duration);
    await expect(decodeFramesSplit(video, info, [{ wanted: [ft.pts[3]! + 1], size: { width: 32, height: 24 } }, { wanted: [ft.pts[4]!], size: { width: 16, height: 12 } }])).rejects.toMatchObject({
      code: 'VIDEO_DECODE_FAILED',
    });
  }, 120_000);
});
