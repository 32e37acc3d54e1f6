/**
 * `vidx query '<json>'` / `vidx query --file q.json`: asks the query API a question about
 * sequences, crowds or one person (`POST /query`, the language of core/query/language.ts) and prints
 * the hits as a table (or the API's JSON with --json). The question is checked by the API: its 4xx
 * answers are shown with their code and the field at fault.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { VidxError } from '../../core/errors.ts';
import { DEFAULTS } from '../../core/names.ts';
import type { QueryHit, QueryResponse } from '../../core/query/responses.ts';
import { apiPostJson } from '../api-client.ts';

interface QueryOptions {
  api: string;
  file?: string;
  cursor?: string;
  json?: boolean;
}

/** The question text: the argument or the file, with --cursor set into it. */
export function questionText(arg: string | undefined, opts: Pick<QueryOptions, 'file' | 'cursor'>): string {
  if ((arg === undefined) === (opts.file === undefined)) {
    throw new VidxError('INVALID_PARAMETER', 'give the question either as an argument or with --file, not both', { hint: `vidx query '{"find":"count","action":"fight/hit (a person)","atLeast":3}'` });
  }
  const text = arg ?? readFileSync(opts.file!, 'utf8');
  if (opts.cursor === undefined) return text;
  let q: unknown;
  try {
    q = JSON.parse(text);
  } catch (_e) {
    throw new VidxError('INVALID_PARAMETER', 'the question is not JSON');
  }
  if (typeof q !== 'object' || q === null || Array.isArray(q)) throw new VidxError('INVALID_PARAMETER', 'the question is not a JSON object');
  return JSON.stringify({ ...q, cursor: opts.cursor });
}

function who(h: QueryHit): string {
  if (h.person !== undefined) return `person ${h.person}`;
  if (h.people !== undefined) return `people ${h.people.join(',')}`;
  return [...new Set(h.evidence.map((e) => (e.person !== undefined ? `person ${e.person}` : 'clip')))].join(', ');
}

/** A plain-text table: video key, start–end (s), who, and the evidence labels. */
export function formatHits(items: readonly QueryHit[]): string {
  const rows = items.map((h) => [h.key, `${h.start.toFixed(1)}–${h.end.toFixed(1)} s`, who(h), h.evidence.map((e) => e.label).join(' → ')]);
  const header = ['VIDEO', 'START–END', 'WHO', 'EVIDENCE'];
  const widths = header.map((x, c) => Math.max(x.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('ask a question about sequences, crowds or one person (JSON; see README "Questions about sequences and crowds")')
    .argument('[json]', `the question, e.g. '{"find":"sequence","steps":["run","fall down"],"within":10}'`)
    .option('--file <path>', 'read the question from this file')
    .option('--api <url>', 'the query API', `http://localhost:${DEFAULTS.localApiPort}`)
    .option('--cursor <cursor>', 'the next page of an earlier answer (printed after its table)')
    .option('--json', "print the API's JSON answer")
    .action(async (json: string | undefined, opts: QueryOptions) => {
      const body = await apiPostJson<QueryResponse>(opts.api, '/query', questionText(json, opts));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      process.stdout.write(body.items.length > 0 ? `${formatHits(body.items)}\n` : `no hits (${body.videosRead} videos read)\n`);
      if (body.nextCursor) process.stdout.write(`more: vidx query ... --cursor ${body.nextCursor}\n`);
    });
}
