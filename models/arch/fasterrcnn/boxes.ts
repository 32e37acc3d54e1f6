/** torchvision.models.detection._utils.BoxCoder.decode and box_ops helpers, as ONNX nodes on box columns. */
import type { GraphOps } from '../../onnx/ops.ts';

/** x1, y1, x2, y2 as four broadcastable tensors. */
export type BoxColumns = [string, string, string, string];

/** BoxCoder's default clip on dw/dh: log(1000 / 16). */
const BBOX_XFORM_CLIP = Math.log(1000 / 16);

/**
 * BoxCoder.decode_single, in torchvision's order of float operations: widths and centres of the
 * reference boxes, deltas divided by the weights, dw/dh clamped, centre + size, then corners.
 */
export function decodeBoxes(o: GraphOps, ref: BoxColumns, deltas: BoxColumns, weights: readonly [number, number, number, number], hint: string): BoxColumns {
  const [x1, y1, x2, y2] = ref;
  const half = o.f32([0.5], [], `${hint}.half`);
  const widths = o.sub(x2, x1, `${hint}.w`);
  const heights = o.sub(y2, y1, `${hint}.h`);
  const ctrX = o.add(x1, o.mul(half, widths), `${hint}.cx`);
  const ctrY = o.add(y1, o.mul(half, heights), `${hint}.cy`);
  const scaled = deltas.map((d, i) => o.div(d, o.f32([weights[i]!], [], `${hint}.weight`), `${hint}.d${i}`));
  const clip = o.f32([BBOX_XFORM_CLIP], [], `${hint}.clip`);
  const dw = o.op('Min', [scaled[2]!, clip], `${hint}.dw`);
  const dh = o.op('Min', [scaled[3]!, clip], `${hint}.dh`);
  const predCx = o.add(o.mul(scaled[0]!, widths), ctrX, `${hint}.pcx`);
  const predCy = o.add(o.mul(scaled[1]!, heights), ctrY, `${hint}.pcy`);
  const predW = o.mul(o.op('Exp', [dw], `${hint}.ew`), widths, `${hint}.pw`);
  const predH = o.mul(o.op('Exp', [dh], `${hint}.eh`), heights, `${hint}.ph`);
  const halfW = o.mul(half, predW, `${hint}.hw`);
  const halfH = o.mul(half, predH, `${hint}.hh`);
  return [o.sub(predCx, halfW), o.sub(predCy, halfH), o.add(predCx, halfW), o.add(predCy, halfH)];
}

/** The image's height and width as float32 scalars (for clipping). */
export function imageExtent(o: GraphOps, image: string): { height: string; width: string } {
  const scalar = (axis: number) => o.cast(o.reshape(o.dim(image, axis), [], `image.dim${axis}`), 'float32', `image.extent${axis}`);
  return { height: scalar(2), width: scalar(3) };
}

/** box_ops.clip_boxes_to_image: x into [0, width], y into [0, height]. */
export function clipBoxes(o: GraphOps, box: BoxColumns, extent: { height: string; width: string }, hint: string): BoxColumns {
  const zero = o.f32([0], [], `${hint}.zero`);
  const clip = (v: string, max: string) => o.op('Clip', [v, zero, max], `${hint}.clip`);
  return [clip(box[0], extent.width), clip(box[1], extent.height), clip(box[2], extent.width), clip(box[3], extent.height)];
}

/** box_ops.remove_small_boxes' mask: width >= minSize and height >= minSize. */
export function largeEnough(o: GraphOps, box: BoxColumns, minSize: number, hint: string): string {
  const min = o.f32([minSize], [], `${hint}.min`);
  const wide = o.op('GreaterOrEqual', [o.sub(box[2], box[0]), min], `${hint}.wide`);
  const tall = o.op('GreaterOrEqual', [o.sub(box[3], box[1]), min], `${hint}.tall`);
  return o.op('And', [wide, tall], `${hint}.large`);
}
