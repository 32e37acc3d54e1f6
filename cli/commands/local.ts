import type { Command } from 'commander';
import { resolve } from 'node:path';
import { DEFAULTS } from '../../core/names.ts';
import { ANALYSES, DETECTION_MODELS, keyframeIntervalFrom, parseAnalyses } from '../../core/detection/analyses.ts';
import { parseSettings } from '../../core/settings/define.ts';
import { LOCAL_SETTINGS } from '../../core/settings/processes.ts';
import { defaultPersonTimelineOptions } from '../../core/detection/defaults.ts';
import { VidxError } from '../../core/errors.ts';
import { loadManifest, loadModelManifest } from '../../core/pipeline/model-ref.ts';
import { resolveDefaultModel } from '../../models/store.ts';
import { startLocalStack } from '../local/stack.ts';

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

export function registerLocal(program: Command): void {
  program
    .command('local')
    .description('run the whole pipeline on this machine: S3/SQS/DynamoDB emulators, segmenter, worker (CPU), query API')
    .option('--port <port>', 'port of the query API', String(DEFAULTS.localApiPort))
    .option('--data <dir>', 'where the local index (DynamoDB) is kept', DEFAULTS.localDataDir)
    .option('--model <manifest.json>', 'model manifest (default: the pulled official SlowFast, else a synthesized one)')
    .option('--clip-seconds <s>', 'clip length for the segmenter', String(DEFAULTS.clipSeconds))
    .option('--cache <dir>', 'model cache directory')
    .option('--webhook <url>', 'POST every done/failed event to this URL (body signed: header vidx-signature)')
    .option('--webhook-secret <secret>', 'the signing secret (default: random once, kept in <data>/webhook-secret)')
    .option('--analyses <list>', 'classify, detect or classify,detect (default: $VIDX_ANALYSES, else classify)')
    .option('--people-model <manifest.json>', 'with detect: person detector (default: cached fasterrcnn_resnet50_fpn_v2, else synthesized)')
    .option('--actions-model <manifest.json>', 'with detect: action model (default: cached slowfast_r50_detection, else synthesized)')
    .option('--keyframe-interval <s>', 'with detect: seconds between keyframes (default 1)')
    .option('--person-threshold <p>', "with detect: person score threshold (default: the detector manifest's 0.8)")
    .action(async (opts: { port: string; data: string; model?: string; clipSeconds: string; cache?: string; webhook?: string; webhookSecret?: string; analyses?: string; peopleModel?: string; actionsModel?: string; keyframeInterval?: string; personThreshold?: string }) => {
      if (opts.webhook !== undefined && !URL.canParse(opts.webhook)) throw new VidxError('BAD_OPTION', `--webhook must be a URL, got "${opts.webhook}"`);
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new VidxError('BAD_OPTION', `--port must be a port number, got "${opts.port}"`);
      const clipSeconds = Number(opts.clipSeconds);
      if (!(clipSeconds > 0)) throw new VidxError('BAD_OPTION', `--clip-seconds must be a positive number, got "${opts.clipSeconds}"`);
      const say = (m: string) => process.stderr.write(`vidx local: ${m}\n`);
      const manifestPath = opts.model ? resolve(opts.model) : (await resolveDefaultModel({ cache: opts.cache, log: say })).manifestPath;
      const manifest = loadManifest(manifestPath);
      say(`loading ${manifest.architecture} from ${manifestPath} (CPU)...`);
      // The options win over the environment (LOCAL_SETTINGS, parsed once here).
      const settings = parseSettings(LOCAL_SETTINGS);
      const analyses = opts.analyses !== undefined ? parseAnalyses(opts.analyses) : settings.analyses;
      const keyframeInterval = opts.keyframeInterval !== undefined ? keyframeIntervalFrom(opts.keyframeInterval) : settings.keyframeInterval;
      const detectModel = async (given: string | undefined, architecture: (typeof DETECTION_MODELS)[keyof typeof DETECTION_MODELS]) =>
        given ? resolve(given) : (await resolveDefaultModel({ cache: opts.cache, log: say, architecture })).manifestPath;
      const peopleModel = analyses.detect ? await detectModel(opts.peopleModel, DETECTION_MODELS.people) : undefined;
      const actionsModel = analyses.detect ? await detectModel(opts.actionsModel, DETECTION_MODELS.actions) : undefined;
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
      const stack = await startLocalStack({ port, dataDir: opts.data, manifestPath, clipSeconds, webhook, workerSettings, settings, ...(detection ? { detection } : {}) });
      const r = stack.recovery;
      if (r.resumed.length + r.restored + r.notified + r.failed.length > 0) {
        say(`resumed from the previous run: ${r.restored} upload(s) put back, ${r.resumed.length} unfinished video(s) re-enqueued, ${r.notified} event(s) sent${r.failed.length ? `, ${r.failed.length} could not be resumed (see the log)` : ''}`);
      }
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
          : `  labels      UNTRAINED: synthetic weights, so the action labels mean nothing; they show the pipeline working.\n              For real labels: npx vidx models pull ${manifest.architecture}, then restart.`,
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
        for (const l of recovered.lost.slice(0, 20)) say(`  ${l.key}  (${l.videoId})`);
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
    });
}
