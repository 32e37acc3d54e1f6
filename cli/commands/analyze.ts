/**
 * `npx vidx analyze <file|url> --model <manifest.json> [--stride s] [--batch n]
 *   [--device auto|cpu|cuda] [--json] [--threshold p] [--top-k k] [--gap n] [--threads n] [--cache dir]
 *   [--fast-decode] [--entry auto|float|uint8]`
 * `npx vidx analyze <file|url> --detect [--json] [--annotate out.mp4] [--keyframe-interval s] ...`
 *
 * stdout: the readable timeline, or with --json the full AnalysisResult (windows included).
 * stderr: the progress bar (cli-progress on a terminal; plain progress lines otherwise, so a
 * log still shows it), which model is used, and plainly when its labels are untrained.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { ENV } from '../../core/names.ts';
import type { AnalyzeFlags } from './analyze-run.ts';

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number > 0');
  return n;
}

function wholeNumber(min: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}

function probability(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('expected a probability in [0, 1]');
  return n;
}

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('find actions in a video: a timeline of labelled segments (windows scored by the model, merged per label)')
    .argument('<input>', 'video file or http(s) URL')
    .option('--model <manifest.json>', 'model manifest (default: the pulled official SlowFast if cached, else a synthesized one)')
    .option('--cache <dir>', 'model cache for the default model (default: $VIDX_CACHE or ~/.cache/vidx/models)')
    .option('--stride <seconds>', 'seconds between window starts (default: one window)', positiveNumber)
    .option('--batch <n>', 'windows per model run (default: 2 on CPU, 8 on CUDA)', wholeNumber(1))
    .addOption(new Option('--device <device>', 'where the model runs').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--threads <n>', `CPU threads for the model (default: ${ENV.threads} or the engine's)`, wholeNumber(1))
    .option('--threshold <p>', 'a window counts for a label when p >= this (default 0.2; 0 for untrained models)', probability)
    .option('--top-k <k>', 'labels kept per window (default 5)', wholeNumber(1))
    .option('--gap <n>', 'windows below threshold allowed inside a segment (default 1)', wholeNumber(0))
    .option('--hwaccel', 'decode with ffmpeg -hwaccel cuda')
    .option('--fast-decode', `decode without the H.264 loop filter: faster, slightly different pixels (or ${ENV.fastDecode}=1; see README Performance)`)
    .addOption(new Option('--entry <entry>', 'model entry: uint8 (frames as bytes, preprocessing in the graph) or float; auto: uint8 where the bundle has it').choices(['auto', 'float', 'uint8']).default('auto'))
    .option('--detect', 'per-person action detection (AVA): people on a keyframe every second, their actions, a timeline per person')
    .option('--people-model <manifest.json>', 'with --detect: person detector (default: cached fasterrcnn_resnet50_fpn_v2, else synthesized)')
    .option('--actions-model <manifest.json>', 'with --detect: action model (default: cached slowfast_r50_detection, else synthesized)')
    .option('--keyframe-interval <seconds>', 'with --detect: seconds between keyframes (default 1, as AVA)', positiveNumber)
    .option('--person-threshold <p>', "with --detect: a detection is a person when its score >= this (default: the detector manifest's, 0.8)", probability)
    .option('--action-threshold <p>', 'with --detect: an action counts when p >= this (default 0.5; 0 for untrained models); --threshold also sets it', probability)
    .option('--max-people <n>', 'with --detect: people per keyframe, best first (default 20)', wholeNumber(1))
    .option('--annotate <out.mp4>', 'with --detect: also write a copy of the video with every box and label drawn (H.264)')
    .option('--json', 'print the full result as JSON (windows included; with --detect, every box)')
    .option('--no-progress', 'no progress on stderr')
    .action(async (input: string, flags: AnalyzeFlags) => (await import('./analyze-run.ts')).run(input, flags));
}
