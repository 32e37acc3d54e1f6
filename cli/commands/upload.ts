import type { Command } from 'commander';
import type { Gap } from '../../core/gap.ts';
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { DEFAULTS } from '../../core/names.ts';
import { VidxError } from '../../core/errors.ts';
import type { UploadedFile } from '../local/upload.ts';
import type { Delivery, UploadTarget, VideoProgress } from '../upload/targets.ts';
import { describeProgress } from '../../core/query/progress-text.ts';
import type { WaitResult } from '../upload/wait.ts';
import { printable } from '../printable.ts';

/** `--wait` gives up after this long unless told otherwise. */
export const DEFAULT_WAIT_TIMEOUT_SECONDS = 1800;

/** "label (0.91), label (0.40)": a video's best labels, so the user knows what to search for. */
export function describeTopLabels(t: { segments: readonly { label: string; score: number }[]; video: { trained?: boolean } }, n = 3): string {
  const best = new Map<string, number>();
  for (const s of t.segments) best.set(s.label, Math.max(best.get(s.label) ?? 0, s.score));
  const top = [...best].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
  if (top.length === 0) return 'no action segments';
  const labels = top.map(([label, score]) => `${label} (${score.toFixed(2)})`).join(', ');
  return t.video.trained === false ? `${labels} — untrained model: these labels mean nothing` : labels;
}

/** "0.0 of 27.0 MiB 0%", updated in place on a terminal, every quarter otherwise. */
function progressPrinter(file: string): (sent: number, total: number) => void {
  const tty = process.stderr.isTTY === true;
  let lastQuarter = -1;
  const mib = (n: number) => (n / 1048576).toFixed(1);
  return (sent, total) => {
    const pct = total > 0 ? Math.floor((100 * sent) / total) : 100;
    const line = `  ${basename(file)}  ${mib(sent)} of ${mib(total)} MiB  ${pct}%`;
    if (tty) process.stderr.write(`\r${line}\u001b[K${sent >= total ? '\n' : ''}`);
    else if (Math.floor(pct / 25) > lastQuarter) {
      lastQuarter = Math.floor(pct / 25);
      process.stderr.write(`${line}\n`);
    }
  };
}

/** How often `--wait` repeats an unchanged video's progress line. */
const PROGRESS_LINE_SECONDS = 30;

/**
 * `--wait`'s progress on stderr: a video's line ("<id>  processing 12 of 40 windows (30%), about
 * 1m20s left") when its windows done change, at most every 5 s, and every 30 s when they do not.
 */
function progressLines(): (videoId: string, v: VideoProgress | undefined) => void {
  const last = new Map<string, { text: string; at: number }>();
  return (videoId, v) => {
    if (!v) return;
    const text = describeProgress(v);
    const key = text.replace(/, about .* left$/, '');
    const before = last.get(videoId);
    const now = Date.now();
    const changed = before?.text !== key;
    if (before && (changed ? now - before.at < 5000 : now - before.at < PROGRESS_LINE_SECONDS * 1000)) return;
    last.set(videoId, { text: key, at: now });
    process.stderr.write(`  ${videoId}  ${text}\n`);
  };
}

function describeDelivery(d: Delivery): string {
  if (d.outcome === 'queued') return `queued, ${d.clips} clip(s)`;
  if (d.outcome === 'requeued') return `unfinished: ${d.clips} missing clip(s) queued again`;
  if (d.outcome === 'failed') return `FAILED: ${d.reason}`;
  if (d.outcome === 'ignored') return `ignored: ${d.why}`;
  return d.outcome;
}

/** One line per missing range: "  missing 60.0 s to 120.0 s: <reason> [CODE]". */
export function describeGaps(gaps: readonly Gap[]): string {
  return gaps.map((g) => `  missing ${g.start.toFixed(1)} s to ${g.end.toFixed(1)} s: ${g.reason} [${g.errorCode}]`).join('\n');
}

function describeWait(r: WaitResult, waitedSeconds: number): string {
  if (r.status === 'indexed') return `${r.videoId}  indexed: ${r.labels}`;
  if (r.status === 'indexed_with_gaps') return `${r.videoId}  indexed with gaps: ${r.labels}\n${describeGaps(r.gaps)}`;
  if (r.status === 'failed') return `${r.videoId}  failed: ${r.reason}`;
  const where = r.last ? `still ${describeProgress(r.last)}` : 'not recorded yet';
  return `${r.videoId}  gave up waiting after ${waitedSeconds} s: ${where}`;
}

export function registerUpload(program: Command): void {
  program
    .command('upload')
    .description('upload videos (under videos/) to the local stack, or to a deployed one with --stack; each file is reported, and the exit status is 1 if any failed')
    .argument('<files...>', 'video files')
    .option('--api <url>', 'the local stack', `http://localhost:${DEFAULTS.localApiPort}`)
    .option('--stack <name>', 'a deployed stack instead: its bucket and table come from its CloudFormation outputs (your AWS credentials)')
    .option('--region <region>', 'with --stack: the stack\'s region (default: AWS_REGION)')
    .option('--wait', 'wait until every video is indexed or failed')
    .option('--timeout <seconds>', 'with --wait: give up after this many seconds', String(DEFAULT_WAIT_TIMEOUT_SECONDS))
    .action(async (files: string[], opts: { api: string; stack?: string; region?: string; wait?: boolean; timeout: string }) => {
      const timeoutSeconds = Number(opts.timeout);
      if (!(Number.isFinite(timeoutSeconds) && timeoutSeconds > 0)) throw new VidxError('BAD_OPTION', `--timeout must be a positive number of seconds, got "${opts.timeout}"`);
      // The AWS SDK loads only when an upload runs (help stays fast).
      const [{ deployedTarget, localTarget }, { putVideoFile }, { waitForVideos }] = await Promise.all([import('../upload/targets.ts'), import('../local/upload.ts'), import('../upload/wait.ts')]);
      const target: UploadTarget = opts.stack ? await deployedTarget(opts.stack, opts.region) : await localTarget(opts.api);
      let anyFailed = false;
      try {
        // Each file on its own: one that is missing or fails to upload is reported, the rest go on.
        const uploaded: UploadedFile[] = [];
        for (const f of files) {
          try {
            if (!existsSync(f) || !statSync(f).isFile()) throw new VidxError('UPLOAD_NO_FILE', `${f} is not a file`);
            uploaded.push(await putVideoFile(target.s3, target.bucket, target.prefix, f, undefined, progressPrinter(f)));
          } catch (e) {
            anyFailed = true;
            const why = e instanceof Error ? e.message : String(e);
            process.stdout.write(`FAILED  ${printable(f)}  not uploaded: ${printable(why)}\n`);
          }
        }
        const deliveries = await target.notify(uploaded);
        const waitFor: string[] = [];
        for (const [i, u] of uploaded.entries()) {
          const d = deliveries[i]!;
          if (d.outcome === 'failed') anyFailed = true;
          else if (d.outcome !== 'ignored' && d.outcome !== 'duplicate') waitFor.push(u.videoId);
          process.stdout.write(`${u.videoId}  s3://${u.bucket}/${printable(u.key)}  ${printable(describeDelivery(d))}\n`);
        }
        if (uploaded.length > 0) process.stdout.write(`${target.followHint(uploaded.map((u) => u.videoId))}\n`);
        if (opts.wait && waitFor.length > 0) {
          const results = await waitForVideos(target, waitFor, {
            timeoutMs: timeoutSeconds * 1000,
            describe: (t) => describeTopLabels(t),
            onSettled: (r) => process.stdout.write(`${printable(describeWait(r, timeoutSeconds))}\n`),
            onProgress: progressLines(),
          });
          if (results.some((r) => r.status !== 'indexed')) anyFailed = true;
          if (results.some((r) => r.status === 'timed-out')) {
            process.stderr.write(
              `vidx: some videos did not finish within ${timeoutSeconds} s. Nothing is lost: they keep going, and a video with no progress is re-enqueued by the sweeper (or by uploading the same file again). Check the worker with GET /_local/health locally, or its logs on AWS.\n`,
            );
          }
        }
      } finally {
        target.close();
      }
      if (anyFailed) process.exitCode = 1;
    });
}
