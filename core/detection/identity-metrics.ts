/**
 * How well a tracker keeps identities, against ground truth: IDF1 and ID switches, from their
 * definitions. Both see a sequence of frames (here keyframes), each with boxes labelled by
 * identity (ground truth: who it really is; prediction: the tracker's id). A ground-truth box and a
 * predicted box can correspond on a frame when their IoU is at least `minIou` (0.5, as MOT).
 *
 * IDF1 (Ristani et al., "Performance Measures and a Data Set for Multi-Target, Multi-Camera
 * Tracking", ECCV 2016 workshops): every ground-truth trajectory is matched to at most one predicted
 * trajectory, one to one over the whole sequence (a bipartite matching), so as to maximize the
 * identity true positives IDTP: the frames on which the two matched trajectories' boxes correspond.
 * IDFN = ground-truth boxes - IDTP, IDFP = predicted boxes - IDTP, and
 * IDF1 = 2 IDTP / (2 IDTP + IDFP + IDFN) = 2 IDTP / (ground-truth boxes + predicted boxes).
 *
 * ID switches (IDSW of CLEAR MOT, Bernardin and Stiefelhagen, 2008, as py-motmetrics counts them):
 * frame by frame, a ground-truth object keeps the prediction it was last matched to while that one
 * is on the frame and still corresponds; the remaining objects and predictions are matched by an
 * optimal assignment (max IoU, pairs below minIou refused). A switch is an object matched to a
 * predicted id other than the one it was last matched to (on any earlier frame).
 */
import { assignWithLimit, solveAssignment } from './assignment.ts';
import { iou } from './boxes.ts';
import type { Box } from './schema.ts';

export interface LabelledBox {
  id: number;
  box: Box;
}

/** Per frame, the boxes on it with their identities (an identity at most once per frame). */
export type Trajectories = ReadonlyArray<readonly LabelledBox[]>;

export const IDENTITY_MIN_IOU = 0.5;

export interface Idf1 {
  idf1: number;
  idtp: number;
  idfp: number;
  idfn: number;
}

function checkFrames(gt: Trajectories, pred: Trajectories): void {
  if (gt.length !== pred.length) throw new RangeError(`ground truth has ${gt.length} frames, the prediction ${pred.length}`);
}

export function idf1(gt: Trajectories, pred: Trajectories, minIou = IDENTITY_MIN_IOU): Idf1 {
  checkFrames(gt, pred);
  const gtIds = [...new Set(gt.flatMap((f) => f.map((b) => b.id)))];
  const predIds = [...new Set(pred.flatMap((f) => f.map((b) => b.id)))];
  const gi = new Map(gtIds.map((id, i) => [id, i]));
  const pi = new Map(predIds.map((id, i) => [id, i]));
  // Frames on which each (ground truth, prediction) pair of trajectories corresponds.
  const together = gtIds.map(() => new Array<number>(predIds.length).fill(0));
  gt.forEach((frame, f) => {
    for (const g of frame) for (const p of pred[f]!) if (iou(g.box, p.box) >= minIou) together[gi.get(g.id)!]![pi.get(p.id)!]!++;
  });
  const gtBoxes = gt.reduce((n, f) => n + f.length, 0);
  const predBoxes = pred.reduce((n, f) => n + f.length, 0);
  let idtp = 0;
  if (gtIds.length > 0 && predIds.length > 0) {
    const assigned = solveAssignment(together.map((row) => row.map((c) => -c)));
    assigned.forEach((j, i) => (idtp += j >= 0 ? together[i]![j]! : 0));
  }
  const total = gtBoxes + predBoxes;
  return { idf1: total === 0 ? 1 : (2 * idtp) / total, idtp, idfp: predBoxes - idtp, idfn: gtBoxes - idtp };
}

export interface ClearMotIdentity {
  /** ID switches. */
  idsw: number;
  /** Object-prediction correspondences over all frames (CLEAR MOT's matches). */
  matches: number;
}

export function idSwitches(gt: Trajectories, pred: Trajectories, minIou = IDENTITY_MIN_IOU): ClearMotIdentity {
  checkFrames(gt, pred);
  const last = new Map<number, number>(); // ground-truth id -> the predicted id it was last matched to
  let idsw = 0;
  let matches = 0;
  gt.forEach((objects, f) => {
    const hyps = pred[f]!;
    const objTaken = new Set<number>();
    const hypTaken = new Set<number>();
    // Keep last frame's correspondences that still hold.
    objects.forEach((o, oi) => {
      const was = last.get(o.id);
      if (was === undefined) return;
      const hi = hyps.findIndex((h) => h.id === was);
      if (hi >= 0 && !hypTaken.has(hi) && iou(o.box, hyps[hi]!.box) >= minIou) {
        objTaken.add(oi);
        hypTaken.add(hi);
        matches++;
      }
    });
    const freeObj = objects.map((_, i) => i).filter((i) => !objTaken.has(i));
    const freeHyp = hyps.map((_, i) => i).filter((i) => !hypTaken.has(i));
    const cost = freeObj.map((oi) => freeHyp.map((hi) => 1 - iou(objects[oi]!.box, hyps[hi]!.box)));
    // The limit is nudged up so a pair at exactly minIou survives 1 - IoU rounding; IoU is checked below.
    const { matches: pairs } = assignWithLimit(cost, 1 - minIou + 1e-9, freeHyp.length);
    for (const [a, b] of pairs) {
      const o = objects[freeObj[a]!]!;
      const h = hyps[freeHyp[b]!]!;
      if (iou(o.box, h.box) < minIou) continue;
      const was = last.get(o.id);
      if (was !== undefined && was !== h.id) idsw++;
      last.set(o.id, h.id);
      matches++;
    }
  });
  return { idsw, matches };
}
