/**
 * The checkpoint reader on TorchScript archives (torch.jit.save, the layout of OpenAI's CLIP
 * releases): the module tree's tensors by dotted path, float16 widened, nothing executed; and
 * the archives it must refuse.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causalMask } from '../../models/arch/clip.ts';
import { float16Bits } from '../../models/onnx/float16.ts';
import type { StateDict, Tensor } from '../../models/tensor.ts';
import { float16BitsToNumber } from '../../models/torch/float16.ts';
import { loadStateDict, PickledObject, readCheckpoint, writeCheckpoint, writeTorchScriptArchive } from '../../models/torch/index.ts';
import { PyCall, PyGlobal, PyObject, PyTuple, pickle } from '../../models/torch/pickle/pickler.ts';
import { StoredZipWriter } from '../../models/torch/zip-writer.ts';

const halfOf = (values: number[]): Tensor => ({ dtype: 'float16', shape: [values.length], data: Uint16Array.from(values, float16Bits) });

/** A CLIP-shaped tree in miniature: own tensors first, nested modules, float16 and float32 mixed. */
function smallClip(): StateDict {
  return new Map<string, Tensor>([
    ['positional_embedding', { dtype: 'float32', shape: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) }],
    ['text_projection', { dtype: 'float16', shape: [3, 2], data: Uint16Array.from([0.5, -1.25, 2, 65504, -0.0001, 3.140625], float16Bits) }],
    ['logit_scale', { dtype: 'float32', shape: [], data: Float32Array.of(4.6052) }],
    ['visual.class_embedding', halfOf([0.1, 0.2, 0.3])],
    ['visual.conv1.weight', { dtype: 'float16', shape: [1, 3, 1, 1], data: Uint16Array.from([1, -2, 0.333], float16Bits) }],
    ['visual.transformer.resblocks.0.attn.in_proj_weight', { dtype: 'float16', shape: [9, 3], data: Uint16Array.from({ length: 27 }, (_, i) => float16Bits(i / 8)) }],
    ['visual.transformer.resblocks.0.ln_1.weight', { dtype: 'float32', shape: [3], data: Float32Array.of(1, 1, 1) }],
    ['token_embedding.weight', { dtype: 'float32', shape: [4, 3], data: Float32Array.from({ length: 12 }, (_, i) => i - 6) }],
  ]);
}

const asFloats = (t: Tensor): number[] => (t.dtype === 'float16' ? Array.from(t.data as Uint16Array, float16BitsToNumber) : Array.from(t.data as Float32Array));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vidx-torchscript-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a TorchScript archive (data.pkl module tree, data/<key> storages, constants.pkl, code/)', () => {
  it('reads as the state dict of its module tree: dotted names in order, shapes, values; float16 widened to float32 exactly', async () => {
    const sd = smallClip();
    const path = join(dir, 'ViT-tiny.pt');
    await writeTorchScriptArchive(path, sd, { rootClass: ['__torch__.clip.model', 'CLIP'], location: 'cuda:0', constants: [{ dtype: 'float32', shape: [3, 3], data: causalMask(3) }] });
    const read = await loadStateDict(path);
    expect([...read.keys()]).toEqual([...sd.keys()]);
    for (const [name, t] of sd) {
      const got = read.get(name)!;
      expect(got.dtype, name).toBe('float32');
      expect(got.shape, name).toEqual(t.shape);
      expect(asFloats(got), name).toEqual(asFloats(t));
    }
  });

  it('keeps the module tree as inert records (class names, training flags), never instantiated', async () => {
    const path = join(dir, 'tree.pt');
    await writeTorchScriptArchive(path, smallClip(), { rootClass: ['__torch__.clip.model', 'CLIP'] });
    const root = (await readCheckpoint(path)) as PickledObject;
    expect(root).toBeInstanceOf(PickledObject);
    expect(root.__class__).toBe('__torch__.clip.model.CLIP');
    const state = root.state as Map<string, unknown>;
    expect(state.get('training')).toBe(false);
    expect((state.get('visual') as PickledObject).__class__).toBe('__torch__.torch.nn.modules.module.Module');
  });

  it('is refused when it names a global that can run code (os.system) or one outside the allowlist', async () => {
    for (const [global, code] of [
      [new PyGlobal('os', 'system'), 'CHECKPOINT_UNSAFE'],
      [new PyGlobal('collections', 'Counter'), 'CHECKPOINT_UNSAFE'],
      [new PyGlobal('__torch__.__builtins__', 'eval'), 'CHECKPOINT_UNSAFE'],
    ] as const) {
      const hostile = pickle(new PyObject(new PyGlobal('__torch__.model', 'Model'), new Map([['x', new PyCall(global, ['touch /tmp/pwned'])]])), (why) => new Error(why));
      const path = join(dir, `hostile-${global.name}.pt`);
      await writeTorchScriptArchive(path, smallClip(), { replace: { 'data.pkl': hostile } });
      await expect(loadStateDict(path), global.name).rejects.toMatchObject({ code });
    }
  });

  it('is refused when a module class is called (REDUCE) instead of built', async () => {
    const called = pickle(new PyCall(new PyGlobal('__torch__.model', 'Model'), [new PyTuple([])]), (why) => new Error(why));
    const path = join(dir, 'called.pt');
    await writeTorchScriptArchive(path, smallClip(), { replace: { 'data.pkl': called } });
    await expect(loadStateDict(path)).rejects.toMatchObject({ code: 'CHECKPOINT_UNSAFE' });
  });

  it('is refused when a storage the tree names has no record, or when there is no module tree', async () => {
    const missing = join(dir, 'missing-storage.pt');
    await writeTorchScriptArchive(missing, smallClip(), { replace: { 'data/3': null } });
    await expect(loadStateDict(missing)).rejects.toMatchObject({ code: 'CHECKPOINT_FORMAT', message: expect.stringContaining('storage 3') });
    const noTree = join(dir, 'no-tree.pt');
    await writeTorchScriptArchive(noTree, smallClip(), { replace: { 'data.pkl': null } });
    await expect(loadStateDict(noTree)).rejects.toMatchObject({ code: 'CHECKPOINT_FORMAT', message: expect.stringContaining('TorchScript') });
    const notModule = join(dir, 'not-a-module.pt');
    await writeTorchScriptArchive(notModule, smallClip(), { replace: { 'data.pkl': pickle(new Map([['a', 1]]), (why) => new Error(why)) } });
    await expect(loadStateDict(notModule)).rejects.toMatchObject({ code: 'CHECKPOINT_NO_STATE_DICT' });
  });

  it('leaves torch.save checkpoints as they were: a __torch__ global there is still refused', async () => {
    const path = join(dir, 'plain.pth');
    await writeCheckpoint(path, smallClip(), { format: 'zip' });
    expect([...(await loadStateDict(path)).keys()]).toEqual([...smallClip().keys()]);
    // A module tree in a zip without constants.pkl or code/: not a TorchScript archive.
    const zip = await StoredZipWriter.create(join(dir, 'fake.pth'), {});
    await zip.add('archive/data.pkl', pickle(new PyObject(new PyGlobal('__torch__.model', 'Model'), new Map()), (why) => new Error(why)));
    await zip.finish();
    await expect(loadStateDict(join(dir, 'fake.pth'))).rejects.toMatchObject({ code: 'CHECKPOINT_UNSAFE' });
  });
});
