/**
 * `vidx search <text...>`: asks the query API (`GET /search?q=`) over HTTP and prints the
 * segments best first as a table (or the API's JSON with --json). Validation of the values is
 * the API's: its 4xx answers are shown with their code.
 */
import type { Command } from 'commander';
import type { SegmentView } from '../../core/query/views.ts';
import { apiGetJson } from '../api-client.ts';
import { resolveVideoId } from '../video-ref.ts';
import { DEFAULTS } from '../../core/names.ts';
import { printable } from '../printable.ts';

type SearchItem = Pick<SegmentView, 'videoId' | 'key' | 'label' | 'start' | 'end' | 'score'> & Partial<Pick<SegmentView, 'kind' | 'person'>>;

interface SearchBody {
  query: { labels: { label: string }[] };
  items: SearchItem[];
  nextCursor: string | null;
}

interface SearchOptions {
  api: string;
  minScore?: string;
  limit?: string;
  video?: string;
  action?: boolean;
  cursor?: string;
  json?: boolean;
}

export async function fetchSearch(api: string, params: Record<string, string | undefined>): Promise<SearchBody> {
  return apiGetJson<SearchBody>(api, '/search', params);
}

function seconds(s: number): string {
  return `${s.toFixed(1)}`;
}

/**
 * A plain-text table: label, the person (where any result is a person's), start–end (s), score,
 * the video's id (what `vidx export` takes) and key.
 */
export function formatTable(items: readonly SearchItem[]): string {
  const people = items.some((i) => i.kind === 'person');
  const rows = items.map((i) => [
    printable(i.label),
    ...(people ? [i.kind === 'person' && i.person !== undefined ? `person ${i.person}` : '-'] : []),
    `${seconds(i.start)}–${seconds(i.end)} s`,
    i.score.toFixed(3),
    i.videoId,
    printable(i.key),
  ]);
  const header = ['LABEL', ...(people ? ['PERSON'] : []), 'START–END', 'SCORE', 'ID', 'VIDEO'];
  const scoreColumn = header.indexOf('SCORE');
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, c) => (c === scoreColumn ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('search indexed videos for an action (typo-tolerant free text), best segments first')
    .argument('<text...>', 'what to look for, e.g. "playing basketball" or basketbal')
    .option('--api <url>', 'the query API', `http://localhost:${DEFAULTS.localApiPort}`)
    .option('--min-score <x>', 'only segments scoring at least x (0..1)')
    .option('--limit <n>', 'at most n segments (1..100)')
    .option('--video <video>', 'only segments of this video: its id, key or file name')
    .option('--cursor <cursor>', 'the next page of an earlier search (printed after its table)')
    .option('--action', 'the text is an exact label of the model (action=), not free text')
    .option('--json', "print the API's JSON answer")
    .action(async (words: string[], opts: SearchOptions) => {
      const text = words.join(' ');
      const body = await fetchSearch(opts.api, {
        [opts.action ? 'action' : 'q']: text,
        minScore: opts.minScore,
        limit: opts.limit,
        videoId: opts.video === undefined ? undefined : await resolveVideoId(opts.api, opts.video),
        cursor: opts.cursor,
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      const labels = body.query.labels.map((l) => l.label);
      if (labels.length === 0) {
        process.stdout.write(`no action of the model matches "${text}" (try \`curl '${opts.api.replace(/\/+$/, '')}/actions?q=${encodeURIComponent(text)}'\`)\n`);
        return;
      }
      process.stdout.write(`actions: ${labels.join(', ')}\n`);
      if (body.items.length === 0) {
        process.stdout.write('no segments found\n');
        return;
      }
      process.stdout.write(`${formatTable(body.items)}\n`);
      if (body.nextCursor) process.stdout.write(`more: add --cursor ${body.nextCursor}\n`);
    });
}
