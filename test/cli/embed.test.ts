/**
 * `vidx models synthesize clip_vit_b32` and `vidx embed` as a user runs them: the bundle's
 * files, the tokens as fed to the text tower, the L2-normalized embedding (equal to openai/CLIP's
 * for the reference texts), pictures and video frames, and the refusals.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRICKET_GIF, ffmpeg, tempDir } from '../helpers/media.ts';
import { runVidx } from '../helpers/cli.ts';

const ARCH = 'clip_vit_b32';
const reference = JSON.parse(readFileSync(new URL('../../../shared/reference/clip_vit_b32.json', import.meta.url), 'utf8')) as {
  texts: string[];
  textTokens: number[][];
  textEmbedsNormalized: number[][];
};

interface EmbedJson {
  tokens?: number[];
  embedding: number[];
}

function norm(v: readonly number[]): number {
  return Math.sqrt(v.reduce((a, x) => a + x * x, 0));
}

let work: { dir: string; cleanup: () => void };
let manifest: string;

beforeAll(async () => {
  work = tempDir('vidx-embed-cli-');
  const out = join(work.dir, 'model');
  const r = await runVidx(['models', 'synthesize', ARCH, '--out', out]);
  expect(r.code, r.stderr).toBe(0);
  manifest = join(out, `${ARCH}.json`);
  expect(r.stdout).toContain(`wrote ${join(out, `${ARCH}.image.onnx`)}`);
  expect(r.stdout).toContain('image [Nx3x224x224] -> image_embeds, text [Nx77] int32 -> text_embeds');
}, 300_000);

afterAll(() => work.cleanup());

describe('vidx models synthesize clip_vit_b32', () => {
  it('writes the manifest (embed-text-image), both towers, the uint8 image entry and the vocabulary', () => {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { task: string };
    expect(m.task).toBe('embed-text-image');
    for (const f of [`${ARCH}.image.onnx`, `${ARCH}.text.onnx`, `${ARCH}.image.u8.onnx`, 'bpe_simple_vocab_16e6.txt.gz']) expect(existsSync(join(work.dir, 'model', f)), f).toBe(true);
  });
});

describe('vidx embed --text', () => {
  it('prints the tokens as fed and the L2-normalized embedding openai/CLIP gives (--json, |diff| < 1e-4)', async () => {
    const r = await runVidx(['embed', '--model', manifest, '--text', reference.texts[3]!, '--json', '--threads', '2']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as EmbedJson;
    expect(out.tokens).toEqual([49406, 1629, 5373, 49407]);
    expect(out.embedding).toHaveLength(512);
    const diff = Math.max(...out.embedding.map((v, i) => Math.abs(v - reference.textEmbedsNormalized[3]![i]!)));
    expect(diff).toBeLessThan(1e-4);
  }, 120_000);

  it('cuts a text longer than 77 tokens as clip.tokenize(truncate=True) does, and says so', async () => {
    const r = await runVidx(['embed', '--model', manifest, '--text', reference.texts[7]!, '--json', '--threads', '2']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as EmbedJson;
    expect(out.tokens).toEqual(reference.textTokens[7]);
    expect(r.stderr).toContain('longer than 77 tokens');
  }, 120_000);

  it('prints plain lines without --json', async () => {
    const r = await runVidx(['embed', '--model', manifest, '--text', '', '--threads', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^tokens \(2\): 49406 49407\nembedding \(512, L2-normalized\): (-?\d\.\d{6} ){511}-?\d\.\d{6}\n$/);
  }, 120_000);
});

describe('vidx embed --image', () => {
  it('embeds a video frame at --at and a picture, each a unit vector; different frames differ', async () => {
    const png = join(work.dir, 'frame.png');
    await ffmpeg(['-ss', '1', '-i', CRICKET_GIF, '-frames:v', '1', png]);
    const runs = await Promise.all([
      runVidx(['embed', '--model', manifest, '--image', CRICKET_GIF, '--at', '0', '--json', '--threads', '1']),
      runVidx(['embed', '--model', manifest, '--image', CRICKET_GIF, '--at', '1', '--json', '--threads', '1']),
    ]);
    const picture = await runVidx(['embed', '--model', manifest, '--image', png, '--json', '--threads', '2']);
    const [first, second, still] = [...runs, picture].map((r) => {
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as EmbedJson).embedding;
    });
    for (const e of [first!, second!, still!]) {
      expect(e).toHaveLength(512);
      expect(Math.abs(norm(e) - 1)).toBeLessThan(1e-5);
    }
    expect(Math.max(...first!.map((v, i) => Math.abs(v - second![i]!)))).toBeGreaterThan(1e-3);
    // The PNG holds the frame at 1 s: the same picture, up to PNG being lossless and the seek exact.
    expect(Math.max(...second!.map((v, i) => Math.abs(v - still![i]!)))).toBeLessThan(1e-3);
  }, 180_000);

  it('refuses a time past the end of the video with NO_FRAME', async () => {
    const r = await runVidx(['embed', '--model', manifest, '--image', CRICKET_GIF, '--at', '3600', '--threads', '2']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('NO_FRAME');
  }, 120_000);
});

describe('vidx embed refuses', () => {
  it('both --text and --image, or neither, with EMBED_BAD_OPTIONS', async () => {
    const both = await runVidx(['embed', '--model', manifest, '--text', 'x', '--image', CRICKET_GIF]);
    const neither = await runVidx(['embed', '--model', manifest]);
    for (const r of [both, neither]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('EMBED_BAD_OPTIONS');
    }
  });

  it('the manifest of a model of another task with MODEL_MANIFEST_BAD', async () => {
    const other = join(work.dir, 'classifier.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    writeFileSync(other, JSON.stringify({ ...m, task: 'classify' }));
    const r = await runVidx(['embed', '--model', other, '--text', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('MODEL_MANIFEST_BAD');
  });
});

describe('vidx models list', () => {
  it('shows both CLIP models', async () => {
    const r = await runVidx(['models', 'list', '--cache', join(work.dir, 'cache')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('clip_vit_b16\n');
    expect(r.stdout).toContain('clip_vit_b32\n');
  });
});
