/**
 * torchvision resnet_fpn_extractor(resnet50(), norm_layer=BatchNorm2d) as fasterrcnn_resnet50_fpn_v2
 * builds it: the ResNet-50 body (v1.5: stride on the 3x3 conv) returning layer1..layer4, and a
 * FeaturePyramidNetwork with BatchNorm after every inner (1x1) and layer (3x3) conv and
 * LastLevelMaxPool ("pool": max_pool2d kernel 1, stride 2, on the last level).
 */
import type { GraphOps } from '../../onnx/ops.ts';
import type { StateDict } from '../../tensor.ts';
import { batchNormKeys, type KeyShape } from '../key-layout.ts';
import { conv2d } from './layers.ts';

/** Blocks, bottleneck width and output channels of layer1..layer4. */
const LAYERS = [
  { blocks: 3, width: 64, out: 256, stride: 1 },
  { blocks: 4, width: 128, out: 512, stride: 2 },
  { blocks: 6, width: 256, out: 1024, stride: 2 },
  { blocks: 3, width: 512, out: 2048, stride: 2 },
] as const;

export const FPN_CHANNELS = 256;
/** Names of the FPN outputs, finest first (as torchvision's OrderedDict). */
export const FPN_LEVELS = ['0', '1', '2', '3', 'pool'] as const;

function convKeys(name: string, out: number, inC: number, k: number): KeyShape[] {
  return [[`${name}.weight`, [out, inC, k, k]]];
}

export function backboneKeys(): KeyShape[] {
  const keys: KeyShape[] = [...convKeys('backbone.body.conv1', 64, 3, 7), ...batchNormKeys('backbone.body.bn1', 64)];
  let inC = 64;
  LAYERS.forEach((layer, li) => {
    for (let b = 0; b < layer.blocks; b++) {
      const p = `backbone.body.layer${li + 1}.${b}`;
      keys.push(...convKeys(`${p}.conv1`, layer.width, inC, 1), ...batchNormKeys(`${p}.bn1`, layer.width));
      keys.push(...convKeys(`${p}.conv2`, layer.width, layer.width, 3), ...batchNormKeys(`${p}.bn2`, layer.width));
      keys.push(...convKeys(`${p}.conv3`, layer.out, layer.width, 1), ...batchNormKeys(`${p}.bn3`, layer.out));
      if (b === 0) keys.push(...convKeys(`${p}.downsample.0`, layer.out, inC, 1), ...batchNormKeys(`${p}.downsample.1`, layer.out));
      inC = layer.out;
    }
  });
  LAYERS.forEach((layer, i) => keys.push(...convKeys(`backbone.fpn.inner_blocks.${i}.0`, FPN_CHANNELS, layer.out, 1), ...batchNormKeys(`backbone.fpn.inner_blocks.${i}.1`, FPN_CHANNELS)));
  LAYERS.forEach((_, i) => keys.push(...convKeys(`backbone.fpn.layer_blocks.${i}.0`, FPN_CHANNELS, FPN_CHANNELS, 3), ...batchNormKeys(`backbone.fpn.layer_blocks.${i}.1`, FPN_CHANNELS)));
  return keys;
}

/** ResNet-50 body then FPN; returns the five FPN maps in FPN_LEVELS order ([1, 256, H/4..H/64, ...]). */
export function backbone(o: GraphOps, sd: StateDict, image: string): string[] {
  let x = conv2d(o, sd, image, { conv: 'backbone.body.conv1', norm: 'backbone.body.bn1', stride: 2, padding: 3, relu: true });
  x = o.op('MaxPool', [x], 'backbone.body.maxpool', { kernel_shape: { ints: [3, 3] }, strides: { ints: [2, 2] }, pads: { ints: [1, 1, 1, 1] } });
  const stages: string[] = [];
  LAYERS.forEach((layer, li) => {
    for (let b = 0; b < layer.blocks; b++) {
      const p = `backbone.body.layer${li + 1}.${b}`;
      const stride = b === 0 ? layer.stride : 1;
      const shortcut = b === 0 ? conv2d(o, sd, x, { conv: `${p}.downsample.0`, norm: `${p}.downsample.1`, stride, relu: false }) : x;
      let y = conv2d(o, sd, x, { conv: `${p}.conv1`, norm: `${p}.bn1`, relu: true });
      y = conv2d(o, sd, y, { conv: `${p}.conv2`, norm: `${p}.bn2`, stride, padding: 1, relu: true });
      y = conv2d(o, sd, y, { conv: `${p}.conv3`, norm: `${p}.bn3`, relu: false });
      x = o.op('Relu', [o.add(y, shortcut, `${p}.add`)], `${p}.relu`);
    }
    stages.push(x);
  });
  return featurePyramid(o, sd, stages);
}

/**
 * FeaturePyramidNetwork.forward: top-down, each level = inner(C_i) + nearest-upsampled coarser
 * inner sum, then its 3x3 layer block. F.interpolate(mode="nearest", size=...) picks source
 * floor(dst * in/out): Resize nearest, asymmetric, floor.
 */
function featurePyramid(o: GraphOps, sd: StateDict, stages: readonly string[]): string[] {
  const inner = (i: number) => conv2d(o, sd, stages[i]!, { conv: `backbone.fpn.inner_blocks.${i}.0`, norm: `backbone.fpn.inner_blocks.${i}.1`, relu: false });
  const layer = (i: number, x: string) => conv2d(o, sd, x, { conv: `backbone.fpn.layer_blocks.${i}.0`, norm: `backbone.fpn.layer_blocks.${i}.1`, padding: 1, relu: false });
  const last = stages.length - 1;
  let lastInner = inner(last);
  const results: string[] = [layer(last, lastInner)];
  for (let i = last - 1; i >= 0; i--) {
    const lateral = inner(i);
    const up = o.op('Resize', [lastInner, '', '', o.op('Shape', [lateral], `fpn.size${i}`)], `fpn.up${i}`, {
      mode: { string: 'nearest' },
      coordinate_transformation_mode: { string: 'asymmetric' },
      nearest_mode: { string: 'floor' },
    });
    lastInner = o.add(lateral, up, `fpn.sum${i}`);
    results.unshift(layer(i, lastInner));
  }
  results.push(o.op('MaxPool', [results[last]!], 'fpn.pool', { kernel_shape: { ints: [1, 1] }, strides: { ints: [2, 2] } }));
  return results;
}
