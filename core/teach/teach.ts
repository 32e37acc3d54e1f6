/**
 * Teaching an action from stored vectors: the examples' features are read from the vector index
 * (window.action for clip-level actions, person.action for person-level ones), a linear probe is
 * fitted and cross-validated, and every stored moment of the archive is re-scored with it. No
 * model runs: only the vectors kept at index time are read.
 */
import { VidxError } from '../errors.ts';
import type { MomentVector, VectorIndex, VectorSpace } from '../vectors/port.ts';
import { crossValidate, fitLinearProbe, probability, type CrossValidation, type Example, type LinearProbe } from './linear-probe.ts';

/** A marked moment: a whole video when no range is given; one person's boxes with `person`. */
export interface ExampleRef {
  videoId: string;
  start?: number | undefined;
  end?: number | undefined;
  person?: number | undefined;
}

export interface TeachRequest {
  name: string;
  positives: readonly ExampleRef[];
  negatives: readonly ExampleRef[];
  /** Person-level (per-box features) instead of clip-level (per-window features). */
  person?: boolean;
}

export interface TaughtAction {
  name: string;
  space: VectorSpace;
  probe: LinearProbe;
  /** Vectors used: positive and negative. */
  examples: { positive: number; negative: number };
  /** Held-out accuracy over the marked moments (each one held out whole); absent with too few to fold. */
  validation?: CrossValidation;
  trainMs: number;
}

export type RevisionOf = (videoId: string) => Promise<string | undefined>;

/** The stored vectors of the moments a reference marks (of the video's current revision). */
export async function vectorsOfRef(vectors: VectorIndex, space: VectorSpace, revisionOf: RevisionOf, ref: ExampleRef): Promise<MomentVector[]> {
  const revision = await revisionOf(ref.videoId);
  if (revision === undefined) throw new VidxError('TEACH_BAD_EXAMPLES', `no video with id ${ref.videoId}`);
  const all = await vectors.vectorsOf(space, ref.videoId, revision);
  return all.filter((v) => {
    const m = v.moment;
    if (ref.person !== undefined && m.person !== ref.person) return false;
    // A moment counts when it overlaps the marked range.
    return (ref.start === undefined || m.end > ref.start) && (ref.end === undefined || m.start < ref.end);
  });
}

export async function teachAction(vectors: VectorIndex, revisionOf: RevisionOf, r: TeachRequest): Promise<TaughtAction> {
  const t0 = performance.now();
  const space: VectorSpace = r.person ? 'person.action' : 'window.action';
  const examples: Example[] = [];
  const groups: string[] = [];
  const add = async (refs: readonly ExampleRef[], positive: boolean) => {
    for (const [i, ref] of refs.entries()) {
      const found = await vectorsOfRef(vectors, space, revisionOf, ref);
      if (found.length === 0) {
        throw new VidxError('TEACH_BAD_EXAMPLES', `${ref.videoId}${ref.start === undefined ? '' : `@${ref.start}-${ref.end ?? ''}`} has no stored ${space} vectors`, {
          hint: 'mark moments of videos indexed with vectors on (re-index older ones)',
        });
      }
      for (const v of found) {
        examples.push({ vector: v.vector, positive });
        groups.push(`${positive ? 'p' : 'n'}${i}`);
      }
    }
  };
  await add(r.positives, true);
  await add(r.negatives, false);
  const { probe } = fitLinearProbe(examples);
  let validation: CrossValidation | undefined;
  if (Math.min(r.positives.length, r.negatives.length) >= 2) validation = crossValidate(examples, { groups });
  const positive = examples.filter((e) => e.positive).length;
  return { name: r.name, space, probe, examples: { positive, negative: examples.length - positive }, ...(validation ? { validation } : {}), trainMs: performance.now() - t0 };
}

export interface ScoredMoment {
  videoId: string;
  revision: string;
  start: number;
  end: number;
  person?: number;
  /** The probe's probability that the moment shows the action. */
  score: number;
}

/** Every stored moment of one video's current revision, scored by the probe, in time order. */
export async function scoreVideo(vectors: VectorIndex, revisionOf: RevisionOf, action: Pick<TaughtAction, 'space' | 'probe'>, videoId: string): Promise<ScoredMoment[]> {
  const revision = await revisionOf(videoId);
  if (revision === undefined) return [];
  const dimension = action.probe.weights.length;
  return (await vectors.vectorsOf(action.space, videoId, revision))
    .filter((v) => v.vector.length === dimension)
    .map((v) => ({
      videoId,
      revision,
      start: v.moment.start,
      end: v.moment.end,
      ...(v.moment.person === undefined ? {} : { person: v.moment.person }),
      score: probability(action.probe, v.vector),
    }));
}

/** The whole archive re-scored: every video with vectors in the action's space. */
export async function scoreArchive(vectors: VectorIndex, revisionOf: RevisionOf, action: Pick<TaughtAction, 'space' | 'probe'>): Promise<Map<string, ScoredMoment[]>> {
  const out = new Map<string, ScoredMoment[]>();
  for (const id of await vectors.videos(action.space)) out.set(id, await scoreVideo(vectors, revisionOf, action, id));
  return out;
}
