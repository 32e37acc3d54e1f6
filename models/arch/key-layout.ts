import type { Tensor } from '../tensor.ts';
import type { ConvBnSpec, ConvSpec, NetworkSink, PatchMergingSpec, RoiHeadSpec, WindowAttentionSpec } from './network.ts';

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
  /** Integer buffers the modules construct (e.g. Swin's relative_position_index), by full key. */
  readonly integerBuffers = new Map<string, Tensor>();
  /** Length of the pooled feature vector the classifier head reads (the graph's `features` output). */
  featureSize: number | undefined;

  input(): null {
    return null;
  }

  convBn(_x: null, spec: ConvBnSpec): null {
    this.keys.push([`${spec.conv}.weight`, [spec.outChannels, spec.inChannels / (spec.groups ?? 1), ...spec.kernel]]);
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
    this.featureSize = inFeatures;
    this.keys.push([`${linear}.weight`, [classes, inFeatures]]);
    this.keys.push([`${linear}.bias`, [classes]]);
  }

  roiHead(_x: null, spec: RoiHeadSpec): void {
    this.featureSize = spec.inFeatures;
    this.keys.push([`${spec.linear}.weight`, [spec.classes, spec.inFeatures]]);
    this.keys.push([`${spec.linear}.bias`, [spec.classes]]);
  }

  classifyPerTime(_x: null, conv: string, inChannels: number, classes: number): void {
    this.featureSize = inChannels;
    this.keys.push([`${conv}.weight`, [classes, inChannels, 1, 1, 1]]);
    this.keys.push([`${conv}.bias`, [classes]]);
  }

  conv(_x: null, spec: ConvSpec): null {
    this.keys.push([`${spec.conv}.weight`, [spec.outChannels, spec.inChannels, ...spec.kernel]]);
    this.keys.push([`${spec.conv}.bias`, [spec.outChannels]]);
    return null;
  }

  toTokens(): null {
    return null;
  }

  layerNorm(_x: null, name: string, channels: number): null {
    this.keys.push([`${name}.weight`, [channels]], [`${name}.bias`, [channels]]);
    return null;
  }

  linear(_x: null, name: string, inFeatures: number, outFeatures: number, bias: boolean): null {
    this.keys.push([`${name}.weight`, [outFeatures, inFeatures]]);
    if (bias) this.keys.push([`${name}.bias`, [outFeatures]]);
    return null;
  }

  gelu(): null {
    return null;
  }

  add(): null {
    return null;
  }

  gatherTokens(): null {
    return null;
  }

  temporalShift(): null {
    return null;
  }

  /** WindowAttention3D registers the bias table, then its buffers, then qkv and proj. */
  windowAttention(_x: null, spec: WindowAttentionSpec): null {
    this.keys.push([`${spec.path}.relative_position_bias_table`, [spec.tableRows, spec.heads]]);
    for (const buffer of spec.buffers) {
      const name = `${spec.path}.${buffer.name}`;
      this.keys.push([name, [...buffer.shape]]);
      this.integerBuffers.set(name, { dtype: 'int64', shape: [...buffer.shape], data: buffer.values });
    }
    this.linear(null, `${spec.path}.qkv`, spec.channels, 3 * spec.channels, true);
    this.linear(null, `${spec.path}.proj`, spec.channels, spec.channels, true);
    return null;
  }

  /** PatchMerging registers reduction before norm, though norm runs first. */
  patchMerging(_x: null, spec: PatchMergingSpec): null {
    this.linear(null, `${spec.path}.reduction`, 4 * spec.channels, 2 * spec.channels, false);
    this.layerNorm(null, `${spec.path}.norm`, 4 * spec.channels);
    return null;
  }

  classifyTokens(_x: null, linear: string, inFeatures: number, classes: number): void {
    this.featureSize = inFeatures;
    this.linear(null, linear, inFeatures, classes, true);
  }
}
