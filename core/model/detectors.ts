/**
 * The two models of per-person action detection, loaded from their manifests into onnxruntime
 * sessions (CUDA where it works, CPU otherwise, as InferenceEngine):
 *
 * - PersonDetector (task detect-people, Faster R-CNN): one frame in, people and other COCO
 *   objects out, post-processed in the graph as torchvision does.
 * - ActionDetector (task detect-actions, SlowFast R50 AVA): clips of the whole frame (one, or
 *   several in one run: the graph's batch axis) and person boxes in those frames' pixels; one
 *   probability per action per box.
 *
 * Entries, chosen as InferenceEngine chooses (engine.ts chooseEntry; 'auto' = the uint8 entry
 * where the bundle has one, absent = float):
 * - uint8 (what analyze --detect and the worker run): bytes as ffmpeg writes them. The detector
 *   takes the frame as scaled (any size, rgb24) and its graph normalizes and pads to
 *   multiples of sizeDivisible; the action model takes the clip's frames [1, T, H, W, 3] and its
 *   graph normalizes and picks the slow pathway's frames.
 * - float (parity tests): normalized float32, NCHW padded for the detector, NCTHW per pathway
 *   for the action model, as core/detection/frames.ts packs them.
 *
 * Scaling and box scaling are the caller's, driven by the manifests; these classes check shapes
 * and run. `inference` counts the session.run calls and their wall time (inference only).
 */
import * as ort from 'onnxruntime-node';
import { VidxError } from '../errors.ts';
import { loadModelManifest } from '../pipeline/model-ref.ts';
import { chooseEntry, openSession, type Device, type EngineOptions, type Entry, type InputData, type OpenedSession } from './engine.ts';
import type { DetectorOutput } from '../detection/people.ts';
import type { ActionDetectorManifest, PersonDetectorManifest } from './manifest.ts';

/** x1, y1, x2, y2 in the model input's pixels. */
export type PixelBox = readonly [number, number, number, number];

/** session.run calls since load and their summed wall time: inference only, no packing or checks. */
export interface InferenceStats {
  runs: number;
  ms: number;
}

function requireNames(session: ort.InferenceSession, names: readonly string[], outputs: readonly string[], onnxPath: string): void {
  const missingIn = names.filter((n) => !session.inputNames.includes(n));
  const missingOut = outputs.filter((n) => !session.outputNames.includes(n));
  if (missingIn.length + missingOut.length > 0) {
    throw new VidxError('MODEL_GRAPH_MISMATCH', `${onnxPath} lacks ${[...missingIn.map((n) => `input ${n}`), ...missingOut.map((n) => `output ${n}`)].join(', ')} its manifest names`, {
      hint: 'the ONNX file and its manifest do not belong together: rebuild the pair (vidx models synthesize|convert)',
    });
  }
}

function runFailed(device: Device, e: unknown): VidxError {
  return new VidxError('MODEL_RUN_FAILED', `inference failed on ${device}: ${(e as Error).message}`, { hint: 'check the inputs; on CUDA, try --device cpu', cause: e });
}

/** One timed session.run. */
async function timedRun(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, outputs: readonly string[], stats: InferenceStats, device: Device): Promise<ort.InferenceSession.ReturnType> {
  const t = performance.now();
  try {
    return await session.run(feeds, [...outputs]);
  } catch (e) {
    throw runFailed(device, e);
  } finally {
    stats.runs++;
    stats.ms += performance.now() - t;
  }
}

/**
 * Opens the entry `options.entry` asks for (chooseEntry), logging it like InferenceEngine, and
 * checks the graph has the inputs and outputs its manifest names for that entry.
 */
async function openEntry(
  manifestPath: string,
  manifest: Pick<PersonDetectorManifest | ActionDetectorManifest, 'onnx' | 'architecture' | 'uint8'>,
  options: EngineOptions,
  names: (entry: Entry) => { inputs: readonly string[]; outputs: readonly string[] },
): Promise<OpenedSession & { entry: Entry }> {
  const { entry, precision, file } = chooseEntry(manifest, manifestPath, options);
  const opened = await openSession(manifestPath, { onnx: file, architecture: manifest.architecture }, options, `${entry} entry, ${precision}`);
  try {
    const { inputs, outputs } = names(entry);
    requireNames(opened.session, inputs, outputs, opened.onnxPath);
  } catch (e) {
    await opened.session.release();
    throw e;
  }
  return { ...opened, entry };
}

/** A tensor of the entry's type: uint8 bytes or float32 values. */
function entryTensor(data: InputData, entry: Entry, shape: readonly number[]): ort.Tensor {
  return entry === 'uint8' ? new ort.Tensor('uint8', data as Uint8Array, shape) : new ort.Tensor('float32', data as Float32Array, shape);
}

/** What both detection models are once loaded: a session for one entry, its run statistics, close. */
abstract class DetectionModel<M> {
  private session: ort.InferenceSession | undefined;
  readonly inference: InferenceStats = { runs: 0, ms: 0 };

  protected constructor(
    readonly manifest: M,
    readonly onnxPath: string,
    readonly device: Device,
    readonly entry: Entry,
    session: ort.InferenceSession,
  ) {
    this.session = session;
  }

  /** The open session, or MODEL_CLOSED naming the model. */
  protected liveSession(what: string): ort.InferenceSession {
    if (!this.session) throw new VidxError('MODEL_CLOSED', `the ${what} is closed`, { hint: 'load the model again' });
    return this.session;
  }

  protected run(session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, outputs: readonly string[]): Promise<ort.InferenceSession.ReturnType> {
    return timedRun(session, feeds, outputs, this.inference, this.device);
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await session.release();
  }
}

function checkSize(height: number, width: number, multiple: number, what: string): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < multiple || width < multiple || height % multiple !== 0 || width % multiple !== 0) {
    throw new VidxError('MODEL_INPUT_MISMATCH', `${what} is ${height}x${width}; it must be at least ${multiple} and a multiple of ${multiple} on each side`, {
      hint: `scale and pad the frame to multiples of ${multiple}`,
    });
  }
}

function checkData(data: InputData, entry: Entry, need: number, what: string, shape: string): void {
  const type = data instanceof Uint8Array ? 'uint8' : 'float32';
  const want = entry === 'uint8' ? 'uint8' : 'float32';
  if (type !== want || data.length !== need) {
    throw new VidxError('MODEL_INPUT_MISMATCH', `${what} has ${data.length} ${type} values; the ${entry} entry takes ${want} ${shape}, ${need} values`, {
      hint: entry === 'uint8' ? 'hand the rgb24 bytes as decoded (H x W x 3 per frame)' : 'pack normalized floats channels first (core/detection/frames.ts)',
    });
  }
}

export class PersonDetector extends DetectionModel<PersonDetectorManifest> {
  static async load(manifestPath: string, options: EngineOptions = {}): Promise<PersonDetector> {
    const manifest = loadModelManifest(manifestPath, 'detect-people');
    // A uint8 entry that does not pad in the graph (built before padTo) cannot take the scaled
    // frame as it is (bytes padded on the host do not normalize to zeros): it counts as absent.
    const padded = manifest.uint8?.padTo === manifest.sizeDivisible ? manifest.uint8 : undefined;
    if (manifest.uint8 && !padded && options.entry === 'uint8') {
      throw new VidxError('MODEL_BAD_OPTIONS', `the uint8 entry of ${manifestPath} does not pad to multiples of ${manifest.sizeDivisible} in the graph`, {
        hint: 'rebuild the model with this vidx (vidx models synthesize|convert|pull --force), or load the float entry',
      });
    }
    const opened = await openEntry(manifestPath, { ...manifest, uint8: padded }, options, (entry) => ({
      inputs: [entry === 'uint8' ? padded!.input : manifest.input.name, manifest.scoreThresholdInput],
      outputs: Object.values(manifest.outputs),
    }));
    return new PersonDetector(manifest, opened.onnxPath, opened.device, opened.entry, opened.session);
  }

  /**
   * Detects objects in one frame. uint8 entry: `image` is the frame as scaled (minSize/maxSize),
   * rgb24 [height, width, 3], any size (the graph normalizes and pads). Float entry: `image` is
   * [3, height, width] floats, normalized (inputRange, mean, std) and zero-padded to multiples of
   * manifest.sizeDivisible (packDetectorImage). Returns the graph's outputs: boxes [N * 4]
   * (x1, y1, x2, y2 in the input's pixels; padding only adds room at the right and bottom, so
   * both entries give the same pixels), scores [N] best first, labels [N] (COCO ids:
   * manifest.labels[id]; manifest.personLabel is a person), N <= manifest.maxDetections.
   * `scoreThreshold` defaults to manifest.scoreThreshold (a detection must score strictly above
   * it, as in torchvision).
   */
  async detect(image: InputData, height: number, width: number, options: { scoreThreshold?: number } = {}): Promise<DetectorOutput> {
    const session = this.liveSession('person detector');
    const m = this.manifest;
    if (this.entry === 'uint8') checkSize(height, width, 1, 'the detector input');
    else checkSize(height, width, m.sizeDivisible, 'the detector input');
    const shape = this.entry === 'uint8' ? [1, height, width, 3] : [1, 3, height, width];
    checkData(image, this.entry, 3 * height * width, 'the detector input', `[${shape.join(', ')}]`);
    const threshold = options.scoreThreshold ?? m.scoreThreshold;
    if (!(threshold >= 0 && threshold <= 1)) {
      throw new VidxError('MODEL_INPUT_MISMATCH', `score threshold must be in [0, 1], got ${threshold}`, { hint: 'pass a probability' });
    }
    const feeds: Record<string, ort.Tensor> = {
      [this.entry === 'uint8' ? m.uint8!.input : m.input.name]: entryTensor(image, this.entry, shape),
      [m.scoreThresholdInput]: new ort.Tensor('float32', Float32Array.of(threshold), []),
    };
    const out = await this.run(session, feeds, Object.values(m.outputs));
    return {
      boxes: out[m.outputs.boxes]!.data as Float32Array,
      scores: out[m.outputs.scores]!.data as Float32Array,
      labels: out[m.outputs.labels]!.data as BigInt64Array,
    };
  }
}

export class ActionDetector extends DetectionModel<ActionDetectorManifest> {
  static async load(manifestPath: string, options: EngineOptions = {}): Promise<ActionDetector> {
    const manifest = loadModelManifest(manifestPath, 'detect-actions');
    const opened = await openEntry(manifestPath, manifest, options, (entry) => ({
      inputs: [...(entry === 'uint8' ? [manifest.uint8!.input] : manifest.inputs.map((i) => i.name)), manifest.boxes.name],
      outputs: [manifest.output.name],
    }));
    return new ActionDetector(manifest, opened.onnxPath, opened.device, opened.entry, opened.session);
  }

  /**
   * One clip, the people in it. The clip is the whole frame scaled to short side
   * manifest.shortSide, height x width. uint8 entry: `clip[manifest.uint8.input]` is its
   * manifest.frames frames, rgb24 [frames, height, width, 3] (the graph normalizes and picks each
   * pathway's frames). Float entry: `clip[name]` is [3, frames, height, width] normalized floats
   * for every manifest input (slow: 8 frames, fast: 32). `boxes` in that clip's pixels. Returns
   * one row of manifest.output.classes probabilities per box (multi-label; labels in
   * manifest.labels).
   */
  async predict(clip: Record<string, InputData>, height: number, width: number, boxes: readonly PixelBox[]): Promise<Float32Array[]> {
    if (boxes.length === 0) {
      this.liveSession('action detector');
      return [];
    }
    return (await this.predictClips(clip, 1, height, width, [boxes]))[0]!;
  }

  /**
   * `count` clips in one run (the graph's batch axis N; RoIAlign picks each box's clip by the
   * boxes' batch-index column): each input's data is the clips' data one after another, each as
   * predict takes it. `boxes[n]` are clip n's people (at least one person in all). Returns, per
   * clip, one row per box. Every clip's probabilities are what predict gives for it alone, up to
   * the float rounding of batched kernels.
   */
  async predictClips(clips: Record<string, InputData>, count: number, height: number, width: number, boxes: readonly (readonly PixelBox[])[]): Promise<Float32Array[][]> {
    const session = this.liveSession('action detector');
    if (!Number.isInteger(count) || count < 1 || boxes.length !== count) {
      throw new VidxError('MODEL_INPUT_MISMATCH', `${count} clips with ${boxes.length} box lists; give one box list per clip`, { hint: 'pass the people of every clip, in clip order' });
    }
    const m = this.manifest;
    const inputs = this.entry === 'uint8' ? [{ name: m.uint8!.input, frames: m.frames }] : m.inputs;
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) {
      const data = clips[input.name];
      const shape = this.entry === 'uint8' ? [count, input.frames, height, width, 3] : [count, 3, input.frames, height, width];
      const need = count * 3 * input.frames * height * width;
      if (!data) {
        throw new VidxError('MODEL_INPUT_MISMATCH', `clip input "${input.name}" is missing`, { hint: `the ${this.entry} entry takes ${inputs.map((i) => `${i.name} (${i.frames} frames)`).join(' and ')}` });
      }
      checkData(data, this.entry, need, `clip input "${input.name}"`, `[${shape.join(', ')}]`);
      feeds[input.name] = entryTensor(data, this.entry, shape);
    }
    const total = boxes.reduce((n, b) => n + b.length, 0);
    if (total === 0) throw new VidxError('MODEL_INPUT_MISMATCH', 'no box in any clip', { hint: 'run the action model only on clips with people' });
    const rows = new Float32Array(total * 5);
    let k = 0;
    boxes.forEach((list, n) =>
      list.forEach((b) => {
        if (!b.every(Number.isFinite)) {
          throw new VidxError('MODEL_INPUT_MISMATCH', `box ${k} is [${b.join(', ')}]; boxes must be finite pixels x1, y1, x2, y2`, { hint: 'scale the person boxes to the clip input' });
        }
        rows.set([n, b[0], b[1], b[2], b[3]], k * 5);
        k++;
      }),
    );
    feeds[m.boxes.name] = new ort.Tensor('float32', rows, [total, 5]);
    const out = await this.run(session, feeds, [m.output.name]);
    const probs = out[m.output.name]!.data as Float32Array;
    const classes = m.output.classes;
    let row = 0;
    return boxes.map((list) => list.map(() => probs.slice(row * classes, ++row * classes)));
  }
}
