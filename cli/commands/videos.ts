/**
 * `vidx videos [--api url] [--json]`: every video the API lists, newest first: its id (what
 * export, search --video and reindex --video take), status and progress, and its key.
 */
import type { Command } from 'commander';
import { DEFAULTS } from '../../core/names.ts';
import type { VideoView } from '../../core/query/responses.ts';
import { listAllVideos } from '../video-ref.ts';
import { describeProgress } from '../progress-text.ts';

/** The table `vidx videos` prints: ID, STATUS (with progress), KEY. */
export function formatVideos(videos: readonly VideoView[]): string {
  const rows = videos.map((v) => [v.videoId, describeProgress(v), v.key]);
  const header = ['ID', 'STATUS', 'KEY'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function registerVideos(program: Command): void {
  program
    .command('videos')
    .description('list the indexed and indexing videos: id, status and progress (windows done, time left), key')
    .option('--api <url>', 'the query API', `http://localhost:${DEFAULTS.localApiPort}`)
    .option('--json', "print the API's video views as JSON")
    .action(async (opts: { api: string; json?: boolean }) => {
      const videos = await listAllVideos(opts.api);
      if (opts.json) process.stdout.write(`${JSON.stringify(videos, null, 2)}\n`);
      else if (videos.length === 0) process.stdout.write('no videos yet: `vidx upload <file>` (or drop one on the web page) indexes one\n');
      else process.stdout.write(`${formatVideos(videos)}\n`);
    });
}
