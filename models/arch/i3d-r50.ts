import type { NetworkSink } from './network.ts';
import { R50_STAGE_DEPTHS, resBasicStem, resStage } from './resnet-blocks.ts';
import type { ArchitectureDefinition } from './definition.ts';

const CLASSES = 400;

/**
 * pytorchvideo.models.hub.resnet.i3d_r50: create_resnet with a 5x7x7 stem, a 2x1x1 temporal
 * max pool after stage 1 (blocks.2), inflated conv_a kernels per block, and the default head
 * (AvgPool3d 4x7x7 stride 1, dropout, Linear 2048->400, global average).
 */
export const i3dR50: ArchitectureDefinition = {
  origin: 'PyTorchVideo hub i3d_r50',
  inputs: [{ name: 'video', frames: 8, size: 224 }],
  walk<V>(net: NetworkSink<V>): void {
    const video = net.input('video', 8, 224);
    let x = resBasicStem(net, video, { path: 'blocks.0', inChannels: 3, outChannels: 64, convKernel: [5, 7, 7] });

    x = resStage(net, x, {
      path: 'blocks.1',
      depth: R50_STAGE_DEPTHS[0],
      dimIn: 64,
      dimInner: 64,
      dimOut: 256,
      convAKernels: [[3, 1, 1]],
      spatialStride: 1,
    });
    x = net.maxPool(x, 'blocks.2', [2, 1, 1], [2, 1, 1], [0, 0, 0]);
    x = resStage(net, x, {
      path: 'blocks.3',
      depth: R50_STAGE_DEPTHS[1],
      dimIn: 256,
      dimInner: 128,
      dimOut: 512,
      convAKernels: [
        [3, 1, 1],
        [1, 1, 1],
      ],
      spatialStride: 2,
    });
    x = resStage(net, x, {
      path: 'blocks.4',
      depth: R50_STAGE_DEPTHS[2],
      dimIn: 512,
      dimInner: 256,
      dimOut: 1024,
      convAKernels: [
        [3, 1, 1],
        [1, 1, 1],
      ],
      spatialStride: 2,
    });
    x = resStage(net, x, {
      path: 'blocks.5',
      depth: R50_STAGE_DEPTHS[3],
      dimIn: 1024,
      dimInner: 512,
      dimOut: 2048,
      convAKernels: [
        [1, 1, 1],
        [3, 1, 1],
      ],
      spatialStride: 2,
    });

    const pooled = net.avgPool(x, 'blocks.6.pool', [4, 7, 7]);
    net.classify(pooled, 'blocks.6.proj', 2048, CLASSES);
  },
};
