import { checkpointError, CheckpointError } from './errors.ts';
import { ITEM_SIZE, STORAGE_CLASS_DTYPE, TORCH_DTYPE_NAMES, type StoredDType } from './dtypes.ts';
import { float16BitsToNumber } from './float16.ts';
import { pyInt, type UnpicklePolicy } from './pickle/unpickler.ts';
import { PickledGlobal, PickledObject, describeValue, isPickleCallable, type PickleBuildable, type PickleCallable } from './pickle/values.ts';
import { StorageRef, TensorRef, makeTensorRef } from './tensor-ref.ts';

/** `torch.FloatStorage` and friends, as named in persistent ids. */
export class StorageClass {
  constructor(
    readonly qualifiedName: string,
    readonly dtype: StoredDType,
  ) {}
}

/** A `torch.float32`-like dtype object. */
export class TorchDType {
  constructor(readonly dtype: StoredDType) {}
}

/**
 * Modules whose globals can only be in a pickle to run code: refused on sight, before any
 * REDUCE. Nothing is ever executed anyway; this turns an attack into a clear error.
 */
const FORBIDDEN_MODULES = [
  'os', 'posix', 'nt', 'posixpath', 'ntpath', 'subprocess', '_posixsubprocess', 'sys', 'shutil', 'socket', 'socketserver',
  'importlib', 'imp', 'pkgutil', 'zipimport', 'runpy', 'site', 'pickle', '_pickle', 'cPickle', 'pickletools', 'marshal',
  'shelve', 'dill', 'cloudpickle', 'joblib', 'code', 'codeop', 'pty', 'ctypes', '_ctypes', 'cffi', 'multiprocessing',
  'concurrent', 'threading', '_thread', 'thread', 'asyncio', 'signal', 'types', 'functools', 'operator', 'inspect', 'gc',
  'webbrowser', 'pdb', 'bdb', 'timeit', 'trace', 'cProfile', 'profile', 'platform', 'tempfile', 'glob', 'io', '_io',
  'fileinput', 'tarfile', 'zipfile', 'http', 'urllib', 'urllib2', 'requests', 'ssl', 'smtplib', 'ftplib', 'telnetlib',
  'xmlrpc', 'sqlite3', 'dbm', 'distutils', 'setuptools', 'pip', 'ensurepip', 'venv', 'commands', 'popen2', '_winapi',
  'winreg', '_winreg', 'msvcrt', 'select', 'mmap', 'resource', 'dis', 'ast', 'tokenize', 'linecache', 'pydoc', 'sched',
  'tkinter', 'turtle', 'idlelib', 'antigravity', 'torch.hub', 'torch.serialization', 'torch.jit', 'torch._C', 'torch.ops',
];

/** builtins that are plain data types; every other builtin (eval, getattr, open...) is refused. */
const DATA_BUILTINS = new Set(['set', 'frozenset', 'bytearray', 'list', 'tuple', 'dict', 'object', 'int', 'float', 'str', 'bytes', 'bool', 'complex', 'slice', 'range']);

const IDENTIFIER_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function isForbidden(module: string, name: string): boolean {
  if (FORBIDDEN_MODULES.some((m) => module === m || module.startsWith(`${m}.`))) return true;
  if (module === 'builtins' || module === '__builtin__') return !DATA_BUILTINS.has(name);
  if ((module === 'copyreg' || module === 'copy_reg') && (name === '__newobj__' || name === '__newobj_ex__')) return false;
  // Dunder attributes (__import__, __globals__, __subclasses__...) are how escapes are built.
  const segments = [...module.split('.'), ...name.split('.')].filter((s) => s !== '__main__');
  return segments.some((s) => s.startsWith('__') && s.endsWith('__'));
}

function callable(qualifiedName: string, call: (args: unknown[]) => unknown): PickleCallable {
  return { kind: 'callable', qualifiedName, call };
}

function unsupported(qualifiedName: string, why: string): PickleCallable {
  return callable(qualifiedName, () => {
    throw checkpointError(CheckpointError.UNSUPPORTED, `${qualifiedName}: ${why}`);
  });
}

function formatError(message: string): never {
  throw checkpointError(CheckpointError.FORMAT, message);
}

function arg(args: unknown[], index: number, of: string): unknown {
  if (index >= args.length) formatError(`${of} called with ${args.length} argument(s), needs at least ${index + 1}`);
  return args[index];
}

function iterableItems(v: unknown, of: string): unknown[] {
  if (Array.isArray(v)) return v;
  if (v instanceof Set) return [...v];
  if (v instanceof Map) return [...v.keys()];
  return formatError(`${of} expects a list or tuple, got ${describeValue(v)}`);
}

function toTensorRef(v: unknown, of: string): TensorRef {
  return v instanceof TensorRef ? v : formatError(`${of} expects a tensor, got ${describeValue(v)}`);
}

/** A numpy dtype, kept only to decode numpy scalars. */
class NumpyDType implements PickleBuildable {
  byteOrder = '<';
  constructor(readonly code: string) {}
  setState(state: unknown): void {
    if (Array.isArray(state) && typeof state[1] === 'string') this.byteOrder = state[1];
  }
}

function decodeNumpyScalar(dtype: NumpyDType, bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const little = dtype.byteOrder !== '>';
  const readers: Record<string, [number, () => unknown]> = {
    f2: [2, () => float16BitsToNumber(view.getUint16(0, little))],
    f4: [4, () => view.getFloat32(0, little)],
    f8: [8, () => view.getFloat64(0, little)],
    i1: [1, () => view.getInt8(0)],
    i2: [2, () => view.getInt16(0, little)],
    i4: [4, () => view.getInt32(0, little)],
    i8: [8, () => pyInt(view.getBigInt64(0, little))],
    u1: [1, () => view.getUint8(0)],
    u2: [2, () => view.getUint16(0, little)],
    u4: [4, () => view.getUint32(0, little)],
    u8: [8, () => pyInt(view.getBigUint64(0, little))],
    b1: [1, () => view.getUint8(0) !== 0],
  };
  const reader = readers[dtype.code];
  if (reader === undefined || reader[0] !== bytes.byteLength) return new PickledObject('numpy.core.multiarray.scalar', [dtype.code, bytes]);
  return reader[1]();
}

function encodeText(text: unknown, encoding: unknown): Uint8Array {
  if (typeof text !== 'string') return formatError(`_codecs.encode expects a string, got ${describeValue(text)}`);
  const enc = typeof encoding === 'string' ? encoding.toLowerCase().replace('_', '-') : 'utf-8';
  if (enc === 'latin1' || enc === 'latin-1' || enc === 'iso-8859-1') {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) formatError('_codecs.encode: text is not latin-1');
    return new Uint8Array(Buffer.from(text, 'latin1'));
  }
  if (enc === 'utf-8' || enc === 'utf8') return new Uint8Array(Buffer.from(text, 'utf8'));
  throw checkpointError(CheckpointError.UNSUPPORTED, `_codecs.encode with encoding ${String(encoding)}`);
}

const rebuildTensorV2 = callable('torch._utils._rebuild_tensor_v2', (args) =>
  makeTensorRef(arg(args, 0, '_rebuild_tensor_v2'), args[1], args[2], args[3]),
);

/** Tensor subclasses that are plain tensors for our purpose. */
const PLAIN_TENSOR_TYPES = new Set(['torch.Tensor', 'torch.nn.parameter.Parameter', 'torch.nn.parameter.Buffer']);

function rebuildFromType(qualifiedName: string): PickleCallable {
  return callable(qualifiedName, (args) => {
    const func = arg(args, 0, qualifiedName);
    const type = arg(args, 1, qualifiedName);
    const typeName = type instanceof PickledGlobal ? type.qualifiedName : describeValue(type);
    if (!PLAIN_TENSOR_TYPES.has(typeName)) throw checkpointError(CheckpointError.UNSUPPORTED, `tensor subclass ${typeName} is not supported`);
    if (!isPickleCallable(func)) return formatError(`${qualifiedName} expects a tensor rebuild function, got ${describeValue(func)}`);
    const inner = arg(args, 2, qualifiedName);
    return toTensorRef(func.call(Array.isArray(inner) ? inner : formatError(`${qualifiedName} expects an argument tuple`)), qualifiedName);
  });
}

/** The globals rebuilt here: pure data constructors, implemented in JS. */
const SAFE_GLOBALS = new Map<string, PickleCallable>(
  [
    callable('collections.OrderedDict', (args) => {
      const map = new Map<unknown, unknown>();
      for (const pair of args.length > 0 ? iterableItems(args[0], 'OrderedDict') : []) {
        if (!Array.isArray(pair) || pair.length !== 2) formatError('OrderedDict expects (key, value) pairs');
        map.set(pair[0], pair[1]);
      }
      return map;
    }),
    // The default factory is dropped: the items that follow are what the file holds.
    callable('collections.defaultdict', () => new Map()),
    rebuildTensorV2,
    callable('torch._utils._rebuild_tensor', (args) => makeTensorRef(arg(args, 0, '_rebuild_tensor'), args[1], args[2], args[3])),
    callable('torch._utils._rebuild_tensor_v3', (args) => {
      const dtype = arg(args, 6, '_rebuild_tensor_v3');
      if (!(dtype instanceof TorchDType)) return formatError(`_rebuild_tensor_v3 expects a torch dtype, got ${describeValue(dtype)}`);
      return makeTensorRef(args[0], args[1], args[2], args[3], dtype.dtype);
    }),
    callable('torch._utils._rebuild_parameter', (args) => toTensorRef(arg(args, 0, '_rebuild_parameter'), '_rebuild_parameter')),
    callable('torch._utils._rebuild_parameter_with_state', (args) =>
      toTensorRef(arg(args, 0, '_rebuild_parameter_with_state'), '_rebuild_parameter_with_state'),
    ),
    rebuildFromType('torch._tensor._rebuild_from_type_v2'),
    rebuildFromType('torch._tensor._rebuild_from_type'),
    unsupported('torch._utils._rebuild_qtensor', 'quantized tensors are not supported'),
    unsupported('torch._utils._rebuild_sparse_tensor', 'sparse tensors are not supported'),
    unsupported('torch._utils._rebuild_sparse_csr_tensor', 'sparse tensors are not supported'),
    unsupported('torch._utils._rebuild_nested_tensor', 'nested tensors are not supported'),
    unsupported('torch._utils._rebuild_meta_tensor_no_storage', 'meta tensors hold no data'),
    unsupported('torch._utils._rebuild_wrapper_subclass', 'tensor subclasses are not supported'),
    unsupported('torch._utils._rebuild_device_tensor_from_numpy', 'tensors saved from numpy arrays are not supported'),
    callable('torch.Size', (args) => iterableItems(arg(args, 0, 'torch.Size'), 'torch.Size')),
    callable('torch.device', (args) => (args.length > 1 ? `${String(args[0])}:${String(args[1])}` : String(arg(args, 0, 'torch.device')))),
    callable('builtins.set', (args) => new Set(args.length > 0 ? iterableItems(args[0], 'set') : [])),
    callable('builtins.frozenset', (args) => new Set(args.length > 0 ? iterableItems(args[0], 'frozenset') : [])),
    callable('builtins.list', (args) => (args.length > 0 ? [...iterableItems(args[0], 'list')] : [])),
    callable('builtins.tuple', (args) => (args.length > 0 ? [...iterableItems(args[0], 'tuple')] : [])),
    callable('builtins.dict', () => new Map()),
    callable('builtins.bytearray', (args) => {
      const first = args[0];
      if (first === undefined) return new Uint8Array(0);
      if (first instanceof Uint8Array) return new Uint8Array(first);
      return encodeText(first, args[1]);
    }),
    callable('_codecs.encode', (args) => encodeText(arg(args, 0, '_codecs.encode'), args[1])),
    callable('numpy.dtype', (args) => {
      const code = arg(args, 0, 'numpy.dtype');
      return typeof code === 'string' ? new NumpyDType(code) : formatError(`numpy.dtype expects a type code, got ${describeValue(code)}`);
    }),
    ...['numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar'].map((name) =>
      callable(name, (args) => {
        const dtype = arg(args, 0, name);
        const bytes = arg(args, 1, name);
        if (!(dtype instanceof NumpyDType) || !(bytes instanceof Uint8Array)) return new PickledObject(name, args);
        return decodeNumpyScalar(dtype, bytes);
      }),
    ),
    ...['copyreg', 'copy_reg'].flatMap((module) => [
      callable(`${module}._reconstructor`, (args) => {
        const cls = arg(args, 0, '_reconstructor');
        const initial = args[2];
        if (isPickleCallable(cls)) return cls.call(initial === null || initial === undefined ? [] : [initial]);
        if (cls instanceof PickledGlobal) return new PickledObject(cls.qualifiedName, initial === null || initial === undefined ? [] : [initial]);
        return formatError(`_reconstructor expects a class, got ${describeValue(cls)}`);
      }),
      callable(`${module}.__newobj__`, (args) => {
        const [cls, ...rest] = args;
        if (isPickleCallable(cls)) return cls.call(rest);
        if (cls instanceof PickledGlobal) return new PickledObject(cls.qualifiedName, rest);
        return formatError(`__newobj__ expects a class, got ${describeValue(cls)}`);
      }),
    ]),
  ].map((c) => [c.qualifiedName, c]),
);

/** The namespace TorchScript gives the classes of a scripted or traced module. */
export const TORCHSCRIPT_MODULE_ROOT = '__torch__';

/** Python 2 pickles name builtins `__builtin__`. */
const MODULE_ALIASES: Record<string, string> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

/**
 * How torch checkpoints are unpickled: a whitelist of data rebuilders, torch storages via
 * persistent ids, inert records for other classes, refusal for anything that runs code.
 */
export class TorchUnpicklePolicy implements UnpicklePolicy {
  /** Root storages named so far, by record key. */
  readonly storages = new Map<string, StorageRef>();

  /**
   * `torchScript`: the pickle is a TorchScript archive's module tree (`data.pkl` of
   * torch.jit.save). Its modules are `__torch__.<path> <Class>` globals, built by NEWOBJ and
   * BUILD with a dict of attributes: they become inert records (PickledObject), never classes
   * that are called. Every other global must then be one of the data rebuilders above (tensors,
   * storages, dtypes, OrderedDict, plain builtins): anything else is refused as CHECKPOINT_UNSAFE.
   */
  constructor(private readonly options: { torchScript?: boolean } = {}) {}

  resolveGlobal(module: string, name: string): unknown {
    if (!IDENTIFIER_PATH.test(module) || !IDENTIFIER_PATH.test(name)) {
      return formatError(`global ${JSON.stringify(`${module} ${name}`)} is not a Python name`);
    }
    const qualifiedName = `${module}.${name}`;
    if (this.options.torchScript && (module === TORCHSCRIPT_MODULE_ROOT || module.startsWith(`${TORCHSCRIPT_MODULE_ROOT}.`))) {
      // isForbidden's dunder rule, for the path inside the namespace.
      if (isForbidden(module.slice(TORCHSCRIPT_MODULE_ROOT.length).replace(/^\./, '') || 'module', name)) {
        throw checkpointError(CheckpointError.UNSAFE, `the TorchScript archive names ${qualifiedName}, which can run code; refused without executing anything`);
      }
      return new PickledGlobal(module, name);
    }
    if (isForbidden(module, name)) {
      throw checkpointError(CheckpointError.UNSAFE, `the checkpoint asks for ${qualifiedName}, which can run code; refused without executing anything`);
    }
    const rebuilt = this.rebuilder(module, name, qualifiedName);
    if (rebuilt !== undefined) return rebuilt;
    if (this.options.torchScript) {
      throw checkpointError(CheckpointError.UNSAFE, `the TorchScript archive names ${qualifiedName}, which is neither a __torch__ module class nor a tensor or plain-data rebuilder; refused without executing anything`);
    }
    return new PickledGlobal(module, name);
  }

  /** The JS stand-in of a global this reader rebuilds (data constructors, storage classes, dtypes). */
  private rebuilder(module: string, name: string, qualifiedName: string): unknown {
    const safe = SAFE_GLOBALS.get(`${MODULE_ALIASES[module] ?? module}.${name}`);
    if (safe !== undefined) return safe;
    if (module === 'torch' || module === 'torch.cuda' || module === 'torch.storage') {
      const storageDType = STORAGE_CLASS_DTYPE[name];
      if (storageDType !== undefined) return new StorageClass(qualifiedName, storageDType);
    }
    if (module === 'torch') {
      const dtype = TORCH_DTYPE_NAMES[name];
      if (dtype !== undefined) return new TorchDType(dtype);
    }
    return undefined;
  }

  instantiate(cls: PickledGlobal, args: unknown[], how: 'reduce' | 'newobj'): unknown {
    if (this.options.torchScript && how === 'reduce') {
      throw checkpointError(CheckpointError.UNSAFE, `the TorchScript archive calls ${cls.qualifiedName}; its module classes are only ever built (NEWOBJ + BUILD), so this is refused`);
    }
    // Calling an unknown torch function would be expected to give a tensor; say so instead of
    // returning a record nobody can use.
    if (how === 'reduce' && (cls.module === 'torch' || cls.module.startsWith('torch.'))) {
      throw checkpointError(CheckpointError.UNSUPPORTED, `${cls.qualifiedName} is not supported by this checkpoint reader`);
    }
    return new PickledObject(cls.qualifiedName, args);
  }

  persistentLoad(pid: unknown): unknown {
    if (!Array.isArray(pid) || pid.length === 0) return formatError(`persistent id ${describeValue(pid)} is not a tuple`);
    if (pid[0] === 'module' && pid.length >= 2) return pid[1]; // legacy: the class of a pickled module
    if (pid[0] !== 'storage' || (pid.length !== 5 && pid.length !== 6)) return formatError(`persistent id ${String(pid[0])} of ${pid.length} items is not a torch storage`);
    const [, storageClass, key, , numel, viewMetadata] = pid as unknown[];
    if (!(storageClass instanceof StorageClass)) return formatError(`storage type ${describeValue(storageClass)} is not a torch storage class`);
    if (typeof key !== 'string' || key.length === 0 || key.includes('/') || key.includes('..')) return formatError(`storage key ${String(key)} is not a plain name`);
    if (!Number.isSafeInteger(numel) || (numel as number) < 0) return formatError(`storage ${key} has size ${String(numel)}`);
    const root = this.rootStorage(key, storageClass.dtype, numel as number);
    if (viewMetadata === undefined || viewMetadata === null) return root;
    // Legacy files (PyTorch < 0.4) may name a slice of a root storage: (view_key, offset, size).
    if (!Array.isArray(viewMetadata) || viewMetadata.length !== 3) return formatError(`storage ${key} has malformed view metadata`);
    const [, offset, size] = viewMetadata as unknown[];
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(size) || (offset as number) < 0 || (size as number) < 0 || (offset as number) + (size as number) > root.numel) {
      return formatError(`storage view [${String(offset)}, +${String(size)}) lies outside storage ${key} of ${root.numel}`);
    }
    return new StorageRef(key, root.dtype, size as number, (offset as number) * ITEM_SIZE[root.dtype]);
  }

  private rootStorage(key: string, dtype: StoredDType, numel: number): StorageRef {
    const known = this.storages.get(key);
    if (known === undefined) {
      const ref = new StorageRef(key, dtype, numel);
      this.storages.set(key, ref);
      return ref;
    }
    if (known.dtype !== dtype || known.numel !== numel) {
      return formatError(`storage ${key} is named both as ${known.numel} ${known.dtype} and as ${numel} ${dtype}`);
    }
    return known;
  }
}
