/** The work of `vidx local` (cli/commands/local.ts registers it): loaded only when it runs. */
import { resolve } from 'node:path';
import { ANALYSES, DETECTION_MODELS, keyframeIntervalFrom, parseAnalyses } from '../../core/detection/analyses.ts';
import { parseSettings } from '../../core/settings/define.ts';
import { LOCAL_SETTINGS } from '../../core/settings/processes.ts';
import { defaultPersonTimelineOptions } from '../../core/detection/defaults.ts';
import { VidxError } from '../../core/errors.ts';
import { loadManifest, loadModelManifest } from '../../core/pipeline/model-ref.ts';
import { DEFAULT_ARCHITECTURE, resolveDefaultModel } from '../../models/store.ts';
import type { Architecture } from '../../core/model/manifest.ts';
import { checkPortFree, portInUse } from '../port-check.ts';
import { pullWanted, startModel } from '../first-run.ts';
import { downloadBar } from './models.ts';
import { startLocalStack } from '../local/stack.ts';
import { printable } from '../printable.ts';


export type LocalFlags = { keepFailedHours: string; pull: boolean; port: string; data: string; model?: string; clipSeconds: string; cache?: string; webhook?: string; webhookSecret?: string; analyses?: string; peopleModel?: string; actionsModel?: string; keyframeInterval?: string; personThreshold?: string };

/** The banner's detection lines: both models, and plainly when their weights are synthetic. */
function detectionBanner(peopleModel: string, actionsModel: string, interval: number): string[] {
  const people = loadModelManifest(peopleModel, 'detect-people');
  const actions = loadModelManifest(actionsModel, 'detect-actions');
  const lines = [
    `  detection   a keyframe every ${interval} s: people by ${people.architecture} (${peopleModel}),`,
    `              their actions by ${actions.architecture} (${actionsModel}); person segments in /timeline and /search`,
  ];
  if (!people.trained) {
    lines.push(`              UNTRAINED detector: synthetic weights find no person, so no person segments. For real ones:`, `              npx vidx models pull ${people.architecture} && npx vidx models pull ${actions.architecture}, then restart.`);
  } else if (!actions.trained) {
    lines.push(`              UNTRAINED action model: its action labels mean nothing. npx vidx models pull ${actions.architecture}, then restart.`);
  }
  return lines;
}

export async function runLocal(opts: LocalFlags): Promise<void> {
  if (opts.webhook !== undefined && !URL.canParse(opts.webhook)) throw new VidxError('BAD_OPTION', `--webhook must be a URL, got "${opts.webhook}"`);
  const port = Number(opts.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new VidxError('BAD_OPTION', `--port must be a port number, got "${opts.port}"`);
  const clipSeconds = Number(opts.clipSeconds);
  if (!(clipSeconds > 0)) throw new VidxError('BAD_OPTION', `--clip-seconds must be a positive number, got "${opts.clipSeconds}"`);
  const keepFailedHours = Number(opts.keepFailedHours);
  if (!(keepFailedHours >= 0)) throw new VidxError('BAD_OPTION', `--keep-failed-hours must be a number of hours >= 0, got "${opts.keepFailedHours}"`);
  const say = (m: string) => process.stderr.write(`vidx local: ${m}\n`);
  // The options win over the environment (LOCAL_SETTINGS, parsed once here).
  const settings = parseSettings(LOCAL_SETTINGS);
  const analyses = opts.analyses !== undefined ? parseAnalyses(opts.analyses) : settings.analyses;
  const keyframeInterval = opts.keyframeInterval !== undefined ? keyframeIntervalFrom(opts.keyframeInterval) : settings.keyframeInterval;
  // Before any model is pulled, built or loaded: a busy port fails in milliseconds.
  await checkPortFree(port);
  const shouldPull = pullWanted(opts.pull, settings.noPull);
  const synthetic: { architecture: string; why: string }[] = [];
  const chooseModel = async (given: string | undefined, architecture: Architecture, used: boolean): Promise<string> => {
    if (given) return resolve(given);
    if (!used) return (await resolveDefaultModel({ cache: opts.cache, log: say, architecture })).manifestPath;
    const bar = await downloadBar(architecture);
    try {
      const m = await startModel(architecture, { cache: opts.cache, pull: shouldPull, log: say, onProgress: (p) => bar.update(p) });
      if (m.source === 'synthetic') {
        synthetic.push({ architecture, why: m.why ?? 'no official weights' });
        say(`no official ${architecture} weights (${m.why}): running it with SYNTHETIC weights, whose labels mean nothing`);
      }
      return m.manifestPath;
    } finally {
      bar.stop();
    }
  };
  const whyUntrained = (architecture: string) => {
    const why = synthetic.find((m) => m.architecture === architecture)?.why;
    return why ? `\n              (${why})` : '';
  };
  const manifestPath = await chooseModel(opts.model, DEFAULT_ARCHITECTURE, analyses.classify);
  const manifest = loadManifest(manifestPath);
  say(`loading ${manifest.architecture} from ${manifestPath} (CPU)...`);
  const peopleModel = analyses.detect ? await chooseModel(opts.peopleModel, DETECTION_MODELS.people, true) : undefined;
  const actionsModel = analyses.detect ? await chooseModel(opts.actionsModel, DETECTION_MODELS.actions, true) : undefined;
  const personThreshold = opts.personThreshold === undefined ? undefined : Number(opts.personThreshold);
  if (personThreshold !== undefined && !(personThreshold >= 0 && personThreshold <= 1)) throw new VidxError('BAD_OPTION', `--person-threshold must be a probability, got "${opts.personThreshold}"`);
  const detection = actionsModel
    ? { keyframeInterval, people: defaultPersonTimelineOptions(loadModelManifest(actionsModel, 'detect-actions').trained, keyframeInterval) }
    : undefined;
  // The worker process (cli/local/worker-process.ts) loads the models from these settings;
  // the stack starts once it is ready.
  const workerSettings = {
    analyses: ANALYSES.filter((a) => analyses[a]),
    peopleModel,
    actionsModel,
    keyframeInterval,
    personThreshold,
  };
  const webhook = opts.webhook ? { url: opts.webhook, secret: opts.webhookSecret } : undefined;
  let stack: Awaited<ReturnType<typeof startLocalStack>>;
  try {
    stack = await startLocalStack({ port, dataDir: opts.data, manifestPath, clipSeconds, webhook, workerSettings, settings, keepFailedHours, ...(detection ? { detection } : {}) });
  } catch (e) {
    // Taken while the models loaded.
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw portInUse(port, '127.0.0.1', e);
    throw e;
  }
  const r = stack.recovery;
  if (r.resumed.length + r.restored + r.notified + r.failed.length > 0) {
    say(`resumed from the previous run: ${r.restored} upload(s) put back, ${r.resumed.length} unfinished video(s) re-enqueued, ${r.notified} event(s) to send${r.failed.length ? `, ${r.failed.length} could not be resumed (see the log)` : ''}`);
  }
  if (r.segmented.length > 0) say(`${r.segmented.length} kept upload(s) unknown to the index were indexed again`);
  if (r.pruned.length > 0) say(`${r.pruned.length} kept copy(ies) of failed uploads pruned (older than ${keepFailedHours} h)`);
  for (const q of r.quarantined) say(`quarantined ${printable(q.file)}: ${printable(q.why)} (moved to <data>/objects/quarantine/)`);
  const lines = [
    '',
    `vidx local is running`,
    `  web page    ${stack.apiUrl}/   (search, watch the moment, timelines, drag-and-drop upload)`,
    `  query API   ${stack.apiUrl}   (GET /videos, /videos/{id}, /videos/{id}/timeline, /search?q=, /actions?q=)`,
    `  data        ${stack.dataDir}   (the index and the uploads, kept between runs: unfinished videos resume on restart)`,
    ...(webhook ? [`  webhook     ${webhook.url}   (events signed with HMAC-SHA256, header vidx-signature; secret: ${webhook.secret ? '--webhook-secret' : `${stack.dataDir}/webhook-secret`})`] : []),
    `  reindex     npx vidx reindex --all --api ${stack.apiUrl}   (finish stuck videos; new model: restart with --model, then reindex)`,
    `  model       ${manifest.architecture}, ${manifestPath}`,
    manifest.trained
      ? `  labels      trained (${manifest.labels.length} Kinetics-400 actions)`
      : `  labels      UNTRAINED: synthetic weights, so the action labels mean nothing; they show the pipeline working.${whyUntrained(manifest.architecture)}\n              For real labels: npx vidx models pull ${manifest.architecture}, then restart.`,
    ...(peopleModel && actionsModel ? detectionBanner(peopleModel, actionsModel, keyframeInterval) : []),
    `  upload      npx vidx upload <files...> --api ${stack.apiUrl}`,
    `  search      npx vidx search <text> --api ${stack.apiUrl}`,
    'Ctrl-C stops (the worker finishes or releases the clip in hand).',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  // The queue is new (in memory), so every unfinished video in the kept index lost its jobs; its
  // object went with the emulated bucket too. Say so: a re-upload finishes them.
  const recovered = await stack.sweep({ staleAfterSeconds: 0 });
  if (recovered.lost.length > 0) {
    say(`${recovered.lost.length} unfinished video(s) from an earlier run lost their files with the restart; upload them again to finish them:`);
    for (const l of recovered.lost.slice(0, 20)) say(`  ${printable(l.key)}  (${l.videoId})`);
  }
  await new Promise<void>((done) => {
    const stop = (signal: string) => {
      say(`${signal}: stopping...`);
      stack.stop().then(done, (e: unknown) => {
        say(`stop failed: ${String(e)}`);
        done();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
