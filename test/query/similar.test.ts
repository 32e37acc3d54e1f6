/**
 * GET /similar's use case over the in-memory vector index: the moment at t is the window holding
 * it, the moment itself comes first, only current revisions answer, and a video without vectors
 * or unknown to the index is a typed error.
 */
import { describe, expect, it } from 'vitest';
import { MemoryVectorIndex } from '../../core/vectors/memory.ts';
import { momentAt, similarMoments } from '../../core/query/similar.ts';
import { parseMomentRef } from '../../cli/commands/similar.ts';
import type { MomentVector } from '../../core/vectors/port.ts';

const window = (videoId: string, revision: string, start: number, v: number[]): MomentVector => ({
  moment: { videoId, revision, kind: 'window', start, end: start + 2 },
  vector: Float32Array.from(v),
});

async function archive() {
  const vectors = new MemoryVectorIndex();
  await vectors.putPart('window.action', { videoId: 'a', revision: 'r1', part: 0 }, [window('a', 'r1', 0, [1, 0, 0]), window('a', 'r1', 2, [0, 1, 0])]);
  await vectors.putPart('window.action', { videoId: 'b', revision: 'r1', part: 0 }, [window('b', 'r1', 0, [0.9, 0.1, 0])]);
  // An older revision of b, not yet removed: it must not answer.
  await vectors.putPart('window.action', { videoId: 'b', revision: 'old', part: 0 }, [window('b', 'old', 0, [1, 0, 0])]);
  const current = new Map([['a', 'r1'], ['b', 'r1']]);
  return { vectors, revisionOf: async (id: string) => current.get(id) };
}

describe('similar moments', () => {
  it('the moment at t is the window holding t, else the nearest by its middle', () => {
    const vs = [window('a', 'r', 0, [1]), window('a', 'r', 2, [1])];
    expect(momentAt(vs, 2.5)?.moment.start).toBe(2);
    expect(momentAt(vs, 9)?.moment.start).toBe(2);
  });

  it('returns the moment itself first, then other videos\' current revisions only', async () => {
    const { vectors, revisionOf } = await archive();
    const r = await similarMoments(vectors, revisionOf, { videoId: 'a', t: 1, limit: 10 });
    expect(r.space).toBe('window.action');
    expect(r.hits[0]).toMatchObject({ videoId: 'a', start: 0, similarity: 1 });
    expect(r.hits[1]).toMatchObject({ videoId: 'b', start: 0 });
    expect(r.hits.filter((h) => h.videoId === 'b')).toHaveLength(1);
  });

  it('an unknown video is VIDEO_NOT_FOUND, a video without vectors SIMILAR_NO_MOMENT', async () => {
    const { vectors } = await archive();
    await expect(similarMoments(vectors, async () => undefined, { videoId: 'x', t: 0, limit: 5 })).rejects.toMatchObject({ code: 'VIDEO_NOT_FOUND' });
    await expect(similarMoments(vectors, async () => 'r9', { videoId: 'c', t: 0, limit: 5 })).rejects.toMatchObject({ code: 'SIMILAR_NO_MOMENT' });
  });

  it('`vidx similar` reads <videoId>@<seconds>', () => {
    expect(parseMomentRef('abc@12.5')).toEqual({ videoId: 'abc', t: '12.5' });
    expect(() => parseMomentRef('abc')).toThrow(/videoId>@<seconds/);
  });
});
