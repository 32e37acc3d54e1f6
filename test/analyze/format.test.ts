import { describe, expect, it } from 'vitest';
import { formatTimeline, prob, UNTRAINED_NOTE } from '../../core/analyze/format.ts';
import type { AnalysisResult } from '../../core/result.ts';
import { AnalysisResultSchema, RESULT_VERSION } from '../../core/result.ts';

function result(trained: boolean): AnalysisResult {
  return AnalysisResultSchema.parse({
    schema: RESULT_VERSION,
    video: { source: 'match.mp4', duration: 6.4, fps: 30, avgFps: 30, width: 1920, height: 1080, rotation: 0, codec: 'h264' },
    model: { architecture: 'slowfast_r50', trained, source: 'https://example.org/SLOWFAST_8x8_R50.pyth' },
    options: { stride: 2, threshold: 0.2, gap: 1, topK: 2 },
    windows: [
      { index: 0, start: 0, end: 2, top: [{ label: 'playing cricket', index: 1, p: 0.9 }, { label: 'bowling', index: 0, p: 0.05 }] },
      { index: 1, start: 2, end: 4, top: [{ label: 'playing cricket', index: 1, p: 0.7 }, { label: 'bowling', index: 0, p: 0.25 }] },
      { index: 2, start: 4, end: 6, top: [{ label: 'bowling', index: 0, p: 0.6 }, { label: 'playing cricket', index: 1, p: 0.1 }] },
    ],
    segments: [
      { label: 'playing cricket', start: 0, end: 4, score: 0.9, mean: 0.8, windows: 2 },
      { label: 'bowling', start: 2, end: 6, score: 0.6, mean: 0.425, windows: 2 },
    ],
    summary: [
      { label: 'playing cricket', seconds: 4, score: 0.8, weight: 3.2 },
      { label: 'bowling', seconds: 4, score: 0.425, weight: 1.7 },
    ],
  });
}

describe('formatTimeline', () => {
  it('prints the video, the model, segments by time with max/mean, then the ranked summary', () => {
    const text = formatTimeline(result(true));
    const lines = text.split('\n');
    expect(lines[0]).toBe('video:   match.mp4  6.40 s  1920x1080  30 fps  h264');
    expect(lines[1]).toContain('slowfast_r50  trained');
    expect(text).not.toContain(UNTRAINED_NOTE);
    expect(lines[2]).toBe('windows: 3 x 2.00 s, stride 2.00 s, top-2, threshold 0.2, gap 1 window');
    const cricket = lines.findIndex((l) => /^\s+0\.00 -\s+4\.00\s+playing cricket\s+0\.900\s+0\.800\s+2$/.test(l));
    const bowling = lines.findIndex((l) => /^\s+2\.00 -\s+6\.00\s+bowling\s+0\.600\s+0\.425\s+2$/.test(l));
    expect(cricket).toBeGreaterThan(0);
    expect(bowling).toBe(cricket + 1);
    expect(text).toMatch(/1\. playing cricket\s+4\.00 s\s+mean 0\.800\s+weight 3\.200/);
    expect(text).toMatch(/2\. bowling\s+4\.00 s\s+mean 0\.425\s+weight 1\.700/);
  });

  it('says plainly when the labels are untrained', () => {
    expect(formatTimeline(result(false))).toContain(`note:    ${UNTRAINED_NOTE}`);
  });

  it('says so when nothing reached the threshold', () => {
    const r = { ...result(true), segments: [], summary: [] };
    expect(formatTimeline(r)).toContain('timeline: no label reached p >= 0.2 in any window');
  });
});

describe('prob', () => {
  it('3 decimals, or 2 significant digits for the small probabilities of untrained models', () => {
    expect(prob(0.9)).toBe('0.900');
    expect(prob(0.0057)).toBe('0.0057');
    expect(prob(0)).toBe('0.000');
  });
});
