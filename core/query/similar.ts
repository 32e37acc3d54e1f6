/**
 * Moments like a given one: the vector stored for the moment at `t` seconds of a video (a window,
 * or one person's box on the keyframe nearest `t`), searched across every video's vectors of the
 * same space. The moment itself has similarity 1 with its own vector, so it comes first.
 *
 * Only vectors of each video's current revision answer: a revision's vectors are written clip by
 * clip and older ones are removed once the new one is indexed, so for a while both exist.
 */
import { VidxError } from '../errors.ts';
import type { Moment, MomentVector, VectorHit, VectorIndex, VectorSpace } from '../vectors/port.ts';

export interface SimilarRequest {
  videoId: string;
  t: number;
  person?: number | undefined;
  limit: number;
}

export interface SimilarHit {
  videoId: string;
  kind: Moment['kind'];
  start: number;
  end: number;
  person?: number;
  /** Cosine similarity of the two vectors, -1..1 (1 = the same direction). */
  similarity: number;
}

export interface SimilarResponse {
  videoId: string;
  t: number;
  person?: number;
  /** Which vectors were compared (e.g. window.clip: CLIP image embeddings of windows). */
  space: VectorSpace;
  hits: SimilarHit[];
}

/** The spaces a query of this kind may use, best first: CLIP where it was kept, else the action model's features. */
function spacesFor(person: boolean): VectorSpace[] {
  return person ? ['person.clip', 'person.action'] : ['window.clip', 'window.action'];
}

/** The stored moment at `t`: the one whose span holds it, else the nearest by its middle. */
export function momentAt(vectors: readonly MomentVector[], t: number, person?: number): MomentVector | undefined {
  const candidates = person === undefined ? vectors : vectors.filter((v) => v.moment.person === person);
  let best: MomentVector | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const v of candidates) {
    const { start, end } = v.moment;
    const distance = t >= start && t < end ? 0 : Math.abs((start + end) / 2 - t);
    if (distance < bestDistance) {
      best = v;
      bestDistance = distance;
    }
  }
  return best;
}

export function hitView(h: VectorHit): SimilarHit {
  return {
    videoId: h.moment.videoId,
    kind: h.moment.kind,
    start: h.moment.start,
    end: h.moment.end,
    ...(h.moment.person === undefined ? {} : { person: h.moment.person }),
    similarity: Math.round(h.similarity * 1e4) / 1e4,
  };
}

/** Keeps the hits of each video's current revision (`revisionOf` answers undefined for a video not in the index). */
export async function currentHits(hits: readonly VectorHit[], revisionOf: (videoId: string) => Promise<string | undefined>): Promise<VectorHit[]> {
  const revisions = new Map<string, Promise<string | undefined>>();
  const checked = await Promise.all(hits.map(async (h) => {
    let r = revisions.get(h.moment.videoId);
    if (!r) revisions.set(h.moment.videoId, (r = revisionOf(h.moment.videoId)));
    return (await r) === h.moment.revision;
  }));
  return hits.filter((_, i) => checked[i]);
}

export async function similarMoments(
  vectors: VectorIndex,
  revisionOf: (videoId: string) => Promise<string | undefined>,
  p: SimilarRequest,
): Promise<SimilarResponse> {
  const revision = await revisionOf(p.videoId);
  if (revision === undefined) throw new VidxError('VIDEO_NOT_FOUND', `no video with id ${p.videoId}`, { hint: 'list videos with GET /videos' });
  for (const space of spacesFor(p.person !== undefined)) {
    const own = await vectors.vectorsOf(space, p.videoId, revision);
    if (own.length === 0) continue;
    const at = momentAt(own, p.t, p.person);
    if (!at) continue;
    // A few more than asked: hits of superseded revisions are dropped after the search.
    const found = await vectors.search(space, { vector: at.vector, limit: Math.min(1000, p.limit * 2 + 10) });
    const hits = (await currentHits(found, revisionOf)).slice(0, p.limit).map(hitView);
    return { videoId: p.videoId, t: p.t, ...(p.person === undefined ? {} : { person: p.person }), space, hits };
  }
  const what = p.person === undefined ? 'moment' : `person ${p.person}`;
  throw new VidxError('SIMILAR_NO_MOMENT', `video ${p.videoId} has no stored ${what} vectors near ${p.t}s`, {
    hint: 'vectors are kept for videos indexed with vectors on; re-index older ones (vidx reindex)',
  });
}
