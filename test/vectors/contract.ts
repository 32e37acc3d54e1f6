/**
 * What every vector index promises (core/vectors/port.ts), as one suite run against each
 * implementation: the in-memory one, the embedded local store and the S3 Vectors adapter.
 */
import { describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import type { Moment, MomentVector, VectorIndex, VectorSpace } from '../../core/vectors/port.ts';

export interface Subject {
  index: VectorIndex;
  /** Another handle on the same storage (another process's view), where the store has one. */
  reopen?: () => VectorIndex;
  close(): Promise<void>;
}

/** A deterministic pseudo-random unit-ish vector per seed. */
export function vectorOf(seed: number, dimension = 16): Float32Array {
  const v = new Float32Array(dimension);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < dimension; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    v[i] = x / 2 ** 32 - 0.5;
  }
  return v;
}

export function windowMoments(videoId: string, revision: string, seeds: number[], firstStart = 0): MomentVector[] {
  return seeds.map((seed, i) => ({
    moment: { videoId, revision, kind: 'window', start: firstStart + i * 2, end: firstStart + i * 2 + 2 } satisfies Moment,
    vector: vectorOf(seed),
  }));
}

const SPACE: VectorSpace = 'window.clip';

export function vectorIndexContract(name: string, open: () => Promise<Subject>, options: { reopens?: boolean } = {}): void {
  describe(`${name}: the vector index contract`, () => {
    const withIndex = (fn: (s: Subject) => Promise<void>) => async () => {
      const s = await open();
      try {
        await fn(s);
      } finally {
        await s.close();
      }
    };

    it('finds a stored moment first for its own vector, with similarity 1, best first', withIndex(async ({ index }) => {
      await index.putPart(SPACE, { videoId: 'a', revision: 'r1', part: 0 }, windowMoments('a', 'r1', [1, 2, 3]));
      await index.putPart(SPACE, { videoId: 'b', revision: 'r1', part: 0 }, windowMoments('b', 'r1', [4, 5]));
      const hits = await index.search(SPACE, { vector: vectorOf(5), limit: 3 });
      expect(hits).toHaveLength(3);
      expect(hits[0]!.moment).toEqual({ videoId: 'b', revision: 'r1', kind: 'window', start: 2, end: 4 });
      expect(hits[0]!.similarity).toBeCloseTo(1, 5);
      const sims = hits.map((h) => h.similarity);
      expect([...sims].sort((x, y) => y - x)).toEqual(sims);
    }));

    it('compares directions: a scaled vector finds the same moment', withIndex(async ({ index }) => {
      await index.putPart(SPACE, { videoId: 'a', revision: 'r1', part: 0 }, windowMoments('a', 'r1', [7, 8]));
      const scaled = vectorOf(8).map((x) => x * 40);
      const [hit] = await index.search(SPACE, { vector: scaled, limit: 1 });
      expect(hit!.moment.start).toBe(2);
      expect(hit!.similarity).toBeCloseTo(1, 5);
    }));

    it('replaces a part written again (a redelivered clip): nothing is duplicated', withIndex(async ({ index }) => {
      const part = { videoId: 'a', revision: 'r1', part: 3 };
      await index.putPart(SPACE, part, windowMoments('a', 'r1', [1, 2]));
      await index.putPart(SPACE, part, windowMoments('a', 'r1', [1, 2]));
      expect(await index.vectorsOf(SPACE, 'a')).toHaveLength(2);
      await index.putPart(SPACE, part, windowMoments('a', 'r1', [9]));
      const kept = await index.vectorsOf(SPACE, 'a');
      expect(kept).toHaveLength(1);
      expect(Array.from(kept[0]!.vector)).toEqual(Array.from(unit(vectorOf(9))).map((x) => expect.closeTo(x, 5)));
    }));

    it('keeps parts of one revision side by side, and lists a video in time order', withIndex(async ({ index }) => {
      await index.putPart(SPACE, { videoId: 'a', revision: 'r1', part: 1 }, windowMoments('a', 'r1', [3, 4], 60));
      await index.putPart(SPACE, { videoId: 'a', revision: 'r1', part: 0 }, windowMoments('a', 'r1', [1, 2], 0));
      const all = await index.vectorsOf(SPACE, 'a');
      expect(all.map((v) => v.moment.start)).toEqual([0, 2, 60, 62]);
      expect(await index.videos(SPACE)).toEqual(['a']);
    }));

    it('filters by video and by the current revision of each video', withIndex(async ({ index }) => {
      await index.putPart(SPACE, { videoId: 'a', revision: 'old', part: 0 }, windowMoments('a', 'old', [1]));
      await index.putPart(SPACE, { videoId: 'a', revision: 'new', part: 0 }, windowMoments('a', 'new', [1]));
      await index.putPart(SPACE, { videoId: 'b', revision: 'r', part: 0 }, windowMoments('b', 'r', [1]));
      const onlyB = await index.search(SPACE, { vector: vectorOf(1), limit: 10, videoId: 'b' });
      expect(onlyB.map((h) => h.moment.videoId)).toEqual(['b']);
      const current = await index.search(SPACE, { vector: vectorOf(1), limit: 10, revisions: new Map([['a', 'new'], ['b', 'r']]) });
      expect(current.map((h) => `${h.moment.videoId}@${h.moment.revision}`).sort()).toEqual(['a@new', 'b@r']);
    }));

    it('drops a replaced revision, or the whole video, in every space', withIndex(async ({ index }) => {
      await index.putPart(SPACE, { videoId: 'a', revision: 'old', part: 0 }, windowMoments('a', 'old', [1, 2]));
      await index.putPart(SPACE, { videoId: 'a', revision: 'new', part: 0 }, windowMoments('a', 'new', [3]));
      const person: MomentVector = { moment: { videoId: 'a', revision: 'old', kind: 'person', start: 1, end: 1, person: 2 }, vector: vectorOf(4, 8) };
      await index.putPart('person.action', { videoId: 'a', revision: 'old', part: 0 }, [person]);
      await index.putPart(SPACE, { videoId: 'b', revision: 'r', part: 0 }, windowMoments('b', 'r', [5]));
      expect(await index.removeVideo('a', 'new')).toBe(3);
      expect((await index.vectorsOf(SPACE, 'a')).map((v) => v.moment.revision)).toEqual(['new']);
      expect(await index.vectorsOf('person.action', 'a')).toEqual([]);
      expect(await index.removeVideo('a')).toBe(1);
      expect(await index.vectorsOf(SPACE, 'a')).toEqual([]);
      expect(await index.videos(SPACE)).toEqual(['b']);
    }));

    it('keeps person moments with their person, and spaces apart', withIndex(async ({ index }) => {
      const people: MomentVector[] = [1, 2].map((p) => ({ moment: { videoId: 'a', revision: 'r', kind: 'person', start: 3, end: 3, person: p }, vector: vectorOf(10 + p, 8) }));
      await index.putPart('person.clip', { videoId: 'a', revision: 'r', part: 0 }, people);
      const [hit] = await index.search('person.clip', { vector: vectorOf(12, 8), limit: 1 });
      expect(hit!.moment).toEqual({ videoId: 'a', revision: 'r', kind: 'person', start: 3, end: 3, person: 2 });
      expect(await index.search('window.clip', { vector: vectorOf(12, 8), limit: 5 })).toEqual([]);
    }));

    it('refuses vectors of different lengths in one part, and answers nothing for a query of another length', withIndex(async ({ index }) => {
      const mixed = [...windowMoments('a', 'r', [1]), { moment: { videoId: 'a', revision: 'r', kind: 'window' as const, start: 9, end: 11 }, vector: vectorOf(2, 8) }];
      await expect(index.putPart(SPACE, { videoId: 'a', revision: 'r', part: 0 }, mixed)).rejects.toSatisfy((e) => isVidxError(e, 'VECTOR_DIMENSION_MISMATCH'));
      await index.putPart(SPACE, { videoId: 'a', revision: 'r', part: 0 }, windowMoments('a', 'r', [1]));
      expect(await index.search(SPACE, { vector: vectorOf(1, 8), limit: 5 })).toEqual([]);
    }));

    it('refuses a limit outside 1..1000', withIndex(async ({ index }) => {
      for (const limit of [0, 1001, 2.5]) {
        await expect(index.search(SPACE, { vector: vectorOf(1), limit })).rejects.toSatisfy((e) => isVidxError(e, 'VECTOR_QUERY_INVALID'));
      }
    }));

    it.runIf(options.reopens)('shows what one handle wrote to another handle on the same storage', withIndex(async (s) => {
      const reader = s.reopen!();
      expect(await reader.search(SPACE, { vector: vectorOf(1), limit: 1 })).toEqual([]);
      await s.index.putPart(SPACE, { videoId: 'a', revision: 'r', part: 0 }, windowMoments('a', 'r', [1]));
      expect((await reader.search(SPACE, { vector: vectorOf(1), limit: 1 }))[0]?.moment.videoId).toBe('a');
      await s.index.removeVideo('a');
      expect(await reader.search(SPACE, { vector: vectorOf(1), limit: 1 })).toEqual([]);
    }));
  });
}

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}
