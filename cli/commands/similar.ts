/**
 * `vidx similar <videoId>@<t>`: moments like the one at t seconds of a video, across every indexed
 * video (`GET /similar`), most similar first; the moment itself leads with similarity 1.
 */
import type { Command } from 'commander';
import { VidxError } from '../../core/errors.ts';
import { DEFAULTS } from '../../core/names.ts';
import type { SimilarHit, SimilarResponse } from '../../core/query/similar.ts';
import { apiGetJson } from '../api-client.ts';

interface SimilarOptions {
  api: string;
  person?: string;
  limit?: string;
  json?: boolean;
}

/** "<videoId>@<t>" -> its parts (the API validates the values). */
export function parseMomentRef(ref: string): { videoId: string; t: string } {
  const at = ref.lastIndexOf('@');
  if (at <= 0 || at === ref.length - 1) {
    throw new VidxError('INVALID_PARAMETER', `"${ref}" is not <videoId>@<seconds>`, { hint: 'e.g. vidx similar 3f2a9c0d1e4b5a6c7d8e@12.5' });
  }
  return { videoId: ref.slice(0, at), t: ref.slice(at + 1) };
}

export function formatSimilar(hits: readonly SimilarHit[]): string {
  const rows = hits.map((h) => [h.videoId, `${h.start.toFixed(1)}–${h.end.toFixed(1)} s`, h.person === undefined ? '' : String(h.person), h.similarity.toFixed(4)]);
  const header = ['VIDEO', 'START–END', 'PERSON', 'SIMILARITY'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === r.length - 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function registerSimilar(program: Command): void {
  program
    .command('similar')
    .description('moments like the one at <t> seconds of a video, across every indexed video')
    .argument('<moment>', '<videoId>@<seconds>, e.g. 3f2a9c0d1e4b5a6c7d8e@12.5')
    .option('--api <url>', 'the query API', `http://localhost:${DEFAULTS.localApiPort}`)
    .option('--person <id>', 'people like this person (its track id) on the keyframe nearest <t>')
    .option('--limit <n>', 'at most n moments (1..100)')
    .option('--json', "print the API's JSON answer")
    .action(async (moment: string, opts: SimilarOptions) => {
      const { videoId, t } = parseMomentRef(moment);
      const body = await apiGetJson<SimilarResponse>(opts.api, '/similar', { videoId, t, person: opts.person, limit: opts.limit });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      process.stdout.write(`compared: ${body.space} vectors (cosine similarity, 1 = the same direction)\n${formatSimilar(body.hits)}\n`);
    });
}
