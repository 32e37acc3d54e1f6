import { VidxError } from '../../core/errors.ts';
import type { StateDict, Tensor } from '../tensor.ts';
import { float16BitsToNumber } from '../torch/float16.ts';

/** Converts a floating-point tensor's data to float32 (a no-copy view when it already is). */
export function float32Data(name: string, tensor: Tensor): Float32Array {
  switch (tensor.dtype) {
    case 'float32':
      return tensor.data as Float32Array;
    case 'float64':
      return Float32Array.from(tensor.data as Float64Array);
    case 'float16': {
      const bits = tensor.data as Uint16Array;
      const out = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) out[i] = float16BitsToNumber(bits[i]!);
      return out;
    }
    default:
      throw new VidxError('MODEL_STATE_MISMATCH', `state-dict tensor "${name}" is ${tensor.dtype}, expected a floating-point type`, {
        hint: 'weights must be float16, float32 or float64; check that the checkpoint belongs to this architecture',
      });
  }
}

/** Reads a tensor the builder has already checked to exist, as float32. */
export function weight(sd: StateDict, name: string): Float32Array {
  const tensor = sd.get(name);
  if (tensor === undefined) {
    throw new VidxError('MODEL_STATE_MISMATCH', `state dict has no "${name}"`, {
      hint: 'check the state dict against expectedKeys() before building',
    });
  }
  return float32Data(name, tensor);
}

