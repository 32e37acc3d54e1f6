import { numel, type DType, type StateDict, type Tensor } from '../tensor.ts';
import { AtomicFileWriter } from './atomic-file-writer.ts';
import { DTYPE_STORAGE_CLASS, TYPED_ARRAY } from './dtypes.ts';
import { checkpointError, CheckpointError } from './errors.ts';
import { LEGACY_MAGIC, LEGACY_PROTOCOL_VERSION } from './legacy-checkpoint.ts';
import { PyCall, PyGlobal, PyObject, PyPersistent, PyTuple, pickle, type PyValue } from './pickle/pickler.ts';
import { StoredZipWriter, type ZipWriterOptions } from './zip-writer.ts';

export interface WriteCheckpointOptions {
  /** 'zip': torch.save's format since PyTorch 1.6; 'legacy': _use_new_zipfile_serialization=False. */
  format: 'zip' | 'legacy';
  /**
   * Other top-level entries (epoch, cfg...). With them the file holds the dict
   * `{model_state: <state dict>, ...extra}` of PyTorchVideo checkpoints; without, the state dict itself.
   * Values: null, boolean, number (integral numbers become Python ints), bigint, string,
   * Uint8Array (bytes), arrays (lists), Maps and plain objects (dicts), Tensors.
   */
  extra?: Record<string, unknown>;
  /**
   * The key the state dict goes under when `extra` is given: 'model_state' (PyTorchVideo, the
   * default) or 'state_dict' (mmaction's `{meta, state_dict}`, MARS's `{arch, state_dict}`).
   */
  stateDictKey?: 'model_state' | 'state_dict';
  /** zip only: ZIP64 records even for small files (exercises readers). */
  forceZip64?: boolean;
}

const invalid = (why: string): Error => checkpointError(CheckpointError.WRITE_INVALID, why);

const ORDERED_DICT = new PyGlobal('collections', 'OrderedDict');
const REBUILD_TENSOR_V2 = new PyGlobal('torch._utils', '_rebuild_tensor_v2');

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'dtype' in v && 'shape' in v && 'data' in v && ArrayBuffer.isView((v as Tensor).data);
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  return strides;
}

function checkTensor(name: string, t: Tensor): void {
  const Typed = TYPED_ARRAY[t.dtype as DType];
  if (Typed === undefined) throw invalid(`${name}: dtype ${String(t.dtype)} cannot be written`);
  if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw invalid(`${name}: shape [${t.shape.join(', ')}] is not a list of sizes`);
  if (!(t.data instanceof Typed)) throw invalid(`${name}: ${t.dtype} data must be a ${Typed.name}, got ${t.data.constructor.name}`);
  if (t.data.length !== numel(t.shape)) throw invalid(`${name}: shape [${t.shape.join(', ')}] needs ${numel(t.shape)} elements, data has ${t.data.length}`);
}

/** Storages to write, in order; tensors that share a data array share a storage. */
class StorageTable {
  readonly keys: string[] = [];
  readonly bytes: Uint8Array[] = [];
  /** Elements per storage (the legacy format writes it before each storage). */
  readonly counts: number[] = [];
  private readonly byData = new Map<Tensor['data'], string>();

  keyFor(t: Tensor): string {
    let key = this.byData.get(t.data);
    if (key === undefined) {
      key = String(this.keys.length);
      this.byData.set(t.data, key);
      this.keys.push(key);
      this.bytes.push(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
      this.counts.push(t.data.length);
    }
    return key;
  }
}

/** Turns JS values into what the pickler writes, tensors as torch writes them. */
function toPyValue(v: unknown, path: string, storages: StorageTable, legacy: boolean, location = 'cpu'): PyValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return v;
  if (isTensor(v)) {
    checkTensor(path, v);
    const storageClass = new PyGlobal('torch', DTYPE_STORAGE_CLASS[v.dtype]);
    const pidItems: PyValue[] = ['storage', storageClass, storages.keyFor(v), location, v.data.length];
    if (legacy) pidItems.push(null); // no view metadata
    return new PyCall(REBUILD_TENSOR_V2, [
      new PyPersistent(new PyTuple(pidItems)),
      0,
      new PyTuple(v.shape),
      new PyTuple(rowMajorStrides(v.shape)),
      false,
      new PyCall(ORDERED_DICT, []), // backward hooks
    ]);
  }
  if (v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map((x, i) => toPyValue(x, `${path}[${i}]`, storages, legacy));
  if (v instanceof Map) {
    return new Map([...v].map(([k, x]) => [toPyValue(k, `${path} key`, storages, legacy), toPyValue(x, `${path}.${String(k)}`, storages, legacy)]));
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return new Map(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, toPyValue(x, `${path}.${k}`, storages, legacy)]));
  }
  throw invalid(`${path}: cannot write ${v === undefined ? 'undefined' : typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v}`);
}

function rootValue(stateDict: StateDict, options: WriteCheckpointOptions, storages: StorageTable): PyValue {
  const legacy = options.format === 'legacy';
  for (const [name, t] of stateDict) if (!isTensor(t)) throw invalid(`state dict entry ${name} is not a tensor`);
  const state = new PyCall(
    ORDERED_DICT,
    [],
    new Map([...stateDict].map(([name, t]) => [name, toPyValue(t, name, storages, legacy)])),
  );
  if (options.extra === undefined) return state;
  const key = options.stateDictKey ?? 'model_state';
  if (key in options.extra) throw invalid(`extra must not hold ${key}: the state dict goes there`);
  const entries: [PyValue, PyValue][] = [[key, state]];
  for (const [k, v] of Object.entries(options.extra)) entries.push([k, toPyValue(v, k, storages, legacy)]);
  return new Map(entries);
}

async function writeZip(path: string, data: Buffer, storages: StorageTable, zipOptions: ZipWriterOptions): Promise<void> {
  const zip = await StoredZipWriter.create(path, zipOptions);
  try {
    await zip.add('archive/data.pkl', data);
    await zip.add('archive/byteorder', Buffer.from('little'));
    for (let i = 0; i < storages.keys.length; i++) await zip.add(`archive/data/${storages.keys[i]}`, storages.bytes[i] as Uint8Array);
    await zip.add('archive/version', Buffer.from('3\n'));
    await zip.finish();
  } catch (e) {
    await zip.abort();
    throw e;
  }
}

async function writeLegacy(path: string, data: Buffer, storages: StorageTable): Promise<void> {
  const sysInfo = new Map<PyValue, PyValue>([
    ['protocol_version', LEGACY_PROTOCOL_VERSION],
    ['little_endian', true],
    ['type_sizes', new Map<PyValue, PyValue>([['short', 2], ['int', 4], ['long', 8]])],
  ]);
  const chunks: Uint8Array[] = [pickle(LEGACY_MAGIC, invalid), pickle(LEGACY_PROTOCOL_VERSION, invalid), pickle(sysInfo, invalid), data, pickle(storages.keys, invalid)];
  storages.bytes.forEach((bytes, i) => {
    const count = Buffer.alloc(8);
    count.writeBigInt64LE(BigInt(storages.counts[i] as number));
    chunks.push(count, bytes);
  });
  const out = await AtomicFileWriter.create(path);
  try {
    for (const chunk of chunks) await out.write(chunk);
    await out.finish();
  } catch (e) {
    await out.abort();
    throw e;
  }
}

/**
 * Writes a torch.save-compatible checkpoint that PyTorch's torch.load and readCheckpoint
 * read back. Tensor data goes to the file straight from the tensors' arrays (no copies).
 */
export async function writeCheckpoint(path: string, stateDict: StateDict, options: WriteCheckpointOptions): Promise<void> {
  const storages = new StorageTable();
  const data = pickle(rootValue(stateDict, options, storages), invalid);
  if (options.format === 'zip') await writeZip(path, data, storages, { forceZip64: options.forceZip64 });
  else if (options.format === 'legacy') await writeLegacy(path, data, storages);
  else throw invalid(`format ${String(options.format)} is neither zip nor legacy`);
}

export interface WriteTorchScriptOptions {
  /** The root module's class, as TorchScript names it: `__torch__.<module path>.<Class>`. */
  rootClass?: readonly [module: string, name: string];
  /** Class of every submodule (default `__torch__.torch.nn.modules.module.Module`). */
  moduleClass?: readonly [module: string, name: string];
  /** Storage location written in each persistent id (traced on a GPU: "cuda:0"). */
  location?: string;
  /** Tensors for constants.pkl (a traced graph's constants, e.g. an attention mask); never read back. */
  constants?: readonly Tensor[];
  /** Entries under the archive folder replaced (bytes), left out (null) or added (tests: a hostile data.pkl, a missing record...). */
  replace?: Readonly<Record<string, Uint8Array | null>>;
}

interface ModuleNode {
  attributes: Map<string, Tensor | ModuleNode>;
}

/** The module tree of a state dict: one node per dotted prefix, attributes in first-seen order. */
function moduleTree(stateDict: StateDict): ModuleNode {
  const root: ModuleNode = { attributes: new Map() };
  for (const [name, tensor] of stateDict) {
    if (!isTensor(tensor)) throw invalid(`state dict entry ${name} is not a tensor`);
    const parts = name.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let child = node.attributes.get(part);
      if (child === undefined) {
        child = { attributes: new Map() };
        node.attributes.set(part, child);
      }
      if (isTensor(child)) throw invalid(`${name}: ${part} is both a tensor and a module`);
      node = child;
    }
    node.attributes.set(parts[parts.length - 1]!, tensor);
  }
  return root;
}

/**
 * Writes a TorchScript archive (the layout torch.jit.save gives a traced module, PyTorch 1.13):
 * `archive/data.pkl`, the module tree as `__torch__` objects (GLOBAL + NEWOBJ + BUILD with an
 * attribute dict: `training`, then parameters and submodules), tensors as _rebuild_tensor_v2 with
 * their storages in `archive/data/<key>`; `archive/constants.pkl` + `archive/constants/<key>`;
 * `archive/code/` (a stand-in source file) and `archive/version`. The state dict's dotted names
 * become the tree. For tests of the reader: the archive is not loadable by torch.jit.load (its
 * code is a stand-in).
 */
export async function writeTorchScriptArchive(path: string, stateDict: StateDict, options: WriteTorchScriptOptions = {}): Promise<void> {
  const storages = new StorageTable();
  const rootClass = new PyGlobal(...(options.rootClass ?? (['__torch__.model', 'Model'] as const)));
  const moduleClass = new PyGlobal(...(options.moduleClass ?? (['__torch__.torch.nn.modules.module', 'Module'] as const)));
  const location = options.location ?? 'cpu';
  const toModule = (node: ModuleNode, cls: PyGlobal, path: string): PyObject => {
    const state = new Map<PyValue, PyValue>([['training', false]]);
    for (const [name, value] of node.attributes) {
      const full = path ? `${path}.${name}` : name;
      state.set(name, isTensor(value) ? toPyValue(value, full, storages, false, location) : toModule(value, moduleClass, full));
    }
    return new PyObject(cls, state);
  };
  const data = pickle(toModule(moduleTree(stateDict), rootClass, ''), invalid);
  const constantStorages = new StorageTable();
  const constants = pickle(new PyTuple((options.constants ?? []).map((t, i) => toPyValue(t, `constant ${i}`, constantStorages, false, location))), invalid);
  const zip = await StoredZipWriter.create(path, {});
  const replace = options.replace ?? {};
  const written = new Set<string>();
  const add = async (name: string, bytes: Uint8Array): Promise<void> => {
    written.add(name);
    const replaced = replace[name];
    if (replaced === null) return;
    await zip.add(`archive/${name}`, replaced ?? bytes);
  };
  try {
    await add('data.pkl', data);
    await add('code/__torch__/model.py', Buffer.from('# stand-in: the traced code of the module (never read)\n'));
    await add('constants.pkl', constants);
    for (let i = 0; i < constantStorages.keys.length; i++) await add(`constants/${constantStorages.keys[i]}`, constantStorages.bytes[i]!);
    for (let i = 0; i < storages.keys.length; i++) await add(`data/${storages.keys[i]}`, storages.bytes[i]!);
    await add('version', Buffer.from('3\n'));
    for (const [name, bytes] of Object.entries(replace)) if (bytes !== null && !written.has(name)) await zip.add(`archive/${name}`, bytes);
    await zip.finish();
  } catch (e) {
    await zip.abort();
    throw e;
  }
}
