import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import type { DType, StateDict, Tensor } from '../../models/tensor.ts';
import { CheckpointFile } from '../../models/torch/checkpoint-file.ts';
import { float16BitsToNumber } from '../../models/torch/float16.ts';
import { loadStateDict, PickledObject, readCheckpoint, writeCheckpoint } from '../../models/torch/index.ts';
import { Op } from '../../models/torch/pickle/opcodes.ts';
import { readZipDirectory } from '../../models/torch/zip-reader.ts';
import { StoredZipWriter } from '../../models/torch/zip-writer.ts';

const fixtures = fileURLToPath(new URL('../../../shared/reference/torch/', import.meta.url));
const TINY_ZIP = join(fixtures, 'tiny_zip.pyth');
const TINY_LEGACY = join(fixtures, 'tiny_legacy.pyth');

interface ExpectedTensor {
  shape: number[];
  dtype: DType;
  values: number[];
}
interface Expected {
  epoch: number;
  cfg: string;
  model_state: Record<string, ExpectedTensor>;
}

let dir: string;
let expected: Expected;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidx-checkpoint-'));
  expected = JSON.parse(await readFile(join(fixtures, 'tiny_expected.json'), 'utf8')) as Expected;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Element values as plain numbers: float16 bits decoded, int64 narrowed. */
function valuesOf(t: Tensor): number[] {
  if (t.dtype === 'float16') return Array.from(t.data as Uint16Array, float16BitsToNumber);
  if (t.data instanceof BigInt64Array) return Array.from(t.data, Number);
  return Array.from(t.data as ArrayLike<number>);
}

/** Resolves to the VidxError code a promise rejects with (fails the test if it resolves). */
async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    if (isVidxError(e)) return e.code;
    throw e;
  }
  throw new Error('expected the promise to reject');
}

async function fileWith(name: string, bytes: Uint8Array): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

/** A zip-format checkpoint whose data.pkl is `pickle` (and optional raw storages). */
async function zipWithPickle(name: string, pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Promise<string> {
  const path = join(dir, name);
  const zip = await StoredZipWriter.create(path);
  await zip.add('archive/data.pkl', pickle);
  for (const [key, bytes] of Object.entries(storages)) await zip.add(`archive/data/${key}`, bytes);
  await zip.add('archive/version', Buffer.from('3\n'));
  await zip.finish();
  return path;
}

/** Hand-assembles pickle bytes: numbers are opcodes or raw bytes, strings are raw latin-1 text. */
function pickleBytes(...parts: (number | string | Uint8Array)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'number' ? Buffer.from([p]) : typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}
function binunicode(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(b.length);
  return Buffer.concat([Buffer.from([Op.BINUNICODE]), len, b]);
}
const int1 = (n: number): Buffer => Buffer.from([Op.BININT1, n]);
const global = (module: string, name: string): Buffer => pickleBytes(Op.GLOBAL, `${module}\n${name}\n`);

/** `_rebuild_tensor_v2(storage(key, FloatStorage, numel), offset, size, stride, False, OrderedDict())`. */
function tensorPickle(key: string, storageNumel: number, offset: number, size: number[], stride: number[], storageClass = 'FloatStorage'): Buffer {
  return pickleBytes(
    global('torch._utils', '_rebuild_tensor_v2'),
    Op.MARK,
    Op.MARK, binunicode('storage'), global('torch', storageClass), binunicode(key), binunicode('cpu'), int1(storageNumel), Op.TUPLE,
    Op.BINPERSID,
    int1(offset),
    Op.MARK, ...size.map(int1), Op.TUPLE,
    Op.MARK, ...stride.map(int1), Op.TUPLE,
    Op.NEWFALSE,
    global('collections', 'OrderedDict'), Op.EMPTY_TUPLE, Op.REDUCE,
    Op.TUPLE,
    Op.REDUCE,
  );
}

/** `{'model_state': OrderedDict(name -> entry...)}` around pre-pickled entries. */
function stateDictPickle(entries: [string, Buffer][]): Buffer {
  return pickleBytes(
    Op.PROTO, 2, Op.EMPTY_DICT, binunicode('model_state'),
    global('collections', 'OrderedDict'), Op.EMPTY_TUPLE, Op.REDUCE,
    Op.MARK, ...entries.flatMap(([name, entry]) => [binunicode(name), entry]), Op.SETITEMS,
    Op.SETITEM, Op.STOP,
  );
}

function float32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

describe('readCheckpoint and loadStateDict on the PyTorch 1.13 fixtures', () => {
  for (const [format, path] of [['zip', TINY_ZIP], ['legacy', TINY_LEGACY]] as const) {
    it(`${format}: every tensor has the expected name, order, shape, dtype and values`, async () => {
      const state = await loadStateDict(path);
      expect([...state.keys()]).toEqual(Object.keys(expected.model_state));
      for (const [name, want] of Object.entries(expected.model_state)) {
        const got = state.get(name) as Tensor;
        expect({ name, shape: got.shape, dtype: got.dtype }).toEqual({ name, shape: want.shape, dtype: want.dtype });
        expect(got.data.length).toBe(want.values.length);
        expect(valuesOf(got)).toEqual(want.values);
      }
    });

    it(`${format}: the other top-level entries are kept as plain data`, async () => {
      const root = (await readCheckpoint(path)) as Map<string, unknown>;
      expect([...root.keys()]).toEqual(['epoch', 'model_state', 'cfg', 'optimizer_state']);
      expect(root.get('epoch')).toBe(expected.epoch);
      expect(root.get('cfg')).toBe(expected.cfg);
      const optimizer = root.get('optimizer_state') as Map<string, unknown>;
      expect(optimizer.get('param_groups')).toEqual([new Map<string, unknown>([['lr', 0.1], ['params', [0, 1]]])]);
    });
  }

  it('keeps the int64 scalar as a 0-d BigInt64Array and float16 as raw bits', async () => {
    const state = await loadStateDict(TINY_ZIP);
    const steps = state.get('blocks.0.norm.num_batches_tracked') as Tensor;
    expect(steps.shape).toEqual([]);
    expect(steps.data).toBeInstanceOf(BigInt64Array);
    expect(steps.data[0]).toBe(7n);
    const half = state.get('half.weight') as Tensor;
    expect(half.data).toBeInstanceOf(Uint16Array);
    expect(Array.from(half.data as Uint16Array)).toEqual([0x3800, 0xbc00, 0x4000]); // 0.5, -1, 2
  });

  it('makes contiguous tensors views on their storage and copies only strided ones', async () => {
    const state = await loadStateDict(TINY_ZIP);
    // proj.bias views elements 4..7 of the 12-element storage it shares with proj.weight (a transpose).
    const bias = (state.get('blocks.1.proj.bias') as Tensor).data;
    expect(bias.byteOffset).toBe(16);
    expect(bias.buffer.byteLength).toBe(48);
    const weight = (state.get('blocks.1.proj.weight') as Tensor).data;
    expect(weight.buffer).not.toBe(bias.buffer);
    expect(weight.byteLength).toBe(48);
  });
});

describe('strided views', () => {
  it('rebuilds a permuted 3-d view with a storage offset in row-major order', async () => {
    // Storage 0..39; the tensor is a [2, 3, 4] view at offset 5 with strides (1, 12, 3) (a permutation).
    const storage = Array.from({ length: 41 }, (_, i) => i);
    const shape = [2, 3, 4];
    const stride = [1, 12, 3];
    const path = await zipWithPickle('permuted.pyth', stateDictPickle([['w', tensorPickle('0', 41, 5, shape, stride)]]), { 0: float32Bytes(storage) });
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) want.push(5 + i * 1 + j * 12 + k * 3);
    const w = (await loadStateDict(path)).get('w') as Tensor;
    expect(w.shape).toEqual(shape);
    expect(Array.from(w.data as Float32Array)).toEqual(want);
  });

  it('widens bfloat16 to float32 exactly', async () => {
    const bits = new Uint16Array([0x3f80, 0xc040, 0x3e00]); // 1, -3, 0.125
    const path = await zipWithPickle('bf16.pyth', stateDictPickle([['b', tensorPickle('0', 3, 0, [3], [1], 'BFloat16Storage')]]), { 0: new Uint8Array(bits.buffer) });
    const b = (await loadStateDict(path)).get('b') as Tensor;
    expect(b.dtype).toBe('float32');
    expect(Array.from(b.data as Float32Array)).toEqual([1, -3, 0.125]);
  });

  it('refuses to blow a tiny storage up into a huge expanded (stride 0) tensor', async () => {
    // 200 x 250 x 250 x 100 elements (5 GB of float32), all viewing element 0 of a 1-element storage.
    const path = await zipWithPickle('expanded.pyth', stateDictPickle([['w', tensorPickle('0', 1, 0, [200, 250, 250, 100], [0, 0, 0, 0])]]), { 0: float32Bytes([1]) });
    expect(await errorCode(loadStateDict(path))).toBe('CHECKPOINT_UNSUPPORTED');
  });

  it('refuses a view that reaches past the end of its storage', async () => {
    const path = await zipWithPickle('overrun.pyth', stateDictPickle([['w', tensorPickle('0', 4, 2, [3], [1])]]), { 0: float32Bytes([1, 2, 3, 4]) });
    expect(await errorCode(loadStateDict(path))).toBe('CHECKPOINT_FORMAT');
  });
});

/** One tensor of every dtype the writer supports, including a scalar and an empty tensor. */
function everyDtypeStateDict(): StateDict {
  const t = (dtype: DType, shape: number[], data: Tensor['data']): Tensor => ({ dtype, shape, data });
  return new Map<string, Tensor>([
    ['conv.weight', t('float32', [2, 1, 2, 2], new Float32Array([0.5, -1.25, 3, 4, 5, 6, 7, -8.75]))],
    ['fc.weight', t('float64', [2, 2], new Float64Array([Math.PI, -Math.E, 1e-300, 1e300]))],
    ['half', t('float16', [2], new Uint16Array([0x3c00, 0xc000]))],
    ['steps', t('int64', [], new BigInt64Array([123456789012345n]))],
    ['ids', t('int32', [3], new Int32Array([-1, 0, 2147483647]))],
    ['shorts', t('int16', [2], new Int16Array([-32768, 32767]))],
    ['bytes', t('int8', [2], new Int8Array([-128, 127]))],
    ['pixels', t('uint8', [2], new Uint8Array([0, 255]))],
    ['mask', t('bool', [3], new Uint8Array([1, 0, 1]))],
    ['empty', t('float32', [0, 3], new Float32Array(0))],
  ]);
}

function comparable(state: StateDict): [string, DType, number[], (number | bigint)[]][] {
  return [...state].map(([name, t]) => [name, t.dtype, t.shape, Array.from(t.data as ArrayLike<number | bigint>)]);
}

describe('writeCheckpoint -> readCheckpoint round trip', () => {
  for (const format of ['zip', 'legacy'] as const) {
    it(`${format}: a PyTorchVideo-style dict keeps every tensor and entry`, async () => {
      const path = join(dir, `roundtrip.${format}.pyth`);
      const state = everyDtypeStateDict();
      const extra = { epoch: 7, cfg: 'MODEL:\n  ARCH: slowfast\n', step: 2n ** 62n, lr: 0.125, flags: [true, null], nested: { a: 'b' } };
      await writeCheckpoint(path, state, { format, extra });
      expect(comparable(await loadStateDict(path))).toEqual(comparable(state));
      const root = (await readCheckpoint(path)) as Map<string, unknown>;
      expect([...root.keys()]).toEqual(['model_state', 'epoch', 'cfg', 'step', 'lr', 'flags', 'nested']);
      expect(root.get('epoch')).toBe(7);
      expect(root.get('cfg')).toBe(extra.cfg);
      expect(root.get('step')).toBe(2n ** 62n);
      expect(root.get('lr')).toBe(0.125);
      expect(root.get('flags')).toEqual([true, null]);
      expect(root.get('nested')).toEqual(new Map([['a', 'b']]));
    });

    it(`${format}: a bare state dict is its own root`, async () => {
      const path = join(dir, `bare.${format}.pyth`);
      const state = everyDtypeStateDict();
      await writeCheckpoint(path, state, { format });
      expect(comparable(await loadStateDict(path))).toEqual(comparable(state));
    });
  }

  for (const format of ['zip', 'legacy'] as const) {
    it(`${format}: thousands of tensors (a ~400 KB pickle, larger than the first 256 KB read window)`, async () => {
      const path = join(dir, `many.${format}.pyth`);
      const state: StateDict = new Map();
      for (let i = 0; i < 3000; i++) state.set(`blocks.${i}.layer_with_a_long_descriptive_name.weight`, { dtype: 'float32', shape: [2], data: new Float32Array([i, -i]) });
      await writeCheckpoint(path, state, { format, extra: { epoch: 1 } });
      const read = await loadStateDict(path);
      expect(comparable(read)).toEqual(comparable(state));
    });
  }

  it('writes ZIP64 records that the reader follows', async () => {
    const path = join(dir, 'zip64.pyth');
    const state = everyDtypeStateDict();
    await writeCheckpoint(path, state, { format: 'zip', forceZip64: true });
    expect((await readFile(path)).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    expect(comparable(await loadStateDict(path))).toEqual(comparable(state));
  });

  it('lays the zip out as torch does: archive/ records, data 64-byte aligned, one storage per shared array', async () => {
    const path = join(dir, 'layout.pyth');
    const shared = new Float32Array([1, 2, 3, 4]);
    const state = new Map<string, Tensor>([
      ['a', { dtype: 'float32', shape: [4], data: shared }],
      ['b', { dtype: 'float32', shape: [2, 2], data: shared }],
      ['c', { dtype: 'int64', shape: [1], data: new BigInt64Array([5n]) }],
    ]);
    await writeCheckpoint(path, state, { format: 'zip' });
    const file = await CheckpointFile.open(path);
    try {
      const entries = await readZipDirectory(file);
      expect([...entries.keys()]).toEqual(['archive/data.pkl', 'archive/byteorder', 'archive/data/0', 'archive/data/1', 'archive/version']);
      for (const entry of entries.values()) {
        const header = await file.read(entry.localHeaderOffset, 30, 'header');
        const dataStart = entry.localHeaderOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
        expect(dataStart % 64).toBe(0);
        expect(entry.method).toBe(0);
      }
    } finally {
      await file.close();
    }
    const read = await loadStateDict(path);
    expect(Array.from((read.get('b') as Tensor).data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it('refuses tensors whose data does not match their shape or dtype, leaving no file', async () => {
    const path = join(dir, 'invalid.pyth');
    const wrongLength = new Map<string, Tensor>([['w', { dtype: 'float32', shape: [3], data: new Float32Array(2) }]]);
    const wrongType = new Map<string, Tensor>([['w', { dtype: 'float32', shape: [2], data: new Float64Array(2) }]]);
    expect(await errorCode(writeCheckpoint(path, wrongLength, { format: 'zip' }))).toBe('CHECKPOINT_WRITE_INVALID');
    expect(await errorCode(writeCheckpoint(path, wrongType, { format: 'legacy' }))).toBe('CHECKPOINT_WRITE_INVALID');
    expect(existsSync(path)).toBe(false);
  });
});

describe('inert records for classes that are not rebuilt', () => {
  it('keeps a config object as {__class__, args, state} without running it', async () => {
    // cfg = yacs.config.CfgNode via NEWOBJ, with dict items and a BUILD state.
    const pickle = pickleBytes(
      Op.PROTO, 2, Op.EMPTY_DICT,
      binunicode('model_state'), global('collections', 'OrderedDict'), Op.EMPTY_TUPLE, Op.REDUCE, Op.SETITEM,
      binunicode('cfg'), global('yacs.config', 'CfgNode'), Op.EMPTY_TUPLE, Op.NEWOBJ,
      Op.MARK, binunicode('NUM_FRAMES'), int1(32), Op.SETITEMS,
      Op.EMPTY_DICT, binunicode('__immutable__'), Op.NEWFALSE, Op.SETITEM, Op.BUILD,
      Op.SETITEM, Op.STOP,
    );
    const root = (await readCheckpoint(await zipWithPickle('cfg.pyth', pickle))) as Map<string, unknown>;
    const cfg = root.get('cfg') as PickledObject;
    expect(cfg).toBeInstanceOf(PickledObject);
    expect(cfg.__class__).toBe('yacs.config.CfgNode');
    expect(cfg.args).toEqual([]);
    expect(cfg.dictItems).toEqual(new Map([['NUM_FRAMES', 32]]));
    expect(cfg.state).toEqual(new Map([['__immutable__', false]]));
  });
});

describe('hostile and broken input gives a typed error, fast', () => {
  it('a path that does not exist: CHECKPOINT_NOT_FOUND', async () => {
    expect(await errorCode(loadStateDict(join(dir, 'missing.pyth')))).toBe('CHECKPOINT_NOT_FOUND');
    expect(await errorCode(readCheckpoint(join(dir, 'missing', 'deeper.pyth')))).toBe('CHECKPOINT_NOT_FOUND');
  });

  it('a directory: CHECKPOINT_UNREADABLE', async () => {
    const sub = join(dir, 'a-directory.pyth');
    await mkdir(sub, { recursive: true });
    expect(await errorCode(readCheckpoint(sub))).toBe('CHECKPOINT_UNREADABLE');
  });

  it('an empty file: CHECKPOINT_TRUNCATED', async () => {
    expect(await errorCode(readCheckpoint(await fileWith('empty.pyth', new Uint8Array(0))))).toBe('CHECKPOINT_TRUNCATED');
  });

  it('a file that is not a checkpoint (wrong magic): CHECKPOINT_FORMAT', async () => {
    expect(await errorCode(readCheckpoint(await fileWith('text.pyth', Buffer.from('<html>404 Not Found</html>\n'))))).toBe('CHECKPOINT_FORMAT');
    // A valid pickle, but not a torch.save file: its first object is 42, not the torch magic number.
    expect(await errorCode(readCheckpoint(await fileWith('pickle.pyth', pickleBytes(Op.PROTO, 2, int1(42), Op.STOP))))).toBe('CHECKPOINT_FORMAT');
  });

  it('every truncation of the zip fixture: CHECKPOINT_TRUNCATED', async () => {
    const whole = await readFile(TINY_ZIP);
    for (let length = 4; length < whole.length; length += 13) {
      const path = await fileWith('cut.zip.pyth', whole.subarray(0, length));
      expect([length, await errorCode(readCheckpoint(path))]).toEqual([length, 'CHECKPOINT_TRUNCATED']);
    }
  });

  it('every truncation of the legacy fixture: CHECKPOINT_TRUNCATED', async () => {
    const whole = await readFile(TINY_LEGACY);
    // Every cut inside the magic number and at each pickle boundary (sizes from pickletools), then a sweep.
    const boundaries = [14, 15, 20, 21, 136, 137, 1085, 1086, 1189, 1190, 1198, 1204];
    const cuts = [...Array.from({ length: 15 }, (_, i) => i + 1), ...boundaries, ...Array.from({ length: 100 }, (_, i) => 16 + i * 15)];
    for (const length of cuts.filter((n) => n < whole.length)) {
      const path = await fileWith('cut.legacy.pyth', whole.subarray(0, length));
      expect([length, await errorCode(readCheckpoint(path))]).toEqual([length, 'CHECKPOINT_TRUNCATED']);
    }
  });

  it('a corrupted storage byte fails the CRC check: CHECKPOINT_FORMAT', async () => {
    const bytes = Buffer.from(await readFile(TINY_ZIP));
    bytes[1024] = (bytes[1024] as number) ^ 0xff; // first byte of tiny_zip/data/0
    expect(await errorCode(loadStateDict(await fileWith('corrupt.pyth', bytes)))).toBe('CHECKPOINT_FORMAT');
  });

  it('a bad pickle opcode: CHECKPOINT_FORMAT, in either format', async () => {
    const zipPath = await zipWithPickle('badop.pyth', pickleBytes(Op.PROTO, 2, Op.EMPTY_DICT, 0xff, Op.STOP));
    await expect(readCheckpoint(zipPath)).rejects.toThrow(/unknown opcode 0xff/);
    expect(await errorCode(readCheckpoint(zipPath))).toBe('CHECKPOINT_FORMAT');
    const legacy = Buffer.from(await readFile(TINY_LEGACY));
    expect(legacy[139]).toBe(Op.EMPTY_DICT); // first opcode of the object pickle, after PROTO
    legacy[139] = 0xfe;
    expect(await errorCode(readCheckpoint(await fileWith('badop.legacy.pyth', legacy)))).toBe('CHECKPOINT_FORMAT');
  });

  it('a compressed record: CHECKPOINT_UNSUPPORTED', async () => {
    const bytes = Buffer.from(await readFile(TINY_ZIP));
    const central = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bytes.writeUInt16LE(8, central + 10); // data.pkl now claims to be deflated
    expect(await errorCode(readCheckpoint(await fileWith('deflated.pyth', bytes)))).toBe('CHECKPOINT_UNSUPPORTED');
  });

  it('a TorchScript archive without its data.pkl module tree: CHECKPOINT_FORMAT (see torchscript.test.ts for the readable ones)', async () => {
    const path = join(dir, 'scripted.pt');
    const zip = await StoredZipWriter.create(path);
    await zip.add('scripted/constants.pkl', pickleBytes(Op.PROTO, 2, Op.EMPTY_TUPLE, Op.STOP));
    await zip.add('scripted/code/__torch__.py', Buffer.from('def forward(self): ...\n'));
    await zip.finish();
    expect(await errorCode(readCheckpoint(path))).toBe('CHECKPOINT_FORMAT');
  });

  const marker = (): string => join(dir, 'pwned');
  const attacks: [string, () => Buffer][] = [
    ['os.system via GLOBAL + REDUCE', () => pickleBytes(Op.PROTO, 2, global('os', 'system'), binunicode(`touch ${marker()}`), Op.TUPLE1, Op.REDUCE, Op.STOP)],
    ['posix.system', () => pickleBytes(Op.PROTO, 2, global('posix', 'system'), binunicode(`touch ${marker()}`), Op.TUPLE1, Op.REDUCE, Op.STOP)],
    ['builtins.eval via STACK_GLOBAL', () => pickleBytes(Op.PROTO, 4, binunicode('builtins'), binunicode('eval'), Op.STACK_GLOBAL, binunicode(`__import__('os').system('touch ${marker()}')`), Op.TUPLE1, Op.REDUCE, Op.STOP)],
    ['subprocess.Popen via INST', () => pickleBytes(Op.MARK, binunicode('touch'), binunicode(marker()), Op.LIST, Op.MARK, 'isubprocess\nPopen\n', Op.STOP)],
    ['builtins.getattr', () => pickleBytes(Op.PROTO, 2, global('__builtin__', 'getattr'), Op.STOP)],
    ['a dunder escape', () => pickleBytes(Op.PROTO, 2, global('collections', 'OrderedDict.__init__.__globals__'), Op.STOP)],
  ];
  for (const [name, attack] of attacks) {
    it(`${name}: CHECKPOINT_UNSAFE, nothing executed, in either format`, async () => {
      const zipPath = await zipWithPickle('attack.pyth', attack());
      const legacyWrapper = Buffer.concat([
        pickleBytes(Op.PROTO, 2, Op.LONG1, 10), Buffer.from('6cfc9c46f9206aa85019', 'hex'), pickleBytes(Op.STOP), // magic
        pickleBytes(Op.PROTO, 2, Op.BININT2, 0xe9, 0x03, Op.STOP), // 1001
        pickleBytes(Op.PROTO, 2, Op.EMPTY_DICT, Op.STOP), // sys_info
        attack(),
      ]);
      const legacyPath = await fileWith('attack.legacy.pyth', legacyWrapper);
      const started = performance.now();
      expect(await errorCode(readCheckpoint(zipPath))).toBe('CHECKPOINT_UNSAFE');
      expect(await errorCode(loadStateDict(legacyPath))).toBe('CHECKPOINT_UNSAFE');
      expect(await errorCode(readCheckpoint(await fileWith('attack.bare.pyth', attack())))).toBe('CHECKPOINT_UNSAFE');
      expect(performance.now() - started).toBeLessThan(1000);
      expect(existsSync(marker())).toBe(false);
    });
  }

  it('a checkpoint without a state dict: CHECKPOINT_NO_STATE_DICT', async () => {
    const list = await zipWithPickle('list.pyth', pickleBytes(Op.PROTO, 2, Op.EMPTY_LIST, int1(1), Op.APPEND, Op.STOP));
    expect(await errorCode(loadStateDict(list))).toBe('CHECKPOINT_NO_STATE_DICT');
    const noModel = await zipWithPickle('nomodel.pyth', pickleBytes(Op.PROTO, 2, Op.EMPTY_DICT, binunicode('epoch'), int1(3), Op.SETITEM, Op.STOP));
    expect(await errorCode(loadStateDict(noModel))).toBe('CHECKPOINT_NO_STATE_DICT');
  });

  it('a state dict entry that is not a tensor: CHECKPOINT_FORMAT', async () => {
    const path = await zipWithPickle('nottensor.pyth', stateDictPickle([['w', binunicode('oops')]]));
    expect(await errorCode(loadStateDict(path))).toBe('CHECKPOINT_FORMAT');
  });
});
