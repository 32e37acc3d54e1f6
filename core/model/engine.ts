/**
 * A model (manifest + ONNX) loaded into an onnxruntime-node session: CUDA where it works, CPU
 * otherwise, batched runs that return the logits.
 *
 * CUDA: the npm package ships the CPU build; the CUDA execution provider is only there when it
 * was installed by onnxruntime-node's install script with `--onnxruntime-node-install-cuda=v12`
 * (the GPU container does this on purpose; package.json's allowScripts denies it elsewhere). Without it, asking for 'cuda' makes session creation throw
 * ("OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library"); with it but
 * no usable GPU/driver, it throws a CUDA error. Both are recognised here: 'auto' then falls back
 * to CPU and logs why, an explicit 'cuda' fails with MODEL_CUDA_UNAVAILABLE.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { VidxError } from '../errors.ts';
import { loadManifest } from '../pipeline/model-ref.ts';
import type { Manifest } from './manifest.ts';


export type DeviceRequest = 'auto' | 'cpu' | 'cuda';
export type Device = 'cpu' | 'cuda';

export interface EngineOptions {
  /** 'auto' (default): CUDA when it works, else CPU with the reason logged. */
  device?: DeviceRequest;
  /** onnxruntime intra-op threads (default: the machine's cores). */
  threads?: number;
  /** Where load decisions (device, fallback reason) are reported. Default: stderr. */
  log?: (msg: string) => void;
}

const CUDA_HINT =
  'CUDA needs an NVIDIA GPU with CUDA 12 and the CUDA build of onnxruntime-node (after `npm ci`, run `node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install-cuda=v12`, as the GPU container does); otherwise use --device cpu or auto';

/** Failures that mean "the CUDA execution provider cannot be used here", as opposed to a bad model. */
export function isCudaUnavailableError(e: unknown): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  return /cuda|cudnn|cublas|providers_shared|Failed to load shared library|no CUDA-capable device/i.test(msg);
}

function checkThreads(threads: number): number {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new VidxError('MODEL_BAD_OPTIONS', `threads must be a whole number >= 1, got ${threads}`, { hint: 'pass --threads 1 or more (or leave it out: all cores)' });
  }
  return threads;
}

function elementsPerItem(shape: Manifest['inputs'][number]['shape']): number {
  return shape[1] * shape[2] * shape[3] * shape[4];
}

function sessionOptions(threads: number, providers: ort.InferenceSession.ExecutionProviderConfig[]): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: providers,
    graphOptimizationLevel: 'all',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // Errors only: a failed CUDA attempt is reported through `log`, not as native noise.
    logSeverityLevel: 4,
  };
}

/** The graph must take exactly the manifest's inputs (names and sizes) and produce its output. */
function checkGraph(session: ort.InferenceSession, manifest: Manifest, onnxPath: string): void {
  const want = manifest.inputs.map((i) => i.name).sort();
  const got = [...session.inputNames].sort();
  if (want.join(',') !== got.join(',')) {
    throw new VidxError('MODEL_GRAPH_MISMATCH', `${onnxPath} takes inputs [${got.join(', ')}] but its manifest says [${want.join(', ')}]`, {
      hint: 'the ONNX file and its manifest do not belong together: rebuild the pair (vidx models synthesize|convert)',
    });
  }
  for (const meta of session.inputMetadata) {
    const input = manifest.inputs.find((i) => i.name === meta.name);
    if (!input || !meta.isTensor || meta.shape.length === 0) continue;
    const same = meta.shape.length === 5 && meta.shape.slice(1).every((d, k) => d === input.shape[k + 1]);
    if (!same) {
      throw new VidxError('MODEL_GRAPH_MISMATCH', `${onnxPath} input "${meta.name}" is [${meta.shape.join(', ')}] but its manifest says [${input.shape.join(', ')}]`, {
        hint: 'rebuild the model pair (vidx models synthesize|convert) so graph and manifest agree',
      });
    }
  }
  if (!session.outputNames.includes(manifest.output.name)) {
    throw new VidxError('MODEL_GRAPH_MISMATCH', `${onnxPath} has outputs [${session.outputNames.join(', ')}], not "${manifest.output.name}"`, {
      hint: 'rebuild the model pair (vidx models synthesize|convert) so graph and manifest agree',
    });
  }
}

function loadFailed(onnxPath: string, e: unknown): VidxError {
  return new VidxError('MODEL_LOAD_FAILED', `onnxruntime cannot load ${onnxPath}: ${(e as Error).message}`, {
    hint: 'the file may be truncated or not an ONNX model: rebuild it (vidx models synthesize|convert|pull)',
    cause: e,
  });
}

export class InferenceEngine {
  private session: ort.InferenceSession | undefined;

  private constructor(
    readonly manifest: Manifest,
    readonly manifestPath: string,
    readonly onnxPath: string,
    readonly device: Device,
    readonly threads: number,
    session: ort.InferenceSession,
    readonly fallbackReason?: string,
  ) {
    this.session = session;
  }

  /** Reads and validates the manifest, finds its ONNX file, and opens a session on the best device. */
  static async load(manifestPath: string, options: EngineOptions = {}): Promise<InferenceEngine> {
    const request = options.device ?? 'auto';
    if (!['auto', 'cpu', 'cuda'].includes(request)) {
      throw new VidxError('MODEL_BAD_OPTIONS', `device must be auto, cpu or cuda, got "${String(request)}"`, { hint: 'pass --device auto|cpu|cuda' });
    }
    const threads = checkThreads(options.threads ?? availableParallelism());
    const log = options.log ?? ((msg: string) => process.stderr.write(`vidx: ${msg}\n`));

    const manifest = loadManifest(manifestPath);
    const onnxPath = isAbsolute(manifest.onnx) ? manifest.onnx : resolve(dirname(manifestPath), manifest.onnx);
    if (!existsSync(onnxPath) || !statSync(onnxPath).isFile()) {
      throw new VidxError('MODEL_ONNX_MISSING', `the manifest ${manifestPath} names ${manifest.onnx}, but ${onnxPath} does not exist`, {
        hint: 'keep the .onnx file beside its .json manifest, or rebuild the pair (vidx models synthesize|convert)',
      });
    }

    let session: ort.InferenceSession | undefined;
    let fallbackReason: string | undefined;
    // The process-wide native logger (set up by the first session) would print a failed CUDA
    // probe as an error line on every CPU machine; its reason reaches the user through `log`
    // (auto) or the error (cuda), and every failure still throws with its message.
    ort.env.logLevel = 'fatal';
    if (request !== 'cpu') {
      try {
        session = await ort.InferenceSession.create(onnxPath, sessionOptions(threads, [{ name: 'cuda', deviceId: 0 }]));
      } catch (e) {
        if (!isCudaUnavailableError(e)) throw loadFailed(onnxPath, e);
        const reason = (e as Error).message;
        if (request === 'cuda') {
          throw new VidxError('MODEL_CUDA_UNAVAILABLE', `CUDA was requested but onnxruntime cannot use it: ${reason}`, { hint: CUDA_HINT, cause: e });
        }
        fallbackReason = reason;
        log(`CUDA is not available (${reason}); running on CPU with ${threads} thread${threads === 1 ? '' : 's'}`);
      }
    }
    const device: Device = session ? 'cuda' : 'cpu';
    if (!session) {
      try {
        session = await ort.InferenceSession.create(onnxPath, sessionOptions(threads, ['cpu']));
      } catch (e) {
        throw loadFailed(onnxPath, e);
      }
    } else {
      log(`running ${manifest.architecture} on CUDA`);
    }
    try {
      checkGraph(session, manifest, onnxPath);
    } catch (e) {
      await session.release();
      throw e;
    }
    return new InferenceEngine(manifest, manifestPath, onnxPath, device, threads, session, fallbackReason);
  }

  /** One batch-1 run on zeros: the first run allocates and plans, so time it out of the real work. */
  async warmup(): Promise<void> {
    const inputs: Record<string, Float32Array> = {};
    for (const input of this.manifest.inputs) inputs[input.name] = new Float32Array(elementsPerItem(input.shape));
    await this.run(inputs, 1);
  }

  /**
   * Runs `batch` windows. `inputs[name]` is [batch, 3, T, S, S] row-major for every manifest input.
   * Returns the logits, [batch, classes] row-major.
   */
  async run(inputs: Record<string, Float32Array>, batch: number): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new VidxError('MODEL_CLOSED', 'the inference engine is closed', { hint: 'load the model again' });
    if (!Number.isInteger(batch) || batch < 1) {
      throw new VidxError('MODEL_INPUT_MISMATCH', `batch must be a whole number >= 1, got ${batch}`, { hint: 'pass the number of windows in the batch' });
    }
    const names = new Set(this.manifest.inputs.map((i) => i.name));
    const extra = Object.keys(inputs).filter((k) => !names.has(k));
    if (extra.length > 0) {
      throw new VidxError('MODEL_INPUT_MISMATCH', `unknown input${extra.length > 1 ? 's' : ''} ${extra.join(', ')}; the model takes ${[...names].join(', ')}`, {
        hint: 'feed the inputs named in the manifest',
      });
    }
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of this.manifest.inputs) {
      const data = inputs[input.name];
      const [, c, t, h, w] = input.shape;
      if (!data) {
        throw new VidxError('MODEL_INPUT_MISMATCH', `input "${input.name}" is missing`, { hint: `feed every manifest input: ${[...names].join(', ')}` });
      }
      const expected = batch * elementsPerItem(input.shape);
      if (data.length !== expected) {
        throw new VidxError('MODEL_INPUT_MISMATCH', `input "${input.name}" has ${data.length} values; [${batch}, ${c}, ${t}, ${h}, ${w}] needs ${expected}`, {
          hint: 'pack each window as 3 x T x S x S floats (NCTHW), batch windows one after another',
        });
      }
      feeds[input.name] = new ort.Tensor('float32', data, [batch, c, t, h, w]);
    }
    const outName = this.manifest.output.name;
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await session.run(feeds, [outName]);
    } catch (e) {
      throw new VidxError('MODEL_RUN_FAILED', `inference failed on ${this.device}: ${(e as Error).message}`, { hint: 'check the inputs; on CUDA, try --device cpu', cause: e });
    }
    const out = result[outName];
    const classes = this.manifest.output.classes;
    if (!out || out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== batch || out.dims[1] !== classes) {
      throw new VidxError('MODEL_GRAPH_MISMATCH', `output "${outName}" is ${out ? `${out.type} [${out.dims.join(', ')}]` : 'missing'}, expected float32 [${batch}, ${classes}]`, {
        hint: 'rebuild the model pair so the graph ends in [N, classes] logits',
      });
    }
    return out.data as Float32Array;
  }

  /** Frees the session. Idempotent; runs after close fail with MODEL_CLOSED. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await session.release();
  }
}
