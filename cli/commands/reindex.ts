/**
 * `vidx reindex [--video <id>...] [--all] [--retry-failed] [--model <manifest.json>]`: index existing
 * videos again without uploading them (core/pipeline/reindex.ts). With another model: a new
 * revision of each video (its old timeline stays searchable until the new one is complete). With
 * the same model: an unfinished video's missing clips are re-enqueued (the way out for a stuck
 * video). `--retry-failed` also retries videos that failed for a transient reason (alone: every
 * such video). `--all` goes at a pace (core/pipeline/reindex-pace.ts: `--rate` clip jobs a second,
 * none while `--max-backlog` jobs wait), so an archive does not flood the clip queue.
 *
 * Against the local stack (default, --api): the stack does it with the model it runs; asking for
 * another model is refused (restart `vidx local --model ...`). Against a deployed stack
 * (--stack <name>): the queue URL and table come from the stack's CloudFormation outputs, and the
 * clips are planned here with --model (the model the workers run: deploy it first).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { DEFAULTS } from '../../core/names.ts';
import { VidxError } from '../../core/errors.ts';
import { loadModelRef } from '../../core/pipeline/model-ref.ts';
import type { ReindexOutcome } from '../../core/pipeline/reindex.ts';
import { isErrorCode } from '../../core/errors.ts';

interface ReindexOptions {
  video?: string[];
  all?: boolean;
  retryFailed?: boolean;
  rate: string;
  maxBacklog: string;
  model?: string;
  api: string;
  stack?: string;
  clipSeconds: string;
}

function describe(r: ReindexOutcome): string {
  if (r.action === 'new-revision') return `${r.videoId}  ${r.result.outcome === 'queued' ? `re-indexing, ${r.result.clips} clip(s)` : r.result.outcome}`;
  if (r.action === 'requeued') return `${r.videoId}  unfinished: ${r.clips} clip(s) re-enqueued`;
  if (r.action === 'retried') return `${r.videoId}  failed before, retried: ${r.result.outcome === 'queued' ? `${r.result.clips} clip(s)` : r.result.outcome}`;
  return `${r.videoId}  already ${r.status} with this model: nothing to do`;
}

export function registerReindex(program: Command): void {
  program
    .command('reindex')
    .description('index existing videos again: with another model, or to finish stuck ones (no upload needed)')
    .option('--video <id...>', 'these videos')
    .option('--all', `every video, paced (at most --rate clip jobs a second, none while --max-backlog jobs wait)`)
    .option('--retry-failed', 'also retry videos that failed for a transient reason (alone: every such video)')
    .option('--rate <clips/s>', '--all: clip jobs sent per second at most', String(DEFAULTS.reindexClipsPerSecond))
    .option('--max-backlog <clips>', '--all: no new video while the clip queue holds this many jobs', String(DEFAULTS.reindexMaxWaiting))
    .option('--model <manifest.json>', 'the model to index with (local: must be the one the stack runs)')
    .option('--api <url>', 'the local stack', `http://localhost:${DEFAULTS.localApiPort}`)
    .option('--stack <name>', 'a deployed stack instead (queue and table from its CloudFormation outputs; AWS credentials from the environment)')
    .option('--clip-seconds <s>', 'deployed stack: clip length of new revisions', String(DEFAULTS.clipSeconds))
    .action(async (opts: ReindexOptions) => {
      const hasIds = opts.video !== undefined && opts.video.length > 0;
      if ((opts.all === true && hasIds) || (opts.all !== true && !hasIds && opts.retryFailed !== true)) {
        throw new VidxError('BAD_OPTION', 'give --all, --video <id...> or --retry-failed (--all and --video exclude each other)');
      }
      paceOf(opts); // checked before anything is sent
      const results = opts.stack ? await reindexDeployed(opts) : await reindexLocal(opts);
      for (const r of results) process.stdout.write(`${describe(r)}\n`);
      if (results.length === 0) process.stdout.write('no videos\n');
    });
}

function paceOf(opts: ReindexOptions): { clipsPerSecond: number; maxWaiting: number } {
  const clipsPerSecond = Number(opts.rate);
  const maxWaiting = Number(opts.maxBacklog);
  if (!(clipsPerSecond > 0)) throw new VidxError('BAD_OPTION', `--rate must be a positive number of clip jobs per second, got ${opts.rate}`);
  if (!Number.isInteger(maxWaiting) || maxWaiting < 1) throw new VidxError('BAD_OPTION', `--max-backlog must be a whole number >= 1, got ${opts.maxBacklog}`);
  return { clipsPerSecond, maxWaiting };
}

async function reindexLocal(opts: ReindexOptions): Promise<ReindexOutcome[]> {
  const api = opts.api.replace(/\/+$/, '');
  const which = opts.all ? { all: true } : opts.video?.length ? { videoIds: opts.video } : {};
  const body = {
    ...which,
    ...(opts.retryFailed ? { retryFailed: true } : {}),
    ...(opts.all ? paceOf(opts) : {}),
    ...(opts.model ? { manifestSha256: loadModelRef(resolve(opts.model)).ref.manifestSha256 } : {}),
  };
  let res: Response;
  try {
    res = await fetch(`${api}/_local/reindex`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (e) {
    throw new VidxError('LOCAL_STACK_UNREACHABLE', `cannot reach the local stack at ${api}`, { hint: 'start it with `npm start`, or pass --api; for a deployed stack pass --stack <name>', cause: e });
  }
  const json = (await res.json()) as { results?: ReindexOutcome[]; code?: string; message?: string; hint?: string };
  if (!res.ok) throw new VidxError(isErrorCode(json.code) ? json.code : 'LOCAL_STACK_ERROR', json.message ?? `the stack answered ${res.status}`, json.hint ? { hint: json.hint } : {});
  return json.results ?? [];
}

async function reindexDeployed(opts: ReindexOptions): Promise<ReindexOutcome[]> {
  // The AWS SDK, the segmenter and the model store load only here (help and local reindex stay fast).
  const [{ Logger }, { awsConfigFromEnv, createClients }, { createIndex }, { failedTransiently }, { reindexPaced }, { buildSegmenterDeps }, { resolveDefaultModel }, { stackOutputs }] = await Promise.all([
    import('@aws-lambda-powertools/logger'),
    import('../../adapters/clients.ts'),
    import('../../adapters/dynamo-index/create.ts'),
    import('../../core/pipeline/reindex.ts'),
    import('../../core/pipeline/reindex-pace.ts'),
    import('../../lambdas/segmenter/deps.ts'),
    import('../../models/store.ts'),
    import('../upload/targets.ts'),
  ]);
  const config = awsConfigFromEnv();
  const outputs = await stackOutputs(opts.stack!, config.region);
  const queueUrl = outputs.QueueUrl;
  const tableName = outputs.TableName;
  if (!queueUrl || !tableName) {
    throw new VidxError('STACK_NOT_FOUND', `stack ${opts.stack} has no QueueUrl/TableName outputs`, { hint: 'is it a vidx stack, in this region (AWS_REGION)?' });
  }
  const manifestPath = opts.model ? resolve(opts.model) : (await resolveDefaultModel({ log: (m) => process.stderr.write(`vidx reindex: ${m}\n`) })).manifestPath;
  const { manifest, ref } = loadModelRef(manifestPath);
  const clients = createClients(config);
  try {
    const deps = buildSegmenterDeps({
      clients,
      tableName,
      queueUrl,
      model: manifest,
      manifestSha256: ref.manifestSha256,
      clipSeconds: Number(opts.clipSeconds),
      log: new Logger({ serviceName: 'vidx-reindex', logLevel: 'WARN' }),
    });
    const listed = opts.video?.length ? undefined : await createIndex(clients, tableName).allVideos();
    const ids = !listed ? opts.video! : opts.all ? listed.map((v) => v.videoId) : listed.filter(failedTransiently).map((v) => v.videoId);
    const pace = listed ? paceOf(opts) : { clipsPerSecond: Number.POSITIVE_INFINITY, maxWaiting: Number.POSITIVE_INFINITY };
    return await reindexPaced(deps, ids, { ...pace, pollSeconds: 30 }, { retryFailed: opts.retryFailed === true });
  } finally {
    clients.destroy();
  }
}
