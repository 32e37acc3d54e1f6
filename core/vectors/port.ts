/**
 * The vector index: embeddings of moments, kept beside the label index so questions no label
 * names can be answered without running the models again.
 *
 * A moment is a window of a video (its middle-frame CLIP embedding, the action model's pooled
 * features) or a person on a keyframe (the CLIP embedding of their crop, the AVA model's pooled
 * features of their box). Each kind of vector lives in its own space: only vectors of one space
 * are compared. Vectors are written per part of a video revision (a clip), so a redelivered clip
 * overwrites what it wrote before and nothing is duplicated.
 */

/** What a vector describes. */
export type MomentKind = 'window' | 'person';
/** Which model made it: CLIP's image tower (comparable with its text tower) or the action model. */
export type Embedder = 'clip' | 'action';

export const VECTOR_SPACES = ['window.clip', 'window.action', 'person.clip', 'person.action'] as const;
export type VectorSpace = (typeof VECTOR_SPACES)[number];

export function spaceOf(kind: MomentKind, embedder: Embedder): VectorSpace {
  return `${kind}.${embedder}`;
}

export function kindOfSpace(space: VectorSpace): MomentKind {
  return space.startsWith('person.') ? 'person' : 'window';
}

/** Where a vector sits in the archive: the facts a hit must carry back to the user. */
export interface Moment {
  videoId: string;
  revision: string;
  kind: MomentKind;
  /** Seconds from the start of the video. */
  start: number;
  end: number;
  /** The person's track id, for person moments. */
  person?: number | undefined;
}

export interface MomentVector {
  moment: Moment;
  /** Any length; the store compares directions (cosine), so it need not be normalized. */
  vector: Float32Array;
}

/** One write unit: a part (clip) of a video revision. Writing it again replaces it. */
export interface VectorPart {
  videoId: string;
  revision: string;
  part: number;
}

export interface VectorQuery {
  vector: Float32Array;
  /** How many hits at most (1..1000). */
  limit: number;
  /** Only moments of this video. */
  videoId?: string | undefined;
  /** Only the moments of these revisions of their videos (the current ones): videoId -> revision. */
  revisions?: ReadonlyMap<string, string> | undefined;
}

export interface VectorHit {
  moment: Moment;
  /** Cosine similarity, -1..1. */
  similarity: number;
}

export interface VectorIndex {
  /** Stores a part's vectors, replacing what that part held before. All vectors of one call share a length. */
  putPart(space: VectorSpace, part: VectorPart, vectors: readonly MomentVector[]): Promise<void>;
  /** The nearest moments by cosine similarity, best first. */
  search(space: VectorSpace, query: VectorQuery): Promise<VectorHit[]>;
  /** Every vector of a video (of one revision when given), in time order. */
  vectorsOf(space: VectorSpace, videoId: string, revision?: string): Promise<MomentVector[]>;
  /** The ids of the videos that have vectors in a space. */
  videos(space: VectorSpace): Promise<string[]>;
  /**
   * Drops a video's vectors in every space: all of them, or all but those of `keepRevision` (a
   * replacement's new revision). Returns how many were dropped.
   */
  removeVideo(videoId: string, keepRevision?: string): Promise<number>;
}

/** Cosine similarity of two vectors of the same length (0 when either is all zeros). */
export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The vector scaled to length 1 (a copy; all zeros stay zeros). */
export function normalized(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  const out = new Float32Array(v.length);
  if (n === 0) return out;
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * s;
  return out;
}
