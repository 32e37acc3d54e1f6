import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { frameJpeg } from '../../core/video/frame-jpeg.ts';
import { makeVideo } from './fixtures.ts';
import { MAX_THUMBNAILS, thumbnailTimes } from '../../core/pipeline/thumbnails.ts';
import type { Segment, WindowScore } from '../../core/result.ts';

const win = (index: number, top: [string, number][]): WindowScore => ({
  index,
  start: index * 2,
  end: index * 2 + 2,
  top: top.map(([label, p], i) => ({ label, index: i, p })),
});
const seg = (label: string, start: number, end: number, score: number): Segment => ({ label, start, end, score, mean: score, windows: 1 });

describe('thumbnail frames', () => {
  const windows = [win(0, [['run', 0.5]]), win(1, [['run', 0.9], ['jump', 0.2]]), win(2, [['run', 0.6], ['jump', 0.7]])];

  it('takes the middle of the window where the segment\'s label scored best', () => {
    const t = thumbnailTimes([seg('run', 0, 6, 0.9), seg('jump', 2, 6, 0.7)], windows);
    expect(t.get(0)).toBe(3); // window 1 (2..4 s), p 0.9
    expect(t.get(1)).toBe(5); // window 2 (4..6 s), p 0.7
  });

  it('looks only at windows inside the segment, and falls back to its middle', () => {
    expect(thumbnailTimes([seg('run', 4, 6, 0.6)], windows).get(0)).toBe(5);
    expect(thumbnailTimes([seg('swim', 0, 3, 0.1)], windows).get(0)).toBe(1.5);
  });

  it('shares one frame between segments of one window and caps distinct frames, best segments first', () => {
    const many = Array.from({ length: 5 }, (_, i) => seg(`a${i}`, i * 2, i * 2 + 2, i / 10));
    const t = thumbnailTimes(many, [], 2);
    expect([...t.keys()].sort()).toEqual([3, 4]); // the two best scores
    const same = thumbnailTimes([seg('run', 2, 4, 0.9), seg('jump', 2, 4, 0.2)], windows, 1);
    expect([...same.values()]).toEqual([3, 3]); // one frame, two segments
    expect(MAX_THUMBNAILS).toBeGreaterThan(100);
  });
});

describe('a video shorter than a window', () => {
  // One 2.13 s window (SlowFast) over a 0.8 s video: its middle (1.07 s) is past the last frame.
  const window: WindowScore = { index: 0, start: 0, end: 2.13, top: [{ label: 'run', index: 0, p: 0.8 }] };

  it('gets a frame time inside the video', () => {
    expect(thumbnailTimes([seg('run', 0, 2.13, 0.8)], [window]).get(0)).toBe(1.065);
    expect(thumbnailTimes([seg('run', 0, 2.13, 0.8)], [window], MAX_THUMBNAILS, 0.8).get(0)).toBe(0.4);
    expect(thumbnailTimes([seg('run', 0, 0.8, 0.8)], [window], MAX_THUMBNAILS, 0.8).get(0)).toBe(0.4);
  });

  it('ffmpeg cuts a frame at that time (and none at the window middle)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vidx-thumb-'));
    try {
      const video = makeVideo(dir, 'short.mp4', 0.8, { size: '64x48' });
      const at = thumbnailTimes([seg('run', 0, 2.13, 0.8)], [window], MAX_THUMBNAILS, 0.8).get(0)!;
      const jpeg = await frameJpeg(video, at);
      expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
      await expect(frameJpeg(video, 1.065)).rejects.toMatchObject({ code: 'NO_FRAME' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
