/**
 * A tiny model bundle with the real interface (i3d-style float entry `video` [N, 3, T, C, C],
 * its uint8 entry, `logits` [N, classes]) whose network is one Gemm over every pixel: for
 * engine tests of binding and batching, not of the architecture.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ManifestSchema, type Manifest } from '../../core/model/manifest.ts';
import { OnnxGraphBuilder } from '../../models/onnx/graph-builder.ts';
import { onnx } from '../../models/onnx/proto.ts';
import { uint8Entry } from '../../models/onnx/uint8-entry.ts';
import { i3dManifest } from '../video/manifests.ts';

export async function writeTinyBundle(dir: string, o: { T?: number; C?: number } = {}): Promise<{ manifestPath: string; manifest: Manifest }> {
  const base = i3dManifest({ T: o.T ?? 4, C: o.C ?? 16 });
  const [, , T, C] = base.inputs[0]!.shape;
  const classes = base.output.classes;
  const features = 3 * T * C * C;
  const g = new OnnxGraphBuilder();
  g.input('video', ['N', 3, T, C, C]);
  const flat = g.node('Flatten', ['video'], 'flat', { axis: { int: 1 } });
  const w = Float32Array.from({ length: classes * features }, (_, i) => Math.sin(i * 0.37) / Math.sqrt(features));
  g.node('Gemm', [flat, g.initializer('w', [classes, features], w), g.initializer('b', [classes], new Float32Array(classes))], 'logits', { transB: { int: 1 } });
  g.output('logits', ['N', classes]);
  const model = g.toModel({ opset: 17, producer: 'test' });
  const manifest = ManifestSchema.parse({
    ...base,
    onnx: 'tiny.onnx',
    uint8: { onnx: 'tiny.u8.onnx', onnxFloat16: null, input: 'frames', layout: 'NTHWC', precision: 'float32' },
  });
  await writeFile(join(dir, 'tiny.onnx'), onnx.ModelProto.encode(model).finish());
  await writeFile(join(dir, 'tiny.u8.onnx'), onnx.ModelProto.encode(uint8Entry(model, manifest)).finish());
  const manifestPath = join(dir, 'tiny.json');
  await writeFile(manifestPath, JSON.stringify(manifest));
  return { manifestPath, manifest };
}
