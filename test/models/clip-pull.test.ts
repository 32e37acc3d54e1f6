/**
 * pull('clip_vit_b32') against a local stand-in for OpenAI's release server: a TorchScript
 * archive of the synthetic ViT-B/32 (the layout of ViT-B-32.pt: module tree, storages on
 * cuda:0, the causal mask in constants.pkl, build_model's config entries beside the weights)
 * and the BPE vocabulary; the bundle it caches embeds as openai/CLIP does. And its refusals.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { causalMask } from '../../models/arch/clip.ts';
import { TextImageEmbedder } from '../../models/embedder.ts';
import { KNOWN_SHA256, pull, zooUrl } from '../../models/pull.ts';
import { synthesizeStateDict } from '../../models/synthetic.ts';
import type { Tensor } from '../../models/tensor.ts';
import { writeTorchScriptArchive } from '../../models/torch/index.ts';
import { startZooServer, type ZooServer } from './store-zoo-server.ts';

const ARCH = 'clip_vit_b32';
const FILE = 'ViT-B-32.pt';
const VOCAB = 'bpe_simple_vocab_16e6.txt.gz';
const SHARED_VOCAB = fileURLToPath(new URL('../../../shared/reference/clip_bpe_simple_vocab_16e6.txt.gz', import.meta.url));
const reference = JSON.parse(readFileSync(new URL('../../../shared/reference/clip_vit_b32.json', import.meta.url), 'utf8')) as {
  texts: string[];
  textTokens: number[][];
  textEmbedsNormalized: number[][];
};

const scalar = (v: bigint): Tensor => ({ dtype: 'int64', shape: [], data: BigInt64Array.of(v) });

describe('pull clip_vit_b32', () => {
  let work: string;
  let archive: string;
  let sha256: string;
  let zoo: ZooServer;
  let badVocabZoo: ZooServer;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'vidx-clip-pull-'));
    archive = join(work, FILE);
    const sd = synthesizeStateDict(ARCH);
    sd.set('input_resolution', scalar(224n));
    sd.set('context_length', scalar(77n));
    sd.set('vocab_size', scalar(49408n));
    await writeTorchScriptArchive(archive, sd, { rootClass: ['__torch__.multimodal.model.multimodal_transformer', 'Multimodal'], location: 'cuda:0', constants: [{ dtype: 'float32', shape: [77, 77], data: causalMask(77) }] });
    sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
    zoo = await startZooServer({ [FILE]: archive, [VOCAB]: SHARED_VOCAB });
    badVocabZoo = await startZooServer({ [FILE]: archive, [VOCAB]: archive });
  }, 300_000);

  afterAll(async () => {
    await zoo?.close();
    await badVocabZoo?.close();
    await rm(work, { recursive: true, force: true });
  });

  it("fetches OpenAI's release, whose sha256 is the URL's second-to-last part", () => {
    expect(zooUrl(ARCH, {})).toBe(`https://openaipublic.azureedge.net/clip/models/${KNOWN_SHA256[ARCH]}/ViT-B-32.pt`);
    expect(zooUrl('clip_vit_b16', {})).toBe(`https://openaipublic.azureedge.net/clip/models/${KNOWN_SHA256.clip_vit_b16}/ViT-B-16.pt`);
  });

  it('refuses a file that is not the published one (sha256 of the URL) and keeps nothing', async () => {
    const cache = join(work, 'mismatch');
    await expect(pull(ARCH, { cache, env: { VIDX_MODEL_ZOO_URL: zoo.base() } })).rejects.toMatchObject({ code: 'MODEL_CHECKSUM_MISMATCH' });
    expect(existsSync(join(cache, 'official', `${ARCH}.json`))).toBe(false);
    expect(await readdir(join(cache, 'downloads'))).toEqual([]);
  });

  it("refuses a vocabulary that is not openai/CLIP's (sha256)", async () => {
    const cache = join(work, 'bad-vocab');
    await expect(pull(ARCH, { cache, sha256, env: { VIDX_MODEL_ZOO_URL: badVocabZoo.base() } })).rejects.toMatchObject({
      code: 'MODEL_CHECKSUM_MISMATCH',
      message: expect.stringContaining(VOCAB),
    });
    expect(existsSync(join(cache, 'official', `${ARCH}.json`))).toBe(false);
  });

  it('downloads, checks, reads the TorchScript archive, converts, and caches a bundle that embeds as openai/CLIP does', async () => {
    const cache = join(work, 'ok');
    const result = await pull(ARCH, { cache, sha256, env: { VIDX_MODEL_ZOO_URL: zoo.base() } });
    expect(result).toMatchObject({ downloaded: true, checksum: 'verified', sha256 });
    expect(zoo.requests).toContain(`/kinetics/${VOCAB}`);
    const m = result.manifest;
    expect(m).toMatchObject({ task: 'embed-text-image', trained: true, source: { kind: 'checkpoint', file: FILE, sha256 } });
    if (m.task !== 'embed-text-image') throw new Error('not an embedder');
    for (const f of [m.onnx, m.uint8.onnx, m.uint8.onnxFloat16, m.text.onnx, m.text.onnxFloat16, m.tokenizer.vocab]) expect(existsSync(join(cache, 'official', f!)), f!).toBe(true);

    const embedder = await TextImageEmbedder.load(result.manifestPath, { device: 'cpu', threads: 2, log: () => {} });
    try {
      const [embedded] = await embedder.embedTexts([reference.texts[1]!]);
      expect(embedded!.tokens).toEqual(reference.textTokens[1]!.filter((id, i) => id !== 0 || i === 0));
      const diff = Math.max(...Array.from(embedded!.embedding, (v, i) => Math.abs(v - reference.textEmbedsNormalized[1]![i]!)));
      expect(diff).toBeLessThan(1e-4);
    } finally {
      await embedder.close();
    }
    expect(await readdir(join(cache, 'downloads'))).toEqual([]);
  }, 600_000);
});
