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
import cliProgress from 'cli-progress';
import { analyzeVideo } from '../../core/analyze.ts';
import { formatTimeline, UNTRAINED_NOTE } from '../../core/analyze/format.ts';
import { ENV } from '../../core/names.ts';
import { parseSettings, type ParsedSettings } from '../../core/settings/define.ts';
import { ANALYZE_SETTINGS } from '../../core/settings/processes.ts';
import { probe } from '../../core/video/probe.ts';
import { InferenceEngine } from '../../core/model/engine.ts';
import { ActionDetector, PersonDetector } from '../../core/model/detectors.ts';
import { analyzeDetections, formatPersonTimeline } from '../../core/detection/analyze.ts';
import { DETECTION_MODELS } from '../../core/detection/analyses.ts';
import { annotateVideo, checkAnnotationOutput } from '../../core/detection/annotate.ts';
import { VidxError } from '../../core/errors.ts';
import { findFont } from '../../core/video/font.ts';
import type { VideoInfo } from '../../core/video/probe.ts';
import type { Architecture } from '../../core/model/manifest.ts';
import { resolveDefaultModel } from '../../models/store.ts';

interface AnalyzeFlags {
  model?: string;
  cache?: string;
  stride?: number;
  batch?: number;
  device: 'auto' | 'cpu' | 'cuda';
  threads?: number;
  threshold?: number;
  topK?: number;
  gap?: number;
  json?: boolean;
  progress: boolean;
  hwaccel?: boolean;
  fastDecode?: boolean;
  entry: 'auto' | 'float' | 'uint8';
  detect?: boolean;
  peopleModel?: string;
  actionsModel?: string;
  keyframeInterval?: number;
  personThreshold?: number;
  actionThreshold?: number;
  maxPeople?: number;
  annotate?: string;
}

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

function say(line: string): void {
  process.stderr.write(`vidx: ${line}\n`);
}

/** Progress on stderr: a bar on a terminal, otherwise a line at every 10 % (logs stay short). */
function progressReporter(enabled: boolean, task = 'analyze', unit = 'windows'): { update(done: number, total: number): void; stop(): void } {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      { format: `${task} [{bar}] {value}/{total} ${unit} | {percentage}% | eta {eta_formatted}`, stream: process.stderr, hideCursor: true },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, done);
          started = true;
        } else bar.update(done);
      },
      stop() {
        if (started) bar.stop();
        started = false;
      },
    };
  }
  let lastDecile = -1;
  return {
    update(done, total) {
      const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      process.stderr.write(`${task}: ${done}/${total} ${unit} (${Math.round((done / Math.max(total, 1)) * 100)}%)\n`);
    },
    stop: () => undefined,
  };
}

async function modelPath(given: string | undefined, architecture: Architecture, cache: string | undefined): Promise<string> {
  if (given) return given;
  const chosen = await resolveDefaultModel({ cache, log: say, architecture });
  say(`using ${chosen.manifestPath}${chosen.trained ? '' : ' (synthetic weights: its labels and scores mean nothing)'}`);
  return chosen.manifestPath;
}

type AnalyzeSettings = ParsedSettings<typeof ANALYZE_SETTINGS.fields>;

/** `--detect`: people and their actions per keyframe (AVA protocol), a per-person timeline. */
async function runDetect(input: string, info: VideoInfo, flags: AnalyzeFlags, settings: AnalyzeSettings): Promise<void> {
  const options = { device: flags.device, threads: flags.threads ?? settings.threads, entry: flags.entry, log: (line: string) => say(line) };
  const people = await PersonDetector.load(await modelPath(flags.peopleModel, DETECTION_MODELS.people, flags.cache), options);
  let actions: ActionDetector | undefined;
  const ac = new AbortController();
  const onSigint = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    actions = await ActionDetector.load(await modelPath(flags.actionsModel, DETECTION_MODELS.actions, flags.cache), options);
    if (!people.manifest.trained || !actions.manifest.trained) say(UNTRAINED_NOTE);
    const { result } = await analyzeDetections(input, info, { people, actions }, {
      keyframeInterval: flags.keyframeInterval,
      scoreThreshold: flags.personThreshold,
      actionThreshold: flags.threshold ?? flags.actionThreshold,
      gap: flags.gap,
      maxPeople: flags.maxPeople,
      signal: ac.signal,
    });
    process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatPersonTimeline(result));
    if (flags.annotate) {
      const font = findFont();
      if (font.file === null) say(`labels not drawn (${font.why}); boxes only`);
      const progress = progressReporter(flags.progress, 'annotate', 's');
      await annotateVideo(input, info, result, flags.annotate, {
        font: font.file,
        signal: ac.signal,
        onProgress: (done, total) => progress.update(Math.floor(done), Math.ceil(total)),
      });
      progress.update(Math.ceil(info.duration), Math.ceil(info.duration)); // ffmpeg's last report can fall short of the end
      progress.stop();
      say(`annotated video written to ${flags.annotate}`);
    }
  } finally {
    process.off('SIGINT', onSigint);
    await actions?.close();
    await people.close();
  }
}

async function run(input: string, flags: AnalyzeFlags): Promise<void> {
  const settings = parseSettings(ANALYZE_SETTINGS);
  if (flags.annotate) {
    if (!flags.detect) throw new VidxError('ANALYZE_BAD_OPTIONS', '--annotate draws the people --detect finds: add --detect');
    checkAnnotationOutput(input, flags.annotate);
  }
  // Probe first: a bad input fails in milliseconds, before seconds of model loading.
  const info = await probe(input);
  if (flags.detect) return runDetect(input, info, flags, settings);
  let manifestPath = flags.model;
  if (!manifestPath) {
    const chosen = await resolveDefaultModel({ cache: flags.cache, log: say });
    manifestPath = chosen.manifestPath;
    say(`no --model given: using ${manifestPath}${chosen.trained ? '' : ' (synthetic weights: no official checkpoint is cached)'}`);
    if (!chosen.trained) say('labels are UNTRAINED; `npx vidx models pull slowfast_r50` fetches the official Kinetics-400 weights');
  }
  const engine = await InferenceEngine.load(manifestPath, {
    device: flags.device,
    threads: flags.threads ?? settings.threads,
    entry: flags.entry,
    log: (line: string) => say(line),
  });
  const ac = new AbortController();
  const onSigint = () => ac.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  const progress = progressReporter(flags.progress);
  try {
    if (!engine.manifest.trained) say(UNTRAINED_NOTE);
    const result = await analyzeVideo(input, engine, {
      info,
      stride: flags.stride,
      batch: flags.batch,
      threshold: flags.threshold,
      topK: flags.topK,
      gap: flags.gap,
      hwaccel: flags.hwaccel,
      fastDecode: flags.fastDecode ?? settings.fastDecode,
      signal: ac.signal,
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.stop(); // the bar's last line ends before the timeline starts
    process.stdout.write(flags.json ? `${JSON.stringify(result, null, 2)}\n` : formatTimeline(result));
  } finally {
    progress.stop();
    process.off('SIGINT', onSigint);
    await engine.close();
  }
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
    .action(async (input: string, flags: AnalyzeFlags) => run(input, flags));
}
