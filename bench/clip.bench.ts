/**
 * CLIP ViT-B/16 and ViT-B/32 on this CPU (onnxruntime-node, 2 threads, synthesized weights: the
 * arithmetic of the released models): per text (the text tower, batch 1), per image at batch 1
 * and batch 8 (the uint8 entry), the uint8 entry's host cost per image (ffmpeg: decode, bicubic
 * short side 224, centre crop, rgb24 out; the graph does the rest), and the text tower's cold
 * start in a fresh process (import, vocabulary, session, first text), as the query Lambda pays it.
 * The machine is shared: the load average is printed beside the figures.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { synthesize } from '../models/convert.ts';
import { readFrame, TextImageEmbedder } from '../models/embedder.ts';

const THREADS = 2;
const CRICKET = fileURLToPath(new URL('../../shared/media/cricket_shot.gif', import.meta.url));
const REPO = fileURLToPath(new URL('../', import.meta.url));

/** Mean wall ms per run, and this process's CPU ms per run (all threads; ffmpeg's CPU is a child's, not counted). */
async function mean(runs: number, f: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  await f(); // warm-up: first runs plan and allocate
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < runs; i++) await f();
  const used = process.cpuUsage(cpu);
  return { wall: (performance.now() - started) / runs, cpu: (used.user + used.system) / 1000 / runs };
}

const ms = (m: { wall: number; cpu: number }, per = 1) => `${(m.wall / per).toFixed(0)} ms wall (CPU ${(m.cpu / per).toFixed(0)} ms)`;

const load = () => loadavg().map((l) => l.toFixed(1)).join(' / ');

/** A fresh node process: import, tokenizer, text session, one text; prints its own timings as JSON. */
const COLD = `
const t0 = performance.now();
const { TextImageEmbedder } = await import('./models/embedder.ts');
const t1 = performance.now();
const e = await TextImageEmbedder.load(process.argv[1], { device: 'cpu', threads: ${THREADS}, log: () => {} });
const t2 = performance.now();
await e.embedTexts(['a person smoking']);
const t3 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, loadMs: t2 - t1, firstMs: t3 - t2 }));
await e.close();
`;

export async function run(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'vidx-bench-clip-'));
  try {
    for (const arch of ['clip_vit_b16', 'clip_vit_b32'] as const) {
      const { manifestPath } = await synthesize(arch, join(work, arch));
      const before = load();
      const cold = JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', COLD, manifestPath], { cwd: REPO, encoding: 'utf8' }).trim().split('\n').pop()!,
      ) as { importMs: number; loadMs: number; firstMs: number };
      const embedder = await TextImageEmbedder.load(manifestPath, { device: 'cpu', threads: THREADS, log: () => {} });
      try {
        const textMs = await mean(10, () => embedder.embedTexts(['two people fighting in a parking lot']));
        const frame = await readFrame(CRICKET, embedder.manifest, 1);
        const image1Ms = await mean(5, () => embedder.embedImages(frame, 1));
        const batch = new Uint8Array(8 * frame.length);
        for (let i = 0; i < 8; i++) batch.set(frame, i * frame.length);
        const image8Ms = await mean(3, () => embedder.embedImages(batch, 8));
        const hostMs = await mean(5, () => readFrame(CRICKET, embedder.manifest, 1));
        console.log(
          `${arch} (CPU, ${THREADS} threads; load avg before ${before}, after ${load()}):\n` +
            `  text tower: ${ms(textMs)} per text (batch 1); cold start in a fresh process ${(cold.importMs + cold.loadMs + cold.firstMs).toFixed(0)} ms ` +
            `(import ${cold.importMs.toFixed(0)}, vocabulary + session ${cold.loadMs.toFixed(0)}, first text ${cold.firstMs.toFixed(0)})\n` +
            `  image tower (uint8 entry): ${ms(image1Ms)} per image at batch 1, ${ms(image8Ms, 8)} per image at batch 8\n` +
            `  uint8 entry host cost: ${hostMs.wall.toFixed(0)} ms wall per image (ffmpeg: decode a cricket_shot.gif frame, bicubic to 224, crop, rgb24)`,
        );
      } finally {
        await embedder.close();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
