import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { S3Client } from '@aws-sdk/client-s3';
import { DEFAULTS } from '../../core/names.ts';
import { VidxError } from '../../core/errors.ts';
import { putVideoFile, type UploadedFile } from '../local/upload.ts';
import { s3CreatedEvent } from '../local/s3-event.ts';
import type { LocalConfig } from '../local/stack.ts';
import type { TimelineResponse } from '../../core/query/api.ts';


async function getJson<T>(url: string, init?: RequestInit): Promise<T> {
  let r: Response;
  try {
    r = await fetch(url, init);
  } catch (e) {
    throw new VidxError('LOCAL_STACK_UNREACHABLE', `cannot reach the local stack at ${new URL(url).origin}`, {
      hint: 'start it with `npm start` (or `npx vidx local`) in another terminal, or pass --api',
      cause: e,
    });
  }
  const text = await r.text();
  if (!r.ok) throw new VidxError('LOCAL_STACK_ERROR', `${url} answered ${r.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** "label (0.91), label (0.40)": a video's best labels, so the user knows what to search for. */
export function describeTopLabels(t: { segments: readonly { label: string; score: number }[]; video: { trained?: boolean } }, n = 3): string {
  const best = new Map<string, number>();
  for (const s of t.segments) best.set(s.label, Math.max(best.get(s.label) ?? 0, s.score));
  const top = [...best].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);
  if (top.length === 0) return 'no action segments';
  const labels = top.map(([label, score]) => `${label} (${score.toFixed(2)})`).join(', ');
  return t.video.trained === false ? `${labels} — untrained model: these labels mean nothing` : labels;
}

export function registerUpload(program: Command): void {
  program
    .command('upload')
    .description('upload videos to the local stack (under videos/) and deliver their S3 events to the segmenter')
    .argument('<files...>', 'video files')
    .option('--api <url>', 'the local stack', `http://localhost:${DEFAULTS.localApiPort}`)
    .option('--wait', 'wait until every video is indexed or failed')
    .action(async (files: string[], opts: { api: string; wait?: boolean }) => {
      for (const f of files) {
        if (!existsSync(f) || !statSync(f).isFile()) throw new VidxError('UPLOAD_NO_FILE', `${f} is not a file`);
      }
      const api = opts.api.replace(/\/+$/, '');
      const config = await getJson<LocalConfig>(`${api}/_local/config`);
      const s3 = new S3Client({ region: config.region, endpoint: config.s3Endpoint, forcePathStyle: true, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      const uploaded: UploadedFile[] = [];
      try {
        for (const f of files) uploaded.push(await putVideoFile(s3, config.bucket, config.prefix, f));
      } finally {
        s3.destroy();
      }
      const r = await getJson<{ results: { videoId: string; outcome: string; clips?: number; reason?: string; why?: string }[] }>(`${api}/_local/s3-event`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(s3CreatedEvent(uploaded, config.region)),
      });
      for (const [i, u] of uploaded.entries()) {
        const res = r.results[i];
        const what = res?.outcome === 'queued' ? `queued, ${res.clips} clip(s)` : res?.outcome === 'failed' ? `FAILED: ${res.reason}` : (res?.outcome ?? '?');
        process.stdout.write(`${u.videoId}  s3://${u.bucket}/${u.key}  ${what}\n`);
      }
      process.stdout.write(`follow: curl ${api}/videos/<id>   timeline: curl ${api}/videos/<id>/timeline\n`);
      if (!opts.wait) return;
      const pending = new Set(uploaded.map((u) => u.videoId));
      while (pending.size > 0) {
        await new Promise((res) => setTimeout(res, 1000));
        for (const id of [...pending]) {
          const v = await getJson<{ status?: string; video?: { status?: string }; reason?: string }>(`${api}/videos/${id}`);
          const status = v.status ?? v.video?.status;
          if (status === 'failed') {
            pending.delete(id);
            process.stdout.write(`${id}  failed${v.reason ? `: ${v.reason}` : ''}\n`);
          } else if (status === 'indexed') {
            pending.delete(id);
            const timeline = await getJson<TimelineResponse>(`${api}/videos/${id}/timeline`);
            process.stdout.write(`${id}  indexed: ${describeTopLabels(timeline)}\n`);
          }
        }
      }
    });
}
