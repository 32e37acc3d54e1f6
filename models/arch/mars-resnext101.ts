import type { ArchitectureDefinition } from './definition.ts';
import type { NetworkSink, Triple } from './network.ts';

const CLASSES = 400;
const FRAMES = 16;
const SIZE = 112;
const CARDINALITY = 32;
/** ResNeXtBottleneck.expansion: a block outputs 2 x planes channels. */
const EXPANSION = 2;

/** ResNeXt-101's stages: `layerN` of models/resnext.py (planes, blocks, stride of the first block). */
const STAGES: ReadonlyArray<{ path: string; planes: number; blocks: number; stride: number }> = [
  { path: 'layer1', planes: 128, blocks: 3, stride: 1 },
  { path: 'layer2', planes: 256, blocks: 4, stride: 2 },
  { path: 'layer3', planes: 512, blocks: 23, stride: 2 },
  { path: 'layer4', planes: 1024, blocks: 3, stride: 2 },
];

const cube = (n: number): Triple => [n, n, n];

/**
 * ResNeXtBottleneck, shortcut B (a projection only where the shape changes):
 *
 *   x -> conv1 1x1x1 -> bn1 -> relu -> conv2 3x3x3/s (32 groups) -> bn2 -> relu -> conv3 1x1x1 -> bn3 --+
 *   |                                                                                                  add -> relu
 *   +-> [downsample.0 conv 1x1x1/s -> downsample.1 bn] -----------------------------------------------+
 *
 * Registration order (= state-dict order): conv1, bn1, conv2, bn2, conv3, bn3, downsample.
 */
function bottleneck<V>(net: NetworkSink<V>, x: V, path: string, inChannels: number, planes: number, stride: number): V {
  const mid = CARDINALITY * Math.trunc(planes / 32);
  const out = planes * EXPANSION;
  const s = cube(stride);
  const a = net.convBn(x, { conv: `${path}.conv1`, norm: `${path}.bn1`, inChannels, outChannels: mid, kernel: cube(1), stride: cube(1), padding: cube(0) }, true);
  const b = net.convBn(
    a,
    { conv: `${path}.conv2`, norm: `${path}.bn2`, inChannels: mid, outChannels: mid, kernel: cube(3), stride: s, padding: cube(1), groups: CARDINALITY },
    true,
  );
  const c = net.convBn(b, { conv: `${path}.conv3`, norm: `${path}.bn3`, inChannels: mid, outChannels: out, kernel: cube(1), stride: cube(1), padding: cube(0) }, false);
  const shortcut =
    stride !== 1 || inChannels !== out
      ? net.convBn(x, { conv: `${path}.downsample.0`, norm: `${path}.downsample.1`, inChannels, outChannels: out, kernel: cube(1), stride: s, padding: cube(0) }, false)
      : x;
  return net.addRelu(c, shortcut, path);
}

/**
 * MARS (Crasto et al. 2019), the RGB stream trained to mimic optical flow: craston/MARS
 * models/resnext.py `resnext101` (cardinality 32, shortcut B, sample size 112, 16 frames).
 *
 *   video 3x16x112 -> conv1 7x7x7/1x2x2 -> bn1 -> relu -> maxpool 3x3x3/2
 *     -> layer1..4 (3, 4, 23, 3 bottlenecks; 256, 512, 1024, 2048 channels) -> 2048 x 1x4x4
 *     -> avgpool 1x4x4 (ceil(16/16) x ceil(112/32)^2) -> fc 2048 -> 400
 */
export const marsResNeXt101: ArchitectureDefinition = {
  inputs: [{ name: 'video', frames: FRAMES, size: SIZE }],
  origin: 'craston/MARS models/resnext.py resnext101',
  walk<V>(net: NetworkSink<V>): void {
    const video = net.input('video', FRAMES, SIZE);
    const stem = net.convBn(video, { conv: 'conv1', norm: 'bn1', inChannels: 3, outChannels: 64, kernel: cube(7), stride: [1, 2, 2], padding: cube(3) }, true);
    let x = net.maxPool(stem, 'maxpool', cube(3), cube(2), cube(1));
    let channels = 64;
    for (const stage of STAGES) {
      for (let i = 0; i < stage.blocks; i++) {
        x = bottleneck(net, x, `${stage.path}.${i}`, channels, stage.planes, i === 0 ? stage.stride : 1);
        channels = stage.planes * EXPANSION;
      }
    }
    const pooled = net.avgPool(x, 'avgpool', [Math.ceil(FRAMES / 16), Math.ceil(SIZE / 32), Math.ceil(SIZE / 32)]);
    net.classify(pooled, 'fc', channels, CLASSES);
  },
};
