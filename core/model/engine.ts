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
 *
 * Entries: a bundle has a float entry (manifest `onnx`: float32 NCTHW inputs, what parity checks
 * and inspect-window use) and, when built by this version, a uint8 entry (manifest `uint8`: the
 * window's frames as bytes, [N, T, C, C, 3], preprocessing inside the graph). `entry: 'auto'`
 * (analyze, the worker, the benches) takes the uint8 entry where the manifest has one.
 *
 * Binding (CUDA readiness): inputs are wrapped, never copied, and the logits land in an output
 * tensor allocated once per batch size and reused on every run. With `fixedBatches` (the default
 * on CUDA) a batch is padded up to the next power of two, so the model only ever sees a handful
 * of shapes: onnxruntime's CUDA provider runs cuDNN's EXHAUSTIVE algorithm search (its default,
 * and the only setting onnxruntime-node 1.30 can reach: its binding passes nothing but
 * deviceId) once per input shape, then reuses the winner; unbounded shapes would search again
 * for every new batch size a coalesced run happens to have. See docs/decisions.md.
 */
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { VidxError } from '../errors.ts';
import { loadManifest } from '../pipeline/model-ref.ts';
import { gpuPlausible } from './gpu.ts';
import type { Manifest, ModelManifest, Precision, Uint8EntryInfo } from './manifest.ts';


export type DeviceRequest = 'auto' | 'cpu' | 'cuda';
export type Device = 'cpu' | 'cuda';
/** Which ONNX file of the bundle runs: 'auto' is the uint8 entry when the manifest has one. */
export type EntryRequest = 'auto' | 'float' | 'uint8';
export type Entry = 'float' | 'uint8';
/** One model input's data: float32 for the float entry, uint8 frames for the uint8 entry. */
export type InputData = Float32Array | Uint8Array;

export interface EngineOptions {
  /** 'auto' (default): CUDA when it works, else CPU with the reason logged. */
  device?: DeviceRequest;
  /** onnxruntime intra-op threads (default: the machine's cores). */
  threads?: number;
  /** Where load decisions (device, fallback reason) are reported. Default: stderr. */
  log?: (msg: string) => void;
  /** Which entry to load (default 'float': float32 NCTHW inputs, as the parity checks feed them). */
  entry?: EntryRequest;
  /** Overrides the manifest's uint8 precision (float16 needs the bundle's .fp16 file). */
  precision?: Precision;
  /** Pad batches to the next power of two (default: on CUDA only). */
  fixedBatches?: boolean;
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

/** What one run feeds: name, element type, per-window shape (without N). */
export interface FeedSpec {
  name: string;
  type: 'float32' | 'uint8';
  shape: number[];
}

/** The inputs an entry takes, per window. */
export function feedSpecs(manifest: Manifest, entry: Entry): FeedSpec[] {
  if (entry === 'uint8') {
    const u8 = manifest.uint8;
    if (!u8) throw new VidxError('MODEL_BAD_OPTIONS', `the manifest of ${manifest.architecture} has no uint8 entry`, { hint: 'rebuild the model (vidx models synthesize|convert|pull --force) or use the float entry' });
    return [{ name: u8.input, type: 'uint8', shape: [manifest.frames, manifest.crop, manifest.crop, 3] }];
  }
  return manifest.inputs.map((i) => ({ name: i.name, type: 'float32', shape: i.shape.slice(1) as number[] }));
}

/** The batch the model sees: the next power of two >= n when shapes are fixed, else n. */
export function boundBatch(n: number, fixed: boolean): number {
  if (!fixed) return n;
  let b = 1;
  while (b < n) b *= 2;
  return b;
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

/** The graph must take exactly the entry's inputs (names and sizes) and produce the manifest's output. */
function checkGraph(session: ort.InferenceSession, manifest: Manifest, feeds: FeedSpec[], onnxPath: string): void {
  const want = feeds.map((i) => i.name).sort();
  const got = [...session.inputNames].sort();
  if (want.join(',') !== got.join(',')) {
    throw new VidxError('MODEL_GRAPH_MISMATCH', `${onnxPath} takes inputs [${got.join(', ')}] but its manifest says [${want.join(', ')}]`, {
      hint: 'the ONNX file and its manifest do not belong together: rebuild the pair (vidx models synthesize|convert)',
    });
  }
  for (const meta of session.inputMetadata) {
    const input = feeds.find((i) => i.name === meta.name);
    if (!input || !meta.isTensor || meta.shape.length === 0) continue;
    const same = meta.type === input.type && meta.shape.length === input.shape.length + 1 && meta.shape.slice(1).every((d, k) => d === input.shape[k]);
    if (!same) {
      throw new VidxError('MODEL_GRAPH_MISMATCH', `${onnxPath} input "${meta.name}" is ${meta.type} [${meta.shape.join(', ')}] but its manifest says ${input.type} [N, ${input.shape.join(', ')}]`, {
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

/**
 * Resolves the entry and precision a load asks for to the ONNX file (relative paths: beside the
 * manifest). One rule for every kind of model (InferenceEngine, PersonDetector, ActionDetector):
 * 'auto' is the uint8 entry when the manifest has one, 'float' the float entry, 'uint8' the uint8
 * entry or an error; absent means 'float'.
 */
export function chooseEntry(manifest: { onnx: string; uint8?: Uint8EntryInfo | undefined }, manifestPath: string, options: EngineOptions): { entry: Entry; precision: Precision; file: string } {
  const request = options.entry ?? 'float';
  if (!['auto', 'float', 'uint8'].includes(request)) {
    throw new VidxError('MODEL_BAD_OPTIONS', `entry must be auto, float or uint8, got "${String(request)}"`, { hint: 'pass auto, float or uint8' });
  }
  const u8 = manifest.uint8;
  const entry: Entry = request === 'float' || (request === 'auto' && !u8) ? 'float' : 'uint8';
  if (entry === 'float') return { entry, precision: 'float32', file: manifest.onnx };
  if (!u8) {
    throw new VidxError('MODEL_BAD_OPTIONS', `${manifestPath} has no uint8 entry`, { hint: 'rebuild the model with this vidx (vidx models synthesize|convert|pull --force), or load the float entry' });
  }
  const precision = options.precision ?? u8.precision;
  if (precision === 'float16') {
    if (u8.onnxFloat16 === null) {
      throw new VidxError('MODEL_BAD_OPTIONS', `${manifestPath} asks for float16 but its bundle has no float16 file`, { hint: 'rebuild with float16 (vidx models synthesize --float16; convert and pull build it) or set precision float32' });
    }
    return { entry, precision, file: u8.onnxFloat16 };
  }
  return { entry, precision, file: u8.onnx };
}

/** A batch size's bound tensors: the output allocated once and reused, and padded inputs when batches are fixed. */
interface Binding {
  output: ort.Tensor;
  /** Input buffers of the bound size, for batches that have to be padded up to it. */
  padded: Map<string, ort.Tensor>;
}

export class InferenceEngine {
  private session: ort.InferenceSession | undefined;
  private readonly bindings = new Map<number, Binding>();
  /** What each run takes (per window), from the manifest and the entry. */
  readonly feeds: readonly FeedSpec[];

  private constructor(
    readonly manifest: Manifest,
    readonly manifestPath: string,
    readonly onnxPath: string,
    readonly device: Device,
    readonly threads: number,
    session: ort.InferenceSession,
    readonly entry: Entry,
    readonly precision: Precision,
    readonly fixedBatches: boolean,
    readonly fallbackReason?: string,
  ) {
    this.session = session;
    this.feeds = feedSpecs(manifest, entry);
  }

  /** Reads and validates the manifest, finds its ONNX file, and opens a session on the best device. */
  static async load(manifestPath: string, options: EngineOptions = {}): Promise<InferenceEngine> {
    const manifest = loadManifest(manifestPath);
    const { entry, precision, file } = chooseEntry(manifest, manifestPath, options);
    const { session, onnxPath, device, threads, fallbackReason } = await openSession(
      manifestPath,
      { onnx: file, architecture: manifest.architecture },
      options,
      `${entry} entry, ${precision}`,
    );
    try {
      checkGraph(session, manifest, feedSpecs(manifest, entry), onnxPath);
    } catch (e) {
      await session.release();
      throw e;
    }
    const fixed = options.fixedBatches ?? device === 'cuda';
    return new InferenceEngine(manifest, manifestPath, onnxPath, device, threads, session, entry, precision, fixed, fallbackReason);
  }

  /** One batch-1 run on zeros: the first run allocates and plans, so time it out of the real work. */
  async warmup(): Promise<void> {
    const inputs: Record<string, InputData> = {};
    for (const f of this.feeds) {
      const n = f.shape.reduce((a, b) => a * b, 1);
      inputs[f.name] = f.type === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
    }
    await this.run(inputs, 1);
  }

  /** Bytes one window hands the model (all inputs of this entry). */
  get bytesPerWindow(): number {
    return this.feeds.reduce((sum, f) => sum + f.shape.reduce((a, b) => a * b, 1) * (f.type === 'uint8' ? 1 : 4), 0);
  }

  private binding(bound: number): Binding {
    let b = this.bindings.get(bound);
    if (!b) {
      const classes = this.manifest.output.classes;
      b = { output: new ort.Tensor('float32', new Float32Array(bound * classes), [bound, classes]), padded: new Map() };
      this.bindings.set(bound, b);
    }
    return b;
  }

  /**
   * Runs `batch` windows. `inputs[name]` holds the batch's windows one after another, for every
   * input of the entry: float entry [batch, 3, T, S, S] float32 per manifest input; uint8 entry
   * [batch, T, S, S, 3] uint8 frames. Returns the logits, [batch, classes] row-major (a copy:
   * the bound output buffer is reused by the next run).
   */
  async run(inputs: Record<string, InputData>, batch: number): Promise<Float32Array> {
    const session = this.session;
    if (!session) throw new VidxError('MODEL_CLOSED', 'the inference engine is closed', { hint: 'load the model again' });
    if (!Number.isInteger(batch) || batch < 1) {
      throw new VidxError('MODEL_INPUT_MISMATCH', `batch must be a whole number >= 1, got ${batch}`, { hint: 'pass the number of windows in the batch' });
    }
    const names = new Set(this.feeds.map((i) => i.name));
    const extra = Object.keys(inputs).filter((k) => !names.has(k));
    if (extra.length > 0) {
      throw new VidxError('MODEL_INPUT_MISMATCH', `unknown input${extra.length > 1 ? 's' : ''} ${extra.join(', ')}; the model (${this.entry} entry) takes ${[...names].join(', ')}`, {
        hint: 'feed the inputs of the loaded entry',
      });
    }
    const bound = boundBatch(batch, this.fixedBatches);
    const binding = this.binding(bound);
    const feeds: Record<string, ort.Tensor> = {};
    for (const f of this.feeds) {
      const data = inputs[f.name];
      if (!data) {
        throw new VidxError('MODEL_INPUT_MISMATCH', `input "${f.name}" is missing`, { hint: `feed every input of the ${this.entry} entry: ${[...names].join(', ')}` });
      }
      const per = f.shape.reduce((a, b) => a * b, 1);
      const expected = batch * per;
      const type = data instanceof Uint8Array ? 'uint8' : 'float32';
      if (type !== f.type || data.length !== expected) {
        throw new VidxError('MODEL_INPUT_MISMATCH', `input "${f.name}" has ${data.length} ${type} values; ${f.type} [${batch}, ${f.shape.join(', ')}] needs ${expected}`, {
          hint: f.type === 'uint8' ? 'pack each window as T x S x S x 3 bytes (rgb24 frames), batch windows one after another' : 'pack each window as 3 x T x S x S floats (NCTHW), batch windows one after another',
        });
      }
      if (bound === batch) {
        feeds[f.name] = new ort.Tensor(f.type, data, [batch, ...f.shape]);
      } else {
        // Padded up to the bound batch: copy into the buffer kept for that size; the rows past
        // `batch` keep whatever they held (their logits are dropped).
        let t = binding.padded.get(f.name);
        if (!t) {
          t = new ort.Tensor(f.type, f.type === 'uint8' ? new Uint8Array(bound * per) : new Float32Array(bound * per), [bound, ...f.shape]);
          binding.padded.set(f.name, t);
        }
        (t.data as InputData).set(data as never);
        feeds[f.name] = t;
      }
    }
    const outName = this.manifest.output.name;
    const classes = this.manifest.output.classes;
    let result: ort.InferenceSession.ReturnType;
    try {
      result = await session.run(feeds, { [outName]: binding.output });
    } catch (e) {
      throw new VidxError('MODEL_RUN_FAILED', `inference failed on ${this.device}: ${(e as Error).message}`, { hint: 'check the inputs; on CUDA, try --device cpu', cause: e });
    }
    const out = result[outName];
    if (!out || out.type !== 'float32' || out.dims.length !== 2 || out.dims[0] !== bound || out.dims[1] !== classes) {
      throw new VidxError('MODEL_GRAPH_MISMATCH', `output "${outName}" is ${out ? `${out.type} [${out.dims.join(', ')}]` : 'missing'}, expected float32 [${bound}, ${classes}]`, {
        hint: 'rebuild the model pair so the graph ends in [N, classes] logits',
      });
    }
    return (binding.output.data as Float32Array).slice(0, batch * classes);
  }

  /** Frees the session. Idempotent; runs after close fail with MODEL_CLOSED. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    this.bindings.clear();
    if (session) await session.release();
  }
}

export interface OpenedSession {
  session: ort.InferenceSession;
  onnxPath: string;
  device: Device;
  threads: number;
  fallbackReason?: string;
}

/**
 * Finds the manifest's ONNX file and opens an onnxruntime session on the best device ('auto':
 * CUDA when it works, else CPU with the reason logged). Shared by every kind of model.
 */
export async function openSession(
  manifestPath: string,
  manifest: Pick<ModelManifest, 'onnx' | 'architecture'>,
  options: EngineOptions = {},
  /** What the CUDA log line adds about the graph (e.g. its entry and precision). */
  what?: string,
): Promise<OpenedSession> {
  const request = options.device ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(request)) {
    throw new VidxError('MODEL_BAD_OPTIONS', `device must be auto, cpu or cuda, got "${String(request)}"`, { hint: 'pass --device auto|cpu|cuda' });
  }
  const threads = checkThreads(options.threads ?? availableParallelism());
  const log = options.log ?? ((msg: string) => process.stderr.write(`vidx: ${msg}\n`));

  const onnxPath = isAbsolute(manifest.onnx) ? manifest.onnx : resolve(dirname(manifestPath), manifest.onnx);
  if (!existsSync(onnxPath) || !statSync(onnxPath).isFile()) {
    throw new VidxError('MODEL_ONNX_MISSING', `the manifest ${manifestPath} names ${manifest.onnx}, but ${onnxPath} does not exist`, {
      hint: 'keep the .onnx files beside their .json manifest, or rebuild the bundle (vidx models synthesize|convert)',
    });
  }

  let session: ort.InferenceSession | undefined;
  let fallbackReason: string | undefined;
  // The process-wide native logger (set up by the first session) would print a failed CUDA
  // probe as an error line on every CPU machine; its reason reaches the user through `log`
  // (auto) or the error (cuda), and every failure still throws with its message.
  ort.env.logLevel = 'fatal';
  // 'auto' tries CUDA only where a GPU is plausible: elsewhere the attempt only fails, with a line about a missing library.
  if (request === 'cuda' || (request === 'auto' && gpuPlausible())) {
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
    log(`running ${manifest.architecture} on CUDA${what ? ` (${what})` : ''}`);
  }
  return { session, onnxPath, device, threads, ...(fallbackReason === undefined ? {} : { fallbackReason }) };
}

