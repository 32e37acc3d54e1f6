/** The work of `vidx analyze` (cli/commands/analyze.ts registers it): loaded only when it runs. */
import cliProgress from 'cli-progress';
import { analyzeVideo } from '../../core/analyze.ts';
import { formatTimeline, UNTRAINED_NOTE } from '../../core/analyze/format.ts';
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
import { duration } from '../progress-text.ts';
import { DEFAULT_KEYFRAME_INTERVAL, planKeyframes } from '../../core/detection/keyframes.ts';


export interface AnalyzeFlags {
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
  let startedAt: number | undefined;
  return {
    update(done, total) {
      const now = performance.now();
      startedAt ??= now; // the first report (0 done, or the first batch) starts the clock
      const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (decile === lastDecile) return;
      lastDecile = decile;
      const elapsed = (now - startedAt) / 1000;
      const eta = done > 0 && done < total && elapsed > 0 ? `, about ${duration(((total - done) * elapsed) / done)} left` : '';
      process.stderr.write(`${task}: ${done}/${total} ${unit} (${Math.round((done / Math.max(total, 1)) * 100)}%)${eta}\n`);
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
    // Said before the work starts: a synthetic detector finds no one, however long it runs.
    if (!people.manifest.trained) {
      say(`the person detector has SYNTHETIC weights: it finds no person, so expect "no person found". For real ones: npx vidx models pull ${people.manifest.architecture}`);
    }
    if (!people.manifest.trained || !actions.manifest.trained) say(UNTRAINED_NOTE);
    const keyframes = progressReporter(flags.progress, 'detect', 'keyframes');
    say(`decoding ${planKeyframes(info.duration, flags.keyframeInterval ?? DEFAULT_KEYFRAME_INTERVAL).length} keyframes, then finding the people on each`);
    const { result } = await analyzeDetections(input, info, { people, actions }, {
      onProgress: (done, total) => keyframes.update(done, total),
      keyframeInterval: flags.keyframeInterval,
      scoreThreshold: flags.personThreshold,
      actionThreshold: flags.threshold ?? flags.actionThreshold,
      gap: flags.gap,
      maxPeople: flags.maxPeople,
      signal: ac.signal,
    });
    keyframes.stop();
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

export async function run(input: string, flags: AnalyzeFlags): Promise<void> {
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

