/**
 * The inference engine on a synthesized I3D R50 (SlowFast is covered by the parity suite; it is
 * too slow on CPU to run twice), and softmax/top-k on hand-computed cases.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVidxError, type ErrorCode } from '../../core/errors.ts';
import { boundBatch, InferenceEngine, isCudaUnavailableError } from '../../core/model/engine.ts';
import { gpuPlausible, TRY_CUDA_ENV } from '../../core/model/gpu.ts';
import { normalizationTable } from '../../core/video/normalize.ts';
import { softmax, topK } from '../../core/model/scores.ts';
import { synthesize, type ModelPair } from '../../models/convert.ts';
import { syntheticInput } from '../../models/synthetic.ts';
import { readGolden } from './golden.ts';
import { writeTinyBundle } from './tiny-bundle.ts';

const golden = readGolden();
/** The CUDA execution provider is present only in the CUDA build (onnxruntime-node-install-cuda=v12). */
const CUDA_BUILD = existsSync(new URL('../../node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so', import.meta.url));

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

async function expectVidxError(p: Promise<unknown>, code: ErrorCode): Promise<Error> {
  const e = await p.then(
    () => new Error('expected a rejection'),
    (err: unknown) => err as Error,
  );
  expect(isVidxError(e, code), `${(e as Error).message}`).toBe(true);
  return e;
}

describe('InferenceEngine on a synthesized i3d_r50', () => {
  let dir: string;
  let pair: ModelPair;
  let engine: InferenceEngine;
  const video = golden.i3d_r50.inputs.video!;
  const item = syntheticInput('video', video);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vidx-engine-'));
    pair = await synthesize('i3d_r50', dir);
    engine = await InferenceEngine.load(pair.manifestPath, { device: 'cpu', threads: 2, log: () => undefined });
  }, 120_000);

  afterAll(async () => {
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads on the CPU with the requested threads and the manifest', () => {
    expect(engine.device).toBe('cpu');
    expect(engine.threads).toBe(2);
    expect(engine.fallbackReason).toBeUndefined();
    expect(engine.manifest.architecture).toBe('i3d_r50');
    expect(engine.onnxPath).toBe(pair.onnxPath);
  });

  it('gives the golden logits of the canonical PyTorchVideo model (max |diff| < 1e-3)', async () => {
    await engine.warmup();
    const logits = await engine.run({ video: item }, 1);
    expect(logits.length).toBe(400);
    expect(maxAbsDiff(logits, golden.i3d_r50.logits)).toBeLessThan(1e-3);
  });

  it('a batch of 2 gives the rows of two batch-1 runs', async () => {
    const other = item.map((v, i) => (i % 7 === 0 ? -v : v * 0.5));
    const both = new Float32Array(item.length * 2);
    both.set(item, 0);
    both.set(other, item.length);
    const batched = await engine.run({ video: both }, 2);
    expect(batched.length).toBe(800);
    const first = await engine.run({ video: item }, 1);
    const second = await engine.run({ video: other }, 1);
    expect(maxAbsDiff(batched.subarray(0, 400), first)).toBeLessThan(1e-4);
    expect(maxAbsDiff(batched.subarray(400), second)).toBeLessThan(1e-4);
    // The second window really differs, so the rows are not trivially equal.
    expect(maxAbsDiff(first, second)).toBeGreaterThan(1e-3);
  });

  it('refuses inputs that do not fit the manifest', async () => {
    await expectVidxError(engine.run({ video: item.subarray(1) }, 1), 'MODEL_INPUT_MISMATCH');
    await expectVidxError(engine.run({ video: item }, 2), 'MODEL_INPUT_MISMATCH');
    await expectVidxError(engine.run({}, 1), 'MODEL_INPUT_MISMATCH');
    await expectVidxError(engine.run({ video: item, slow: item }, 1), 'MODEL_INPUT_MISMATCH');
    await expectVidxError(engine.run({ video: item }, 0), 'MODEL_INPUT_MISMATCH');
  });

  it.skipIf(CUDA_BUILD)("device 'auto' where a GPU is plausible tries CUDA, falls back to the CPU here and logs why", async () => {
    const logged: string[] = [];
    process.env[TRY_CUDA_ENV] = '1';
    const auto = await InferenceEngine.load(pair.manifestPath, { device: 'auto', threads: 1, log: (m) => logged.push(m) }).finally(() => delete process.env[TRY_CUDA_ENV]);
    try {
      expect(auto.device).toBe('cpu');
      expect(auto.fallbackReason).toMatch(/cuda|shared library/i);
      expect(logged.join('\n')).toContain('CUDA is not available');
      expect(logged.join('\n')).toContain(auto.fallbackReason!);
    } finally {
      await auto.close();
    }
  });

  it.skipIf(CUDA_BUILD || gpuPlausible())("device 'auto' on a machine with no GPU device goes straight to the CPU, with no CUDA line", async () => {
    const logged: string[] = [];
    const auto = await InferenceEngine.load(pair.manifestPath, { device: 'auto', threads: 1, log: (m) => logged.push(m) });
    try {
      expect(auto.device).toBe('cpu');
      expect(auto.fallbackReason).toBeUndefined();
      expect(logged.join('\n')).not.toMatch(/cuda|shared library/i);
    } finally {
      await auto.close();
    }
  });

  it.skipIf(CUDA_BUILD)("device 'cuda' fails here with MODEL_CUDA_UNAVAILABLE and says what to install", async () => {
    const e = await expectVidxError(InferenceEngine.load(pair.manifestPath, { device: 'cuda', log: () => undefined }), 'MODEL_CUDA_UNAVAILABLE');
    expect(e.message).toContain('CUDA was requested');
    expect((e as { hint?: string }).hint).toContain('onnxruntime-node-install-cuda=v12');
  });

  it('recognises the CUDA-unavailable failures onnxruntime reports, and only those', () => {
    expect(isCudaUnavailableError(new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library'))).toBe(true);
    expect(isCudaUnavailableError(new Error('CUDA failure 100: no CUDA-capable device is detected'))).toBe(true);
    expect(isCudaUnavailableError(new Error('Load model from x.onnx failed: Protobuf parsing failed.'))).toBe(false);
  });

  it('refuses bad options, a missing ONNX file, a manifest that does not match its graph, and runs after close', async () => {
    await expectVidxError(InferenceEngine.load(pair.manifestPath, { device: 'cpu', threads: 0 }), 'MODEL_BAD_OPTIONS');
    await expectVidxError(InferenceEngine.load(pair.manifestPath, { device: 'gpu' as 'cpu' }), 'MODEL_BAD_OPTIONS');

    const manifest = JSON.parse(await readFile(pair.manifestPath, 'utf8')) as Record<string, unknown>;
    const missing = join(dir, 'missing.json');
    await writeFile(missing, JSON.stringify({ ...manifest, onnx: 'nowhere.onnx' }));
    await expectVidxError(InferenceEngine.load(missing, { device: 'cpu' }), 'MODEL_ONNX_MISSING');

    const wrongCrop = join(dir, 'wrong-crop.json');
    await writeFile(wrongCrop, JSON.stringify({ ...manifest, inputs: [{ name: 'video', shape: ['N', 3, 8, 256, 256], frames: 8 }] }));
    await expectVidxError(InferenceEngine.load(wrongCrop, { device: 'cpu', threads: 1 }), 'MODEL_GRAPH_MISMATCH');

    const wrongName = join(dir, 'wrong-name.json');
    await writeFile(wrongName, JSON.stringify({ ...manifest, inputs: [{ name: 'clip', shape: ['N', 3, 8, 224, 224], frames: 8 }] }));
    await expectVidxError(InferenceEngine.load(wrongName, { device: 'cpu', threads: 1 }), 'MODEL_GRAPH_MISMATCH');

    const notOnnx = join(dir, 'not-onnx.json');
    await writeFile(join(dir, 'garbage.onnx'), 'this is not a protobuf');
    await writeFile(notOnnx, JSON.stringify({ ...manifest, onnx: 'garbage.onnx' }));
    await expectVidxError(InferenceEngine.load(notOnnx, { device: 'auto', threads: 1, log: () => undefined }), 'MODEL_LOAD_FAILED');

    await expectVidxError(InferenceEngine.load(join(dir, 'no-such.json'), { device: 'cpu' }), 'MODEL_MANIFEST_BAD');

    const once = await InferenceEngine.load(pair.manifestPath, { device: 'cpu', threads: 1 });
    await once.close();
    await once.close();
    await expectVidxError(once.run({ video: item }, 1), 'MODEL_CLOSED');
  }, 60_000);
});

describe('InferenceEngine: the uint8 entry (frames as bytes) of the same synthesized i3d_r50', () => {
  let dir: string;
  let pair: ModelPair;
  let bytesEngine: InferenceEngine;
  let floatEngine: InferenceEngine;
  const [, , T, S] = golden.i3d_r50.inputs.video!;
  const perWindow = T! * S! * S! * 3;

  /** Window bytes [T, S, S, 3] from a seed, and the float NCTHW the float path would pack from them. */
  function window(seed: number): { bytes: Uint8Array; floats: Float32Array } {
    const bytes = new Uint8Array(perWindow);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.imul(i + seed * 7919, 2654435761) >>> 24) & 0xff;
    const lut = normalizationTable(bytesEngine.manifest);
    const plane = S! * S!;
    const floats = new Float32Array(3 * T! * plane);
    for (let t = 0; t < T!; t++) for (let p = 0; p < plane; p++) for (let c = 0; c < 3; c++) floats[(c * T! + t) * plane + p] = lut[c * 256 + bytes[(t * plane + p) * 3 + c]!]!;
    return { bytes, floats };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vidx-engine-u8-'));
    pair = await synthesize('i3d_r50', dir);
    bytesEngine = await InferenceEngine.load(pair.manifestPath, { device: 'cpu', threads: 2, entry: 'auto', log: () => undefined });
    floatEngine = await InferenceEngine.load(pair.manifestPath, { device: 'cpu', threads: 2, log: () => undefined });
  }, 120_000);

  afterAll(async () => {
    await bytesEngine?.close();
    await floatEngine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("'auto' loads the uint8 file the manifest names; the default stays the float entry", () => {
    expect(bytesEngine.entry).toBe('uint8');
    expect(bytesEngine.onnxPath).toBe(join(dir, 'i3d_r50.u8.onnx'));
    expect(bytesEngine.feeds).toEqual([{ name: 'frames', type: 'uint8', shape: [8, 224, 224, 3] }]);
    expect(bytesEngine.bytesPerWindow).toBe(8 * 224 * 224 * 3);
    expect(floatEngine.entry).toBe('float');
    expect(floatEngine.onnxPath).toBe(pair.onnxPath);
    expect(floatEngine.bytesPerWindow).toBe(4 * 3 * 8 * 224 * 224);
  });

  it('gives the float entry’s logits for the same window (the in-graph preprocessing is the JS one)', async () => {
    const a = window(1);
    const fromBytes = await bytesEngine.run({ frames: a.bytes }, 1);
    const fromFloats = await floatEngine.run({ video: a.floats }, 1);
    expect(maxAbsDiff(fromBytes, fromFloats)).toBeLessThan(1e-4);
  });

  it('refuses float inputs on the uint8 entry, and a uint8 entry the manifest does not have', async () => {
    await expectVidxError(bytesEngine.run({ frames: new Float32Array(perWindow) as unknown as Uint8Array }, 1), 'MODEL_INPUT_MISMATCH');
    await expectVidxError(bytesEngine.run({ video: new Float32Array(3 * perWindow / 3) }, 1), 'MODEL_INPUT_MISMATCH');
    const manifest = JSON.parse(await readFile(pair.manifestPath, 'utf8')) as Record<string, unknown>;
    const old = join(dir, 'before-uint8.json');
    await writeFile(old, JSON.stringify({ ...manifest, uint8: undefined }));
    const auto = await InferenceEngine.load(old, { device: 'cpu', threads: 1, entry: 'auto' });
    expect(auto.entry).toBe('float');
    await auto.close();
    await expectVidxError(InferenceEngine.load(old, { device: 'cpu', threads: 1, entry: 'uint8' }), 'MODEL_BAD_OPTIONS');
    await expectVidxError(InferenceEngine.load(pair.manifestPath, { device: 'cpu', threads: 1, entry: 'uint8', precision: 'float16' }), 'MODEL_BAD_OPTIONS');
  });

  it('fixed batches (CUDA default): 3 windows run padded to 4 give the rows of single runs; the bound output is not handed out', async () => {
    const tiny = await writeTinyBundle(dir);
    const fixed = await InferenceEngine.load(tiny.manifestPath, { device: 'cpu', threads: 1, entry: 'auto', fixedBatches: true });
    try {
      expect(fixed.fixedBatches).toBe(true);
      const per = fixed.bytesPerWindow;
      const joined = new Uint8Array(3 * per);
      for (let i = 0; i < joined.length; i++) joined[i] = (i * 31 + (i >> 9)) & 0xff;
      const three = await fixed.run({ frames: joined }, 3);
      expect(three.length).toBe(3 * 2);
      const rows = [];
      for (let k = 0; k < 3; k++) rows.push(await fixed.run({ frames: joined.subarray(k * per, (k + 1) * per) }, 1));
      for (let k = 0; k < 3; k++) expect(maxAbsDiff(three.subarray(2 * k, 2 * k + 2), rows[k]!)).toBeLessThan(1e-4);
      // The batch-3 result was copied out: later runs on the same bound output did not change it.
      expect(maxAbsDiff(three.subarray(0, 2), rows[2]!)).toBeGreaterThan(1e-3);
    } finally {
      await fixed.close();
    }
  });

  it('binds batch sizes to powers of two only when asked (CUDA)', () => {
    expect([1, 2, 3, 5, 8, 9, 32].map((n) => boundBatch(n, true))).toEqual([1, 2, 4, 8, 8, 16, 32]);
    expect(boundBatch(3, false)).toBe(3);
  });
});

describe('softmax', () => {
  it('normalises each row: [0, ln 2, ln 3] -> [1/6, 2/6, 3/6]', () => {
    const p = softmax(new Float32Array([0, Math.log(2), Math.log(3), 5, 5, 5]), 3);
    expect([...p.subarray(0, 3)].map((x) => +x.toFixed(6))).toEqual([+(1 / 6).toFixed(6), +(2 / 6).toFixed(6), +(3 / 6).toFixed(6)]);
    expect([...p.subarray(3)].map((x) => +x.toFixed(6))).toEqual([0.333333, 0.333333, 0.333333]);
  });

  it('is stable for large logits (no overflow to NaN/Infinity)', () => {
    const p = softmax(new Float32Array([1000, 1000, -1000, 3e38, 0, -3e38]), 3);
    expect([...p]).toEqual([0.5, 0.5, 0, 1, 0, 0]);
  });

  it('refuses values that do not form rows of `classes`', () => {
    expect(() => softmax(new Float32Array(5), 2)).toThrow(/rows of 2 classes/);
    expect(() => softmax(new Float32Array(4), 0)).toThrow(/SCORES|rows/);
  });
});

describe('topK', () => {
  const labels = ['a', 'b', 'c', 'd'];
  const probs = new Float32Array([0.1, 0.4, 0.2, 0.3, 0.25, 0.25, 0.25, 0.25]);

  it('returns the k best of a row, best first, with label and class index', () => {
    expect(topK(probs, 0, 4, 2, labels)).toEqual([
      { label: 'b', index: 1, p: expect.closeTo(0.4, 6) as number },
      { label: 'd', index: 3, p: expect.closeTo(0.3, 6) as number },
    ]);
    expect(topK(probs, 0, 4, 4, labels).map((s) => s.label)).toEqual(['b', 'd', 'c', 'a']);
  });

  it('reads the requested row and breaks ties by the lower class index', () => {
    expect(topK(probs, 1, 4, 3, labels).map((s) => s.index)).toEqual([0, 1, 2]);
  });

  it('refuses a row, k or label list that does not fit', () => {
    expect(() => topK(probs, 2, 4, 1, labels)).toThrow(/row 2/);
    expect(() => topK(probs, 0, 4, 5, labels)).toThrow(/k must be/);
    expect(() => topK(probs, 0, 4, 0, labels)).toThrow(/k must be/);
    expect(() => topK(probs, 0, 4, 1, labels.slice(1))).toThrow(/3 labels for 4 classes/);
  });
});
