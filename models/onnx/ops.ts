/**
 * Terse graph writing for the detection graphs: every node gets a unique name from a hint and
 * a counter, constants are one call. A thin layer over OnnxGraphBuilder, nothing more.
 */
import type { AttributeValue, OnnxGraphBuilder } from './graph-builder.ts';

/** TensorProto.DataType codes Cast needs. */
export const CAST_TO = { float32: 1, int64: 7 } as const;

export class GraphOps {
  private counter = 0;

  constructor(readonly graph: OnnxGraphBuilder) {}

  private fresh(hint: string): string {
    return `${hint}__${this.counter++}`;
  }

  /** One node, one output. */
  op(type: string, inputs: readonly string[], hint: string, attributes: Record<string, AttributeValue> = {}): string {
    return this.graph.node(type, inputs, this.fresh(hint), attributes);
  }

  /** One node, `count` outputs. */
  ops(type: string, inputs: readonly string[], count: number, hint: string, attributes: Record<string, AttributeValue> = {}): string[] {
    const outputs = Array.from({ length: count }, (_, i) => this.fresh(`${hint}.${i}`));
    return this.graph.nodeMulti(type, inputs, outputs, attributes);
  }

  /** A float32 constant; dims [] is a scalar. */
  f32(values: readonly number[], dims: readonly number[] = [values.length], hint = 'const'): string {
    return this.graph.initializer(this.fresh(hint), dims, Float32Array.from(values));
  }

  /** An int64 constant; dims [] is a scalar. */
  i64(values: readonly number[], dims: readonly number[] = [values.length], hint = 'const'): string {
    return this.graph.int64Initializer(this.fresh(hint), dims, values);
  }

  add(a: string, b: string, hint = 'add'): string {
    return this.op('Add', [a, b], hint);
  }

  sub(a: string, b: string, hint = 'sub'): string {
    return this.op('Sub', [a, b], hint);
  }

  mul(a: string, b: string, hint = 'mul'): string {
    return this.op('Mul', [a, b], hint);
  }

  div(a: string, b: string, hint = 'div'): string {
    return this.op('Div', [a, b], hint);
  }

  reshape(x: string, shape: readonly number[], hint = 'reshape'): string {
    return this.op('Reshape', [x, this.i64(shape)], hint);
  }

  unsqueeze(x: string, axes: readonly number[], hint = 'unsqueeze'): string {
    return this.op('Unsqueeze', [x, this.i64(axes)], hint);
  }

  concat(xs: readonly string[], axis: number, hint = 'concat'): string {
    return this.op('Concat', xs, hint, { axis: { int: axis } });
  }

  /** Splits `x` along `axis` into `parts` equal pieces. */
  split(x: string, axis: number, sizes: readonly number[], hint = 'split'): string[] {
    return this.ops('Split', [x, this.i64(sizes)], sizes.length, hint, { axis: { int: axis } });
  }

  /** Gather along `axis`. */
  gather(x: string, indices: string, axis = 0, hint = 'gather'): string {
    return this.op('Gather', [x, indices], hint, { axis: { int: axis } });
  }

  cast(x: string, to: keyof typeof CAST_TO, hint = 'cast'): string {
    return this.op('Cast', [x], hint, { to: { int: CAST_TO[to] } });
  }

  /** Dimension `axis` of x's shape, as an int64 [1]. */
  dim(x: string, axis: number, hint = 'dim'): string {
    return this.op('Shape', [x], hint, { start: { int: axis }, end: { int: axis + 1 } });
  }

  /** The indices (int64 [n]) where the boolean [n] mask is true. */
  where(mask: string, hint = 'nonzero'): string {
    return this.reshape(this.op('NonZero', [mask], hint), [-1], `${hint}.flat`);
  }
}
