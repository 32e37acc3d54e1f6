/**
 * The two models of per-person action detection, loaded from their manifests into onnxruntime
 * sessions (CUDA where it works, CPU otherwise, as InferenceEngine):
 *
 * - PersonDetector (task detect-people, Faster R-CNN): one normalized frame in, people and other
 *   COCO objects out, post-processed in the graph as torchvision does.
 * - ActionDetector (task detect-actions, SlowFast R50 AVA): one clip of the whole frame and
 *   person boxes in that frame's pixels; one probability per action per box.
 *
 * Preprocessing (scaling, normalizing, padding, box scaling) is the caller's, driven by the
 * manifests; these classes check shapes and run.
 */
import * as ort from 'onnxruntime-node';
import { VidxError } from '../errors.ts';
import { loadModelManifest } from '../pipeline/model-ref.ts';
import { openSession, type Device, type EngineOptions } from './engine.ts';
import type { DetectorOutput } from '../detection/people.ts';
import type { ActionDetectorManifest, PersonDetectorManifest } from './manifest.ts';

/** x1, y1, x2, y2 in the model input's pixels. */
export type PixelBox = readonly [number, number, number, number];

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

function checkSize(height: number, width: number, multiple: number, what: string): void {
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < multiple || width < multiple || height % multiple !== 0 || width % multiple !== 0) {
    throw new VidxError('MODEL_INPUT_MISMATCH', `${what} is ${height}x${width}; it must be at least ${multiple} and a multiple of ${multiple} on each side`, {
      hint: `scale and pad the frame to multiples of ${multiple}`,
    });
  }
}

export class PersonDetector {
  private session: ort.InferenceSession | undefined;

  private constructor(
    readonly manifest: PersonDetectorManifest,
    readonly onnxPath: string,
    readonly device: Device,
    session: ort.InferenceSession,
  ) {
    this.session = session;
  }

  static async load(manifestPath: string, options: EngineOptions = {}): Promise<PersonDetector> {
    const manifest = loadModelManifest(manifestPath, 'detect-people');
    const opened = await openSession(manifestPath, manifest, options);
    try {
      requireNames(opened.session, [manifest.input.name, manifest.scoreThresholdInput], Object.values(manifest.outputs), opened.onnxPath);
    } catch (e) {
      await opened.session.release();
      throw e;
    }
    return new PersonDetector(manifest, opened.onnxPath, opened.device, opened.session);
  }

  /**
   * Detects objects in one frame: `image` is [3, height, width] row-major, already scaled,
   * normalized (inputRange, mean, std) and padded to multiples of manifest.sizeDivisible.
   * Returns the graph's outputs: boxes [N * 4] (x1, y1, x2, y2 in that input's pixels), scores
   * [N] best first, labels [N] (COCO ids: manifest.labels[id]; manifest.personLabel is a person),
   * N <= manifest.maxDetections. `scoreThreshold` defaults to manifest.scoreThreshold (a
   * detection must score strictly above it, as in torchvision).
   */
  async detect(image: Float32Array, height: number, width: number, options: { scoreThreshold?: number } = {}): Promise<DetectorOutput> {
    const session = this.session;
    if (!session) throw new VidxError('MODEL_CLOSED', 'the person detector is closed', { hint: 'load the model again' });
    const m = this.manifest;
    checkSize(height, width, m.sizeDivisible, 'the detector input');
    if (image.length !== 3 * height * width) {
      throw new VidxError('MODEL_INPUT_MISMATCH', `the detector input has ${image.length} values; [1, 3, ${height}, ${width}] needs ${3 * height * width}`, {
        hint: 'pack the frame as 3 x H x W floats (CHW)',
      });
    }
    const threshold = options.scoreThreshold ?? m.scoreThreshold;
    if (!(threshold >= 0 && threshold <= 1)) {
      throw new VidxError('MODEL_INPUT_MISMATCH', `score threshold must be in [0, 1], got ${threshold}`, { hint: 'pass a probability' });
    }
    const feeds: Record<string, ort.Tensor> = {
      [m.input.name]: new ort.Tensor('float32', image, [1, 3, height, width]),
      [m.scoreThresholdInput]: new ort.Tensor('float32', Float32Array.of(threshold), []),
    };
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await session.run(feeds);
    } catch (e) {
      throw runFailed(this.device, e);
    }
    return {
      boxes: out[m.outputs.boxes]!.data as Float32Array,
      scores: out[m.outputs.scores]!.data as Float32Array,
      labels: out[m.outputs.labels]!.data as BigInt64Array,
    };
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await session.release();
  }
}

export class ActionDetector {
  private session: ort.InferenceSession | undefined;

  private constructor(
    readonly manifest: ActionDetectorManifest,
    readonly onnxPath: string,
    readonly device: Device,
    session: ort.InferenceSession,
  ) {
    this.session = session;
  }

  static async load(manifestPath: string, options: EngineOptions = {}): Promise<ActionDetector> {
    const manifest = loadModelManifest(manifestPath, 'detect-actions');
    const opened = await openSession(manifestPath, manifest, options);
    try {
      requireNames(opened.session, [...manifest.inputs.map((i) => i.name), manifest.boxes.name], [manifest.output.name], opened.onnxPath);
    } catch (e) {
      await opened.session.release();
      throw e;
    }
    return new ActionDetector(manifest, opened.onnxPath, opened.device, opened.session);
  }

  /**
   * One clip, the people in it: `clip[name]` is [3, frames, height, width] row-major for every
   * manifest input (slow: 8 frames, fast: 32), the whole frame scaled to short side
   * manifest.shortSide and normalized; `boxes` in that clip's pixels. Returns one row of
   * manifest.output.classes probabilities per box (multi-label; labels in manifest.labels).
   */
  async predict(clip: Record<string, Float32Array>, height: number, width: number, boxes: readonly PixelBox[]): Promise<Float32Array[]> {
    const session = this.session;
    if (!session) throw new VidxError('MODEL_CLOSED', 'the action detector is closed', { hint: 'load the model again' });
    if (boxes.length === 0) return [];
    const m = this.manifest;
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of m.inputs) {
      const data = clip[input.name];
      const need = 3 * input.frames * height * width;
      if (!data || data.length !== need) {
        throw new VidxError('MODEL_INPUT_MISMATCH', `clip input "${input.name}" has ${data?.length ?? 0} values; [1, 3, ${input.frames}, ${height}, ${width}] needs ${need}`, {
          hint: `feed ${m.inputs.map((i) => `${i.name} (${i.frames} frames)`).join(' and ')} as 3 x T x H x W floats`,
        });
      }
      feeds[input.name] = new ort.Tensor('float32', data, [1, 3, input.frames, height, width]);
    }
    const rows = new Float32Array(boxes.length * 5);
    boxes.forEach((b, k) => {
      if (!b.every(Number.isFinite)) {
        throw new VidxError('MODEL_INPUT_MISMATCH', `box ${k} is [${b.join(', ')}]; boxes must be finite pixels x1, y1, x2, y2`, { hint: 'scale the person boxes to the clip input' });
      }
      rows.set([0, b[0], b[1], b[2], b[3]], k * 5);
    });
    feeds[m.boxes.name] = new ort.Tensor('float32', rows, [boxes.length, 5]);
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await session.run(feeds, [m.output.name]);
    } catch (e) {
      throw runFailed(this.device, e);
    }
    const probs = out[m.output.name]!.data as Float32Array;
    const classes = m.output.classes;
    return boxes.map((_, k) => probs.slice(k * classes, (k + 1) * classes));
  }

  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await session.release();
  }
}
