/**
 * `vidx embed` (exact forms; scripts depend on them):
 *   vidx embed --model <manifest> --text "<t>" [--json]
 *   vidx embed --model <manifest> --image <file> [--at <seconds>] [--json]
 * The manifest is a text-image embedder's (task embed-text-image: clip_vit_b16, clip_vit_b32).
 * --text prints the tokens as fed to the text tower (start, ids, end; unpadded; at most 77, cut as
 * clip.tokenize(truncate=True) does) and the L2-normalized embedding; --image embeds a picture,
 * or the frame of a video at --at seconds. --json: `{ "tokens": [...], "embedding": [...] }`
 * (`tokens` only for --text). stdout: the result; stderr: notes.
 */
import type { Command } from 'commander';
import { VidxError } from '../../core/errors.ts';

interface EmbedOptions {
  model: string;
  text?: string;
  image?: string;
  at?: string;
  json?: boolean;
  threads?: string;
}

function bad(message: string): VidxError {
  return new VidxError('EMBED_BAD_OPTIONS', message);
}

function parseSeconds(at: string | undefined): number {
  if (at === undefined) return 0;
  const s = Number(at);
  if (at.trim() === '' || !Number.isFinite(s) || s < 0) throw bad(`--at must be a number of seconds >= 0, got "${at}"`);
  return s;
}

function parseThreads(threads: string | undefined): number | undefined {
  if (threads === undefined) return undefined;
  const n = Number(threads);
  if (!Number.isInteger(n) || n < 1) throw bad(`--threads must be a whole number >= 1, got "${threads}"`);
  return n;
}

export function registerEmbed(program: Command): void {
  program
    .command('embed')
    .description('embed a text or a picture (or a video frame) with a text-image model (CLIP): tokens and the L2-normalized embedding')
    .requiredOption('--model <manifest>', 'the manifest of an embed-text-image model (vidx models synthesize|pull clip_vit_b16)')
    .option('--text <t>', 'the text to embed')
    .option('--image <file>', 'a picture or a video to embed')
    .option('--at <seconds>', 'with --image on a video: the frame at this time (default 0)')
    .option('--threads <n>', 'onnxruntime threads (default: all cores)')
    .option('--json', 'machine-readable output: { "tokens": [...], "embedding": [...] }')
    .action(async (opts: EmbedOptions) => {
      if ((opts.text === undefined) === (opts.image === undefined)) throw bad('pass exactly one of --text and --image');
      if (opts.at !== undefined && opts.image === undefined) throw bad('--at goes with --image');
      const at = parseSeconds(opts.at);
      const threads = parseThreads(opts.threads);
      // The ONNX runtime loads only when an embedding runs (help stays fast).
      const { TextImageEmbedder } = await import('../../models/embedder.ts');
      const embedder = await TextImageEmbedder.load(opts.model, { device: 'cpu', ...(threads === undefined ? {} : { threads }) });
      try {
        if (opts.text !== undefined) {
          const [result] = await embedder.embedTexts([opts.text]);
          const { tokens, truncated, embedding } = result!;
          if (truncated) process.stderr.write(`vidx: the text is longer than ${embedder.manifest.tokenizer.contextLength} tokens; cut as clip.tokenize(truncate=True) does\n`);
          if (opts.json) process.stdout.write(`${JSON.stringify({ tokens, embedding: Array.from(embedding) })}\n`);
          else process.stdout.write(`tokens (${tokens.length}): ${tokens.join(' ')}\nembedding (${embedding.length}, L2-normalized): ${Array.from(embedding, (v) => v.toFixed(6)).join(' ')}\n`);
          return;
        }
        const embedding = await embedder.embedFile(opts.image!, at);
        if (opts.json) process.stdout.write(`${JSON.stringify({ embedding: Array.from(embedding) })}\n`);
        else process.stdout.write(`embedding (${embedding.length}, L2-normalized): ${Array.from(embedding, (v) => v.toFixed(6)).join(' ')}\n`);
      } finally {
        await embedder.close();
      }
    });
}
