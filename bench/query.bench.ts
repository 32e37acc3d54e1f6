/**
 * `POST /query` over 1,000 video-hours of person segments: 1,000 one-hour videos, each with 8
 * tracked people doing one of 8 actions at a time in runs of 5-40 s (a seeded generator, about
 * 900 segments a video, 0.9 M in all, each with a box per keyframe at one keyframe a second up
 * to 4 kept). The index is the in-memory twin of the index port, so the figures are
 * the evaluator's and the paging's, not DynamoDB's: each question is asked through the query API
 * (JSON body, validation, signed cursor) and followed page by page until nextCursor is null. A page
 * that resumes inside a video evaluates that video again, so videos read can exceed 1,000.
 */
import { QueryApi } from '../core/query/api.ts';
import { InMemoryIndex } from '../core/index/memory.ts';
import type { TimelineSegment } from '../core/index/port.ts';
import type { QueryResponse } from '../core/query/responses.ts';
import type { QueryInput } from '../core/query/language.ts';

const VIDEOS = 1000;
const SECONDS = 3600;
const PEOPLE = 8;
const ACTIONS = ['walk', 'stand', 'sit', 'run', 'fall down', 'talk', 'listen', 'fight'];

type Item = Record<string, unknown>;

/** A small seeded generator (mulberry32), so every run sees the same index. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function simulate(): { videos: Item[]; segments: Map<string, Item[]>; count: number } {
  const next = random(7);
  const videos: Item[] = [];
  const segments = new Map<string, Item[]>();
  let count = 0;
  for (let v = 0; v < VIDEOS; v++) {
    const videoId = v.toString(16).padStart(20, '0');
    const key = `videos/cam-${v}.mp4`;
    const at = new Date(Date.UTC(2026, 10, 1) + v * 60_000).toISOString();
    videos.push({ videoId, key, etag: 'e', status: 'indexed', GSI1SK: `${at}#${videoId}` });
    const items: Item[] = [];
    for (let person = 1; person <= PEOPLE; person++) {
      let t = Math.floor(next() * 60);
      while (t < SECONDS) {
        const length = 5 + Math.floor(next() * 36);
        const label = ACTIONS[Math.floor(next() * ACTIONS.length)]!;
        const end = Math.min(SECONDS, t + length);
        const x = next() * 0.8;
        const boxes = Array.from({ length: Math.min(4, end - t) }, (_, i) => ({ t: t + i + 0.5, box: [x, 0.2, x + 0.15, 0.9] }));
        items.push({ videoId, key, etag: 'e', kind: 'person', person, label, start: t, end, score: 0.5 + next() / 2, mean: 0.5, windows: end - t, boxes, GSI1SK: 'x' });
        t = end + Math.floor(next() * 20);
      }
    }
    items.sort((a, b) => Number(a.start) - Number(b.start));
    segments.set(videoId, items);
    count += items.length;
  }
  return { videos, segments, count };
}

/** The in-memory twin of the index (core/index/memory.ts) holding the simulated videos. */
async function memoryIndex(videos: Item[], segments: Map<string, Item[]>): Promise<InMemoryIndex> {
  let clock = Date.UTC(2026, 10, 1);
  const index = new InMemoryIndex(() => new Date((clock += 1000)));
  for (const v of videos) {
    const owner = { videoId: String(v.videoId), key: String(v.key), etag: 'e' };
    await index.beginRevision({ ...owner, bucket: 'b', status: 'queued', model: 'slowfast_r50', trained: false, clipsTotal: 1 });
    const timeline = (segments.get(owner.videoId) ?? []) as unknown as TimelineSegment[]; // built above with every field of one
    await index.writeTimeline(owner, timeline);
    await index.commitTimeline(owner.videoId, 'e', timeline.length);
  }
  return index;
}

const QUESTIONS: [string, QueryInput][] = [
  ['sequence, same person (run then fall down within 10 s)', { find: 'sequence', steps: ['run', 'fall down'], within: 10, samePerson: true, limit: 100 }],
  ['sequence, anyone (run then fall down within 10 s)', { find: 'sequence', steps: ['run', 'fall down'], within: 10, limit: 100 }],
  ['together (talk and listen at once, 5 s or more)', { find: 'together', actions: ['talk', 'listen'], minSeconds: 5, limit: 100 }],
  ['count (at least 3 people fighting at once)', { find: 'count', action: 'fight', atLeast: 3, limit: 100 }],
  ['person (one person of one video)', { find: 'person', video: (VIDEOS - 1).toString(16).padStart(20, '0'), person: 3, limit: 100 }],
  ['sequence in 10 named videos, 10-20 min in', { find: 'sequence', steps: ['run', 'fall down'], within: 10, videos: Array.from({ length: 10 }, (_, i) => i.toString(16).padStart(20, '0')), from: 600, to: 1200, limit: 100 }],
];

export async function run(): Promise<void> {
  const t0 = performance.now();
  const { videos, segments, count } = simulate();
  console.log(`index: ${VIDEOS} videos x ${SECONDS / 3600} h = ${(VIDEOS * SECONDS) / 3600} video-hours, ${count} person segments (built in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const api = new QueryApi({ index: await memoryIndex(videos, segments), vocabulary: [], cursorSecret: Buffer.from('bench') });
  console.log('| question | hits | pages | first page (ms) | all pages (ms) | per video read (ms) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, question] of QUESTIONS) {
    let cursor: string | undefined;
    let hits = 0;
    let pages = 0;
    let first = 0;
    let read = 0;
    const started = performance.now();
    do {
      const r = await api.handle({ method: 'POST', path: '/query', query: undefined, body: JSON.stringify({ ...question, ...(cursor ? { cursor } : {}) }) });
      if (r.status !== 200) throw new Error(`${name}: ${JSON.stringify(r.body)}`);
      const body = r.body as QueryResponse;
      if (pages === 0) first = performance.now() - started;
      hits += body.items.length;
      read += body.videosRead;
      pages++;
      cursor = body.nextCursor ?? undefined;
    } while (cursor);
    const all = performance.now() - started;
    console.log(`| ${name} | ${hits} | ${pages} | ${first.toFixed(1)} | ${all.toFixed(0)} | ${(all / Math.max(1, read)).toFixed(2)} |`);
  }
}
