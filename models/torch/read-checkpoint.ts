import type { StateDict, Tensor } from '../tensor.ts';
import { CheckpointFile } from './checkpoint-file.ts';
import { checkpointError, CheckpointError } from './errors.ts';
import { unpickleLegacyCheckpoint } from './legacy-checkpoint.ts';
import { materializeTensors } from './materialize.ts';
import { TORCHSCRIPT_MODULE_ROOT } from './global-policy.ts';
import { describeValue, PickledObject } from './pickle/values.ts';
import { float16BitsToNumber } from './float16.ts';
import { TensorRef } from './tensor-ref.ts';
import { unpickleZipCheckpoint, type UnpickledCheckpoint } from './zip-checkpoint.ts';

const ZIP_LOCAL_HEADER = Buffer.from('PK\x03\x04', 'latin1');
const ZIP_EMPTY = Buffer.from('PK\x05\x06', 'latin1');

async function withUnpickled<T>(path: string, use: (checkpoint: UnpickledCheckpoint, file: CheckpointFile) => Promise<T>): Promise<T> {
  const file = await CheckpointFile.open(path);
  try {
    if (file.size === 0) throw checkpointError(CheckpointError.TRUNCATED, `checkpoint ${path} is empty (0 bytes)`);
    const head = await file.read(0, Math.min(file.size, 512), 'the file header');
    const magic = head.subarray(0, 4);
    if (magic.equals(ZIP_LOCAL_HEADER) || magic.equals(ZIP_EMPTY)) return await use(await unpickleZipCheckpoint(file), file);
    if (head.length >= 262 && head.toString('latin1', 257, 262) === 'ustar') {
      throw checkpointError(CheckpointError.UNSUPPORTED, `${file.name} is a tar-format checkpoint from PyTorch < 0.4`);
    }
    return await use(await unpickleLegacyCheckpoint(file), file);
  } finally {
    await file.close();
  }
}

/**
 * Reads a torch.save file (zip or legacy format) without executing anything. Python values
 * map onto JS as described in pickle/values.ts; every tensor becomes a row-major Tensor.
 */
export async function readCheckpoint(path: string): Promise<unknown> {
  return withUnpickled(path, ({ root, storages }) => materializeTensors(root, storages));
}

/** Keys under which checkpoints keep their state dict, most specific first. */
const STATE_DICT_KEYS = ['model_state', 'state_dict'];

function isTensorMap(v: unknown): v is Map<unknown, unknown> {
  return v instanceof Map && [...v.values()].every((x) => x instanceof TensorRef);
}

function pickStateDict(root: unknown, fileName: string): Map<unknown, unknown> {
  if (root instanceof Map) {
    for (const key of STATE_DICT_KEYS) {
      if (root.has(key)) {
        const candidate = root.get(key);
        if (!(candidate instanceof Map)) throw checkpointError(CheckpointError.NO_STATE_DICT, `${fileName}: ${key} is ${describeValue(candidate)}, not a state dict`);
        return candidate;
      }
    }
    if (root.size > 0 && isTensorMap(root)) return root;
  }
  const found = root instanceof Map ? `a dict with keys ${[...root.keys()].slice(0, 8).map(String).join(', ')}` : describeValue(root);
  throw checkpointError(CheckpointError.NO_STATE_DICT, `${fileName} holds ${found}: neither a state dict nor a dict with model_state`);
}

function isScriptModule(v: unknown): v is PickledObject {
  return v instanceof PickledObject && v.__class__.startsWith(`${TORCHSCRIPT_MODULE_ROOT}.`);
}

/**
 * A TorchScript module tree's tensors by dotted path (what `state_dict()` of the loaded module
 * gives): each module's attribute dict, in order; tensors are its parameters and buffers,
 * `__torch__` objects its submodules, everything else (training flags, numbers, strings) skipped.
 */
function scriptModuleTensors(root: PickledObject, fileName: string): Map<string, TensorRef> {
  const out = new Map<string, TensorRef>();
  const seen = new Set<PickledObject>();
  const visit = (module: PickledObject, prefix: string): void => {
    if (seen.has(module)) throw checkpointError(CheckpointError.FORMAT, `${fileName}: the module tree refers to ${prefix || 'the root'} twice`);
    seen.add(module);
    const attributes = module.state;
    if (!(attributes instanceof Map)) {
      throw checkpointError(CheckpointError.FORMAT, `${fileName}: TorchScript module ${prefix || 'root'} (${module.__class__}) has ${describeValue(attributes)} as its state, not an attribute dict`);
    }
    for (const [name, value] of attributes) {
      if (typeof name !== 'string') throw checkpointError(CheckpointError.FORMAT, `${fileName}: module ${prefix || 'root'} has an attribute named ${String(name)}`);
      if (value instanceof TensorRef) out.set(`${prefix}${name}`, value);
      else if (isScriptModule(value)) visit(value, `${prefix}${name}.`);
    }
  };
  visit(root, '');
  if (out.size === 0) throw checkpointError(CheckpointError.NO_STATE_DICT, `${fileName}: the TorchScript module tree holds no tensors`);
  return out;
}

/** float16 weights of a TorchScript archive (traced in half precision) as float32, exactly. */
function upcastFloat16(sd: Map<string, Tensor>): void {
  for (const [name, t] of sd) {
    if (t.dtype !== 'float16') continue;
    const bits = t.data as Uint16Array;
    const data = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) data[i] = float16BitsToNumber(bits[i]!);
    sd.set(name, { dtype: 'float32', shape: t.shape, data });
  }
}

/**
 * The model's state dict: `model_state` (PyTorchVideo/PySlowFast .pyth), `state_dict`, the
 * root when it is itself a dict of tensors, or, for a TorchScript archive (torch.jit.save, e.g.
 * OpenAI's CLIP releases), the tensors of its module tree by dotted path, float16 upcast to float32. Order is the file's; only these tensors are read.
 */
export async function loadStateDict(path: string): Promise<StateDict> {
  return withUnpickled(path, async ({ root, storages, torchScript }, file) => {
    if (torchScript) {
      if (!isScriptModule(root)) throw checkpointError(CheckpointError.NO_STATE_DICT, `${file.name} is a TorchScript archive whose data.pkl holds ${describeValue(root)}, not a module`);
      const tensors = scriptModuleTensors(root, file.name);
      await materializeTensors(tensors, storages);
      const sd = tensors as unknown as Map<string, Tensor>;
      upcastFloat16(sd);
      return sd;
    }
    const refs = pickStateDict(root, file.name);
    for (const [name, value] of refs) {
      if (typeof name !== 'string') throw checkpointError(CheckpointError.FORMAT, `${file.name}: state dict key ${String(name)} is not a string`);
      if (!(value instanceof TensorRef)) throw checkpointError(CheckpointError.FORMAT, `${file.name}: state dict entry ${name} is ${describeValue(value)}, not a tensor`);
    }
    await materializeTensors(refs, storages);
    return refs as Map<string, Tensor>;
  });
}
