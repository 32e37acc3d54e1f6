/**
 * `vidx export <video> --format json|csv|vtt|edl`: a video's timeline from the query API
 * (`GET /videos/{id}/timeline?format=`), optionally re-segmented at query time, to stdout or a file.
 */
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { DEFAULTS } from '../../core/names.ts';
import { VidxError } from '../../core/errors.ts';
import { EXPORT_FORMATS, type ExportFormat } from '../../core/export/formats.ts';
import { apiGet } from '../api-client.ts';
import { resolveVideoId } from '../video-ref.ts';

interface ExportOptions {
  api: string;
  format: string;
  threshold?: string;
  gap?: string;
  minDuration?: string;
  out?: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('export a video\'s timeline: json, csv (one row per segment), vtt (WebVTT, one cue per segment), edl (CMX3600 markers)')
    .argument('<video>', 'the video: its id (`vidx videos` lists them), key or file name')
    .option('--api <url>', 'the query API', `http://localhost:${DEFAULTS.localApiPort}`)
    .option('--format <format>', EXPORT_FORMATS.join('|'), 'json')
    .option('--threshold <p>', 're-segment at query time: probability a label needs in a window (0..1)')
    .option('--gap <n>', 're-segment: windows below threshold a segment may bridge')
    .option('--min-duration <s>', 're-segment: drop segments shorter than s seconds')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (video: string, opts: ExportOptions) => {
      if (!(EXPORT_FORMATS as readonly string[]).includes(opts.format)) {
        throw new VidxError('BAD_OPTION', `--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${opts.format}"`);
      }
      const format = opts.format as ExportFormat;
      const videoId = await resolveVideoId(opts.api, video);
      const r = await apiGet(opts.api, `/videos/${encodeURIComponent(videoId)}/timeline`, {
        format: format === 'json' ? undefined : format,
        threshold: opts.threshold,
        gap: opts.gap,
        minDuration: opts.minDuration,
      });
      const text = format === 'json' ? `${JSON.stringify(JSON.parse(r.text), null, 2)}\n` : r.text;
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });
}
