/**
 * Pipeline test fixtures: tiny ffmpeg-made videos and a deterministic scorer for the clip worker.
 *
 * The scorer stands in for the ONNX model where a test is about the queue/index machinery: it
 * reads the clip through its presigned URL (so a vanished object is a real, permanent fault) and
 * returns a fixed top-k per window derived from (object, window index).
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { VidxError } from '../../core/errors.ts';
import type { WindowScore } from '../../core/result.ts';
import { planWindows } from '../../core/video/windows.ts';
import { ffmpegPath } from '../../core/video/ffmpeg.ts';
import type { ClipScorer, PlannedWindow } from '../../core/pipeline/clip-scorer.ts';
import type { SegmenterDeps } from '../../core/pipeline/segment.ts';
import { buildSegmenterDeps } from '../../lambdas/segmenter/deps.ts';
import type { TestStack } from '../helpers/emulators.ts';

/** i3d-like window arithmetic with 1-second windows (8 frames, rate 4, 32 fps): cheap and round. */
export const TEST_WINDOW = { frames: 8, samplingRate: 4, fps: 32 } as const;
/** A logger that keeps test output clean. */
export const quiet = { info() {}, warn() {}, error() {} };

/**
 * The segmenter wired to a test stack by the production builder: 2 s clips over TEST_WINDOW
 * windows unless overridden.
 */
export function testSegmenterDeps(stack: TestStack, overrides: Partial<SegmenterDeps> = {}): SegmenterDeps {
  const deps = buildSegmenterDeps({
    clients: stack.clients,
    tableName: stack.resources.tableName,
    queueUrl: stack.resources.queueUrl,
    model: { architecture: 'i3d_r50', trained: false, ...TEST_WINDOW },
    clipSeconds: 2,
    log: quiet,
  });
  return { ...deps, ...overrides };
}

export const TEST_LABELS = Array.from({ length: 12 }, (_, i) => `action ${i}`);

export function makeVideo(dir: string, name: string, seconds: number, opts: { size?: string; rate?: number; pattern?: string } = {}): string {
  const out = join(dir, name);
  execFileSync(ffmpegPath(), [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `${opts.pattern ?? 'testsrc2'}=size=${opts.size ?? '96x64'}:rate=${opts.rate ?? 15}:duration=${seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', out,
  ]);
  return out;
}

export class DeterministicScorer implements ClipScorer {
  readonly device = 'cpu';
  readonly architecture = 'i3d_r50';
  readonly trained = false;
  calls = 0;
  windowsScored = 0;
  /**
   * `model` stands for other weights of the same architecture: another manifest sha256, and
   * other (still deterministic) scores.
   */
  constructor(readonly topK = 3, private readonly delayMs = 0, private readonly model: { manifestSha256?: string; salt?: string } = {}) {}

  get manifestSha256(): string | undefined {
    return this.model.manifestSha256;
  }

  windowsFor(duration: number): PlannedWindow[] {
    return planWindows(duration, TEST_WINDOW);
  }

  async score(source: string, _video: unknown, windows: readonly PlannedWindow[], signal: AbortSignal) {
    this.calls++;
    const t0 = performance.now();
    const r = await fetch(source, { signal });
    if (r.status === 404) throw new VidxError('VIDEO_NOT_FOUND', 'the video is gone from the bucket');
    if (!r.ok) throw new Error(`HTTP ${r.status} reading the clip`);
    await r.arrayBuffer();
    // Like the real scorer (ffmpeg is killed on abort), the work stops as soon as it is aborted.
    if (this.delayMs > 0) {
      await new Promise<void>((res, rej) => {
        const t = setTimeout(res, this.delayMs);
        signal.addEventListener('abort', () => (clearTimeout(t), rej(signal.reason)), { once: true });
      });
    }
    signal.throwIfAborted();
    const path = new URL(source).pathname;
    const out: WindowScore[] = windows.map((w) => ({ index: w.index, start: w.start, end: w.end, top: topFor(`${path}${this.model.salt ?? ''}`, w.index, this.topK) }));
    this.windowsScored += out.length;
    return { windows: out, decodeMs: performance.now() - t0, inferenceMs: 0 };
  }

  async close(): Promise<void> {}
}

function topFor(path: string, index: number, k: number) {
  const h = createHash('sha256').update(`${path}#${index}`).digest();
  const picked: number[] = [];
  for (let i = 0; i < h.length && picked.length < k; i++) {
    const c = h[i]! % TEST_LABELS.length;
    if (!picked.includes(c)) picked.push(c);
  }
  for (let c = 0; picked.length < k; c++) if (!picked.includes(c)) picked.push(c);
  return picked.map((c, rank) => ({ label: TEST_LABELS[c]!, index: c, p: 0.5 / (rank + 1) }));
}
