import type { ConvBnSpec, NetworkSink, RoiHeadSpec } from './network.ts';

/** A state-dict entry as PyTorch lists it: name and shape ([] for a scalar). */
export type KeyShape = [string, number[]];

/** BatchNorm3d's entries, in registration order (parameters, then buffers). */
export function batchNormKeys(norm: string, channels: number): KeyShape[] {
  return [
    [`${norm}.weight`, [channels]],
    [`${norm}.bias`, [channels]],
    [`${norm}.running_mean`, [channels]],
    [`${norm}.running_var`, [channels]],
    [`${norm}.num_batches_tracked`, []],
  ];
}

/** Records the state-dict layout of a walk; computes nothing. */
export class KeyLayoutSink implements NetworkSink<null> {
  readonly keys: KeyShape[] = [];

  input(): null {
    return null;
  }

  convBn(_x: null, spec: ConvBnSpec): null {
    this.keys.push([`${spec.conv}.weight`, [spec.outChannels, spec.inChannels, ...spec.kernel]]);
    this.keys.push(...batchNormKeys(spec.norm, spec.outChannels));
    return null;
  }

  maxPool(): null {
    return null;
  }

  avgPool(): null {
    return null;
  }

  addRelu(): null {
    return null;
  }

  concat(): null {
    return null;
  }

  classify(_x: null, linear: string, inFeatures: number, classes: number): void {
    this.keys.push([`${linear}.weight`, [classes, inFeatures]]);
    this.keys.push([`${linear}.bias`, [classes]]);
  }

  roiHead(_x: null, spec: RoiHeadSpec): void {
    this.keys.push([`${spec.linear}.weight`, [spec.classes, spec.inFeatures]]);
    this.keys.push([`${spec.linear}.bias`, [spec.classes]]);
  }
}
