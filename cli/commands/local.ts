import type { Command } from 'commander';
import { DEFAULTS, ENV } from '../../core/names.ts';
import type { LocalFlags } from './local-run.ts';
import { checkPortFree } from '../port-check.ts';
import { DEFAULT_KEEP_FAILED_HOURS } from '../local/persistence.ts';

export function registerLocal(program: Command): void {
  program
    .command('local')
    .description('run the whole pipeline on this machine: S3/SQS/DynamoDB emulators, segmenter, worker (CPU), query API')
    .option('--port <port>', 'port of the query API', String(DEFAULTS.localApiPort))
    .option('--data <dir>', 'where the local index (DynamoDB) is kept', DEFAULTS.localDataDir)
    .option('--model <manifest.json>', 'model manifest (default: the pulled official SlowFast, else a synthesized one)')
    .option('--clip-seconds <s>', 'clip length for the segmenter', String(DEFAULTS.clipSeconds))
    .option('--cache <dir>', 'model cache directory (default: $VIDX_CACHE or ~/.cache/vidx/models)')
    .option('--no-pull', `on a first start, do not download the official weights (or ${ENV.noPull}=1): synthetic ones, labels mean nothing`)
    .option('--webhook <url>', 'POST every done/failed event to this URL (body signed: header vidx-signature)')
    .option('--webhook-secret <secret>', 'the signing secret (default: random once, kept in <data>/webhook-secret)')
    .option('--analyses <list>', 'classify, detect or classify,detect (default: $VIDX_ANALYSES, else classify)')
    .option('--people-model <manifest.json>', 'with detect: person detector (default: cached fasterrcnn_resnet50_fpn_v2, else synthesized)')
    .option('--actions-model <manifest.json>', 'with detect: action model (default: cached slowfast_r50_detection, else synthesized)')
    .option('--keyframe-interval <s>', 'with detect: seconds between keyframes (default 1)')
    .option('--person-threshold <p>', "with detect: person score threshold (default: the detector manifest's 0.8)")
    .option('--keep-failed-hours <h>', 'hours the kept copy of a failed upload stays under <data>/objects before it is pruned', String(DEFAULT_KEEP_FAILED_HOURS))
    .action(async (opts: LocalFlags) => {
      // A busy port fails in milliseconds, before the stack's modules load and any model is pulled, built or loaded.
      const port = Number(opts.port);
      if (Number.isInteger(port) && port > 0 && port <= 65535) await checkPortFree(port);
      await (await import('./local-run.ts')).runLocal(opts);
    });
}
