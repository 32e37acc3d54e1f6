import { describe, expect, it } from 'vitest';
import { TimelineResponseSchema } from '../../core/query/responses.ts';

const timeline = (segments: unknown[]) => ({
  video: { videoId: 'a'.repeat(20), key: 'videos/a.mp4', status: 'indexed', clipsDone: 1 },
  complete: true,
  segments,
  truncated: false,
  segmentation: { threshold: 0.3, gap: 1, minDuration: 0, source: 'stored' },
});

describe('the timeline answer the page reads', () => {
  it('holds clip segments and per-person detection segments side by side', () => {
    const clip = { kind: 'clip', label: 'playing cricket', start: 0, end: 2, score: 0.9, mean: 0.8, windows: 1, thumbnail: 'https://x/t.jpg' };
    const person = { kind: 'person', person: 2, label: 'stand', start: 1, end: 3, score: 0.7, mean: 0.6, windows: 3, boxes: [{ t: 1, box: [0, 0, 1, 1] }] };
    const t = TimelineResponseSchema.parse(timeline([clip, person]));
    expect(t.segments.map((s) => (s.kind === 'person' ? `person ${s.person}` : s.label))).toEqual(['playing cricket', 'person 2']);
  });

  it('refuses a segment that is neither', () => {
    expect(TimelineResponseSchema.safeParse(timeline([{ label: 'x', start: 0 }])).success).toBe(false);
  });
});
