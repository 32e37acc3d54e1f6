import type { ArchitectureDefinition } from './definition.ts';
import type { NetworkSink } from './network.ts';
import { slowfastBody } from './slowfast-r50.ts';

/** AVA v2.2 action classes. */
export const AVA_CLASSES = 80;
/** res5 keeps stride 16 (spatial stride 1, dilation 2), so RoIs map to features at 1/16. */
const SPATIAL_SCALE = 1 / 16;
const ROI_RESOLUTION = 7;

/**
 * pytorchvideo.models.hub.slowfast_r50_detection: create_slowfast_with_roi_head, a
 * DetectionBBoxNetwork whose `model` is SlowFast R50 with res5 at spatial stride 1 and conv_b
 * dilation 2, blocks.5 average-pooling each pathway over all its time steps (AvgPool3d 8x1x1 and
 * 32x1x1) and concatenating (2048 + 256 channels), and whose `detection_head` is a ResNetRoIHead
 * (RoIAlign 7x7, scale 1/16, sampling ratio 0, aligned=False; MaxPool2d 7x7; Linear 2304->80;
 * Sigmoid). The inputs take any H and W: AVA frames are scaled to short side 256, not cropped.
 */
export const slowfastR50Detection: ArchitectureDefinition = {
  inputs: [
    { name: 'slow', frames: 8, size: null },
    { name: 'fast', frames: 32, size: null },
  ],
  walk<V>(net: NetworkSink<V>): void {
    const f = slowfastBody(net, { prefix: 'model.', size: null, spatialStrides: [1, 2, 2, 1], res5Dilation: 2 });
    const pooled = net.concat(
      [net.avgPool(f.slow, 'model.blocks.5.pool.0', [8, 1, 1]), net.avgPool(f.fast, 'model.blocks.5.pool.1', [32, 1, 1])],
      'model.blocks.5',
    );
    net.roiHead(pooled, {
      linear: 'detection_head.proj',
      inFeatures: f.slowChannels + f.fastChannels,
      classes: AVA_CLASSES,
      resolution: ROI_RESOLUTION,
      spatialScale: SPATIAL_SCALE,
      samplingRatio: 0,
    });
  },
};
