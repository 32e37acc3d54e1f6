/**
 * Exact nearest-neighbour search over vectors held in memory: every stored vector is normalized
 * once, a query is one pass of dot products. It is the vector index of unit tests and the engine of
 * the embedded local store (adapters/local-vectors.ts), which adds files underneath.
 */
import { VidxError } from '../errors.ts';
import { VECTOR_SPACES, normalized, type Moment, type MomentVector, type VectorHit, type VectorIndex, type VectorPart, type VectorQuery, type VectorSpace } from './port.ts';

export const MAX_VECTOR_HITS = 1000;

/** A part as held for search: its moments and their unit vectors, row after row. */
export interface HeldPart extends VectorPart {
  dimension: number;
  moments: Moment[];
  /** moments.length rows of `dimension` values, each of length 1 (or all zeros). */
  unit: Float32Array;
}

export function partKey(p: VectorPart): string {
  return `${p.videoId}\u0000${p.revision}\u0000${p.part}`;
}

export function holdPart(part: VectorPart, vectors: readonly MomentVector[]): HeldPart {
  const dimension = vectors[0]?.vector.length ?? 0;
  const unit = new Float32Array(vectors.length * dimension);
  vectors.forEach((v, i) => {
    if (v.vector.length !== dimension) {
      throw new VidxError('VECTOR_DIMENSION_MISMATCH', `vectors of one part must share a length: ${v.vector.length} after ${dimension}`, {
        hint: 'write the vectors of each space separately',
      });
    }
    if (v.moment.videoId !== part.videoId || v.moment.revision !== part.revision) {
      throw new VidxError('VECTOR_PART_MISMATCH', `a moment of ${v.moment.videoId}@${v.moment.revision} was written in the part of ${part.videoId}@${part.revision}`, {
        hint: 'write each video revision\'s vectors in its own parts',
      });
    }
    unit.set(normalized(v.vector), i * dimension);
  });
  return { ...part, dimension, moments: vectors.map((v) => ({ ...v.moment })), unit };
}

/** The best `limit` hits seen so far, kept sorted (limit is small next to the vectors scanned). */
class TopHits {
  readonly hits: VectorHit[] = [];
  constructor(private readonly limit: number) {}

  get floor(): number {
    return this.hits.length < this.limit ? -Infinity : this.hits[this.hits.length - 1]!.similarity;
  }

  offer(moment: Moment, similarity: number): void {
    if (similarity <= this.floor) return;
    let i = this.hits.length;
    while (i > 0 && this.hits[i - 1]!.similarity < similarity) i--;
    this.hits.splice(i, 0, { moment, similarity });
    if (this.hits.length > this.limit) this.hits.pop();
  }
}

/** The dot product of q with the row of `rows` starting at `base` (four sums: fewer dependent adds). */
function dotAt(rows: Float32Array, base: number, q: Float32Array, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < d; i += 4) {
    s0 += rows[base + i]! * q[i]!;
    s1 += rows[base + i + 1]! * q[i + 1]!;
    s2 += rows[base + i + 2]! * q[i + 2]!;
    s3 += rows[base + i + 3]! * q[i + 3]!;
  }
  for (; i < d; i++) s0 += rows[base + i]! * q[i]!;
  return s0 + s1 + s2 + s3;
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_VECTOR_HITS) {
    throw new VidxError('VECTOR_QUERY_INVALID', `limit must be a whole number from 1 to ${MAX_VECTOR_HITS}, not ${limit}`, { hint: 'ask for fewer hits' });
  }
}

export class MemoryVectorIndex implements VectorIndex {
  protected readonly spaces = new Map<VectorSpace, Map<string, HeldPart>>(VECTOR_SPACES.map((s) => [s, new Map()]));

  async putPart(space: VectorSpace, part: VectorPart, vectors: readonly MomentVector[]): Promise<void> {
    this.hold(space, holdPart(part, vectors));
  }

  protected hold(space: VectorSpace, held: HeldPart): void {
    const parts = this.spaces.get(space)!;
    if (held.moments.length === 0) parts.delete(partKey(held));
    else parts.set(partKey(held), held);
  }

  protected partsOf(space: VectorSpace): Iterable<HeldPart> {
    return this.spaces.get(space)!.values();
  }

  async search(space: VectorSpace, query: VectorQuery): Promise<VectorHit[]> {
    checkLimit(query.limit);
    const q = normalized(query.vector);
    const top = new TopHits(query.limit);
    for (const part of this.partsOf(space)) {
      if (part.dimension !== q.length) continue;
      if (query.videoId !== undefined && part.videoId !== query.videoId) continue;
      const current = query.revisions?.get(part.videoId);
      if (query.revisions && current !== part.revision) continue;
      const { dimension: d, unit, moments } = part;
      for (let row = 0, base = 0; row < moments.length; row++, base += d) {
        const dot = dotAt(unit, base, q, d);
        if (dot > top.floor) top.offer(moments[row]!, dot);
      }
    }
    return top.hits.map((h) => ({ moment: { ...h.moment }, similarity: h.similarity }));
  }

  async vectorsOf(space: VectorSpace, videoId: string, revision?: string): Promise<MomentVector[]> {
    const out: MomentVector[] = [];
    for (const part of this.partsOf(space)) {
      if (part.videoId !== videoId || (revision !== undefined && part.revision !== revision)) continue;
      part.moments.forEach((moment, row) => out.push({ moment: { ...moment }, vector: part.unit.slice(row * part.dimension, (row + 1) * part.dimension) }));
    }
    return out.sort((a, b) => a.moment.start - b.moment.start || (a.moment.person ?? -1) - (b.moment.person ?? -1));
  }

  async videos(space: VectorSpace): Promise<string[]> {
    return [...new Set([...this.partsOf(space)].map((p) => p.videoId))].sort();
  }

  async removeVideo(videoId: string, keepRevision?: string): Promise<number> {
    let dropped = 0;
    for (const parts of this.spaces.values()) {
      for (const [key, part] of parts) {
        if (part.videoId !== videoId || part.revision === keepRevision) continue;
        dropped += part.moments.length;
        parts.delete(key);
      }
    }
    return dropped;
  }
}
