/**
 * The question language (core/query/language.ts), its evaluator (core/query/evaluate.ts) and its
 * paging over the index (core/query/run-query.ts, core/query/query-route.ts), without AWS.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, type EvalSegment } from '../../core/query/evaluate.ts';
import { QuerySchema, type QueryInput } from '../../core/query/language.ts';
import { MAX_VIDEOS_PER_PAGE, runQuery } from '../../core/query/run-query.ts';
import { answerQuery, parseQueryBody } from '../../core/query/query-route.ts';
import { QueryApi } from '../../core/query/api.ts';
import { isVidxError } from '../../core/errors.ts';
import { InMemoryIndex } from '../../core/index/memory.ts';

const q = (input: QueryInput) => QuerySchema.parse(input);
const p = (person: number, label: string, start: number, end: number, score = 0.9): EvalSegment => ({ kind: 'person', person, label, start, end, score });
const c = (label: string, start: number, end: number, score = 0.9): EvalSegment => ({ kind: 'clip', label, start, end, score });

describe('the question schema', () => {
  it('accepts each kind and fills in the defaults', () => {
    expect(q({ find: 'sequence', steps: ['run', 'fall down'], within: 10 })).toMatchObject({ samePerson: false, limit: 20, steps: [{ action: 'run', minScore: 0 }, { action: 'fall down', minScore: 0 }] });
    expect(q({ find: 'together', actions: ['fight/hit (a person)', { action: 'push (another person)', minScore: 0.5 }] })).toMatchObject({ minSeconds: 0 });
    expect(q({ find: 'count', action: 'fight/hit (a person)', atLeast: 3 })).toMatchObject({ atLeast: 3 });
    expect(q({ find: 'person', video: 'a'.repeat(20), person: 2 })).toMatchObject({ person: 2 });
  });

  it.each<[unknown, string]>([
    [{ find: 'sequence', steps: ['run'], within: 10 }, 'one step'],
    [{ find: 'sequence', steps: ['run', 'fall'] }, 'no within'],
    [{ find: 'count', action: 'run', atLeast: 0 }, 'atLeast 0'],
    [{ find: 'person', video: 'not-an-id', person: 1 }, 'a bad video id'],
    [{ find: 'together', actions: ['a', 'b'], from: 20, to: 10 }, 'from after to'],
    [{ find: 'together', actions: ['a', 'b'], limit: 101 }, 'a limit over 100'],
    [{ find: 'crowd', action: 'a' }, 'an unknown kind'],
    [{ find: 'together', actions: ['a', 'b'], extra: 1 }, 'an unknown field'],
  ])('refuses %j (%s)', (input, _why) => {
    expect(QuerySchema.safeParse(input).success).toBe(false);
  });
});

describe('sequence: A then B within N s', () => {
  it('finds B starting at most N s after A ends, by anyone', () => {
    const segs = [p(1, 'run', 0, 4), p(2, 'fall', 12, 14), p(3, 'fall', 30, 31)];
    const hits = evaluate(q({ find: 'sequence', steps: ['run', 'fall'], within: 8 }), segs);
    expect(hits.map((h) => [h.start, h.end, h.evidence.map((e) => e.person)])).toEqual([[0, 14, [1, 2]]]);
    expect(evaluate(q({ find: 'sequence', steps: ['run', 'fall'], within: 7.9 }), segs)).toEqual([]);
  });

  it('with samePerson, only chains of one tracked person, and names them', () => {
    const segs = [p(1, 'run', 0, 4), p(2, 'fall', 5, 6), p(1, 'fall', 9, 10)];
    const hits = evaluate(q({ find: 'sequence', steps: ['run', 'fall'], within: 10, samePerson: true }), segs);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ start: 0, end: 10, person: 1 });
    expect(hits[0]!.evidence.map((e) => [e.person, e.start])).toEqual([[1, 0], [1, 9]]);
  });

  it('by anyone, the earliest next step is taken, and clip segments count as anyone', () => {
    const segs = [c('run', 0, 2), p(4, 'fall', 3, 4), p(5, 'fall', 5, 6)];
    const hits = evaluate(q({ find: 'sequence', steps: ['run', 'fall'], within: 10 }), segs);
    expect(hits.map((h) => h.evidence.map((e) => e.start))).toEqual([[0, 3]]);
  });

  it('does not take a step that starts before the previous one', () => {
    expect(evaluate(q({ find: 'sequence', steps: ['run', 'fall'], within: 10 }), [p(1, 'fall', 0, 5), p(1, 'run', 2, 4)])).toEqual([]);
  });

  it('chains three steps and honours each step\'s minScore', () => {
    const segs = [p(1, 'walk', 0, 2), p(1, 'run', 3, 5, 0.4), p(1, 'run', 6, 8, 0.8), p(1, 'fall', 9, 10)];
    const hits = evaluate(q({ find: 'sequence', steps: ['walk', { action: 'run', minScore: 0.5 }, 'fall'], within: 5, samePerson: true }), segs);
    expect(hits.map((h) => h.evidence.map((e) => e.start))).toEqual([[0, 6, 9]]);
  });

  it('one hit per start, in time order', () => {
    const segs = [p(1, 'run', 10, 11), p(1, 'fall', 12, 13), p(2, 'run', 0, 1), p(2, 'fall', 2, 3)];
    const hits = evaluate(q({ find: 'sequence', steps: ['run', 'fall'], within: 5, samePerson: true }), segs);
    expect(hits.map((h) => [h.start, h.person])).toEqual([[0, 2], [10, 1]]);
  });
});

describe('together: A and B at once', () => {
  it('answers the spans where every action is going on, with the overlapping segments as evidence', () => {
    const segs = [p(1, 'talk', 0, 10), p(2, 'listen', 4, 6), p(3, 'listen', 8, 12), p(4, 'sit', 0, 20)];
    const hits = evaluate(q({ find: 'together', actions: ['talk', 'listen'] }), segs);
    expect(hits.map((h) => [h.start, h.end])).toEqual([[4, 6], [8, 10]]);
    expect(hits[0]!.evidence.map((e) => e.person)).toEqual([1, 2]);
  });

  it('drops spans shorter than minSeconds and finds nothing when one action is absent', () => {
    const segs = [p(1, 'talk', 0, 10), p(2, 'listen', 4, 6), p(3, 'listen', 8, 8.5)];
    expect(evaluate(q({ find: 'together', actions: ['talk', 'listen'], minSeconds: 1 }), segs).map((h) => h.start)).toEqual([4]);
    expect(evaluate(q({ find: 'together', actions: ['talk', 'dance'] }), segs)).toEqual([]);
  });

  it('joins touching segments of one action into one span', () => {
    const segs = [p(1, 'talk', 0, 5), p(2, 'talk', 5, 10), c('listen', 0, 10)];
    expect(evaluate(q({ find: 'together', actions: ['talk', 'listen'] }), segs).map((h) => [h.start, h.end])).toEqual([[0, 10]]);
  });
});

describe('count: at least K people doing A', () => {
  const fight = [p(1, 'fight', 0, 10), p(2, 'fight', 2, 8), p(3, 'fight', 4, 12), p(4, 'fight', 20, 30), p(1, 'walk', 0, 30)];

  it('answers the spans with K or more distinct people, and the people at the busiest moment', () => {
    const hits = evaluate(q({ find: 'count', action: 'fight', atLeast: 3 }), fight);
    expect(hits.map((h) => [h.start, h.end, h.people])).toEqual([[4, 8, [1, 2, 3]]]);
    expect(hits[0]!.evidence.map((e) => e.person)).toEqual([1, 2, 3]);
    expect(evaluate(q({ find: 'count', action: 'fight', atLeast: 2 }), fight).map((h) => [h.start, h.end])).toEqual([[2, 10]]);
  });

  it('counts a person once however many segments they have, and ignores clip segments', () => {
    const segs = [p(1, 'fight', 0, 5), p(1, 'fight', 1, 4), c('fight', 0, 5), p(2, 'fight', 0, 5)];
    expect(evaluate(q({ find: 'count', action: 'fight', atLeast: 3 }), segs)).toEqual([]);
    expect(evaluate(q({ find: 'count', action: 'fight', atLeast: 2 }), segs).map((h) => [h.start, h.end])).toEqual([[0, 5]]);
  });

  it('drops spans shorter than minSeconds', () => {
    expect(evaluate(q({ find: 'count', action: 'fight', atLeast: 3, minSeconds: 5 }), fight)).toEqual([]);
  });
});

describe('person: one person\'s actions', () => {
  it('lists that person\'s segments in time order, optionally only some actions', () => {
    const segs = [p(2, 'sit', 5, 9), p(1, 'walk', 0, 3), p(2, 'stand', 0, 5), c('walk', 0, 10)];
    const video = 'a'.repeat(20);
    expect(evaluate(q({ find: 'person', video, person: 2 }), segs).map((h) => [h.start, h.evidence[0]!.label])).toEqual([[0, 'stand'], [5, 'sit']]);
    expect(evaluate(q({ find: 'person', video, person: 2, actions: ['sit'] }), segs).map((h) => h.start)).toEqual([5]);
  });
});

describe('the time filter', () => {
  it('keeps only segments overlapping from..to', () => {
    const segs = [p(1, 'run', 0, 2), p(1, 'fall', 3, 4), p(1, 'run', 50, 52), p(1, 'fall', 53, 54)];
    const hits = evaluate(q({ find: 'sequence', steps: ['run', 'fall'], within: 5, from: 40 }), segs);
    expect(hits.map((h) => h.start)).toEqual([50]);
    expect(evaluate(q({ find: 'sequence', steps: ['run', 'fall'], within: 5, to: 3 }), segs)).toEqual([]);
  });
});

/** The in-memory twin of the index, holding these videos (the first one the newest) and their segments. */
async function memorySource(videos: { id: string; segments: EvalSegment[]; status?: 'processing' }[]): Promise<InMemoryIndex> {
  let clock = Date.UTC(2026, 11, 4);
  const index = new InMemoryIndex(() => new Date((clock += 1000)));
  for (const v of [...videos].reverse()) {
    const owner = { videoId: v.id, key: `videos/${v.id}.mp4`, etag: 'e1' };
    await index.beginRevision({ ...owner, bucket: 'b', status: 'queued', model: 'm', trained: false, clipsTotal: 1 });
    await index.writeTimeline(owner, v.segments.map((s) => ({ ...s, mean: s.score, windows: 1 })));
    if (v.status === 'processing') await index.markProcessing(v.id, 'e1');
    else await index.commitTimeline(v.id, 'e1', v.segments.length);
  }
  return index;
}

const id = (n: number) => n.toString(16).padStart(20, '0');
const secret = Buffer.from('test-secret');

describe('paging over videos', () => {
  const videos = [0, 1, 2, 3].map((n) => ({ id: id(n + 1), segments: [p(1, 'run', 0, 1), p(1, 'fall', 2, 3), p(2, 'run', 10, 11), p(2, 'fall', 12, 13)] }));

  it('walks every video newest first, resuming inside a video, until nextCursor is null', async () => {
    const source = await memorySource(videos);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await answerQuery({ index: source, cursorSecret: secret, thumbnailOf: async () => ({}) }, JSON.stringify({ find: 'sequence', steps: ['run', 'fall'], within: 5, samePerson: true, limit: 3, ...(cursor ? { cursor } : {}) }));
      seen.push(...page.items.map((h) => `${h.videoId.slice(-1)}:${h.person}`));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(['1:1', '1:2', '2:1', '2:2', '3:1', '3:2', '4:1', '4:2']);
    expect(pages).toBe(3);
  });

  it('reads only the asked videos, in the order asked, and skips videos that are not indexed', async () => {
    const source = await memorySource([...videos.slice(0, 3), { id: id(9), segments: videos[0]!.segments, status: 'processing' }]);
    const r = await runQuery(source, q({ find: 'sequence', steps: ['run', 'fall'], within: 5, samePerson: true, videos: [id(3), id(9), id(1)] }), undefined);
    expect(r.items.map((h) => String(h.video.videoId).slice(-1))).toEqual(['3', '3', '1', '1']);
    expect(r.next).toBeUndefined();
  });

  it('reads at most MAX_VIDEOS_PER_PAGE videos a page and says where to go on', async () => {
    const many = Array.from({ length: MAX_VIDEOS_PER_PAGE + 5 }, (_, n) => ({ id: id(n + 1), segments: [p(1, 'sit', 0, 1)] }));
    const source = await memorySource(many);
    const r = await runQuery(source, q({ find: 'count', action: 'run', atLeast: 1 }), undefined);
    expect(r.items).toEqual([]);
    expect(r.videosRead).toBe(MAX_VIDEOS_PER_PAGE);
    expect(r.next).toMatchObject({ O: '0', S: '0' });
    const rest = await runQuery(source, q({ find: 'count', action: 'run', atLeast: 1 }), r.next);
    expect(rest.videosRead).toBe(5);
    expect(rest.next).toBeUndefined();
  });

  it('refuses a cursor of another question', async () => {
    const source = await memorySource(videos);
    const deps = { index: source, cursorSecret: secret, thumbnailOf: async () => ({}) };
    const first = await answerQuery(deps, JSON.stringify({ find: 'sequence', steps: ['run', 'fall'], within: 5, limit: 1 }));
    expect(first.nextCursor).not.toBeNull();
    await expect(answerQuery(deps, JSON.stringify({ find: 'sequence', steps: ['run', 'fall'], within: 6, limit: 1, cursor: first.nextCursor }))).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
  });
});

describe('POST /query through the API', () => {
  let api: QueryApi;
  beforeAll(async () => {
    api = new QueryApi({ index: await memorySource([{ id: id(1), segments: [p(1, 'fight', 0, 5), p(2, 'fight', 1, 6), p(3, 'fight', 2, 4)] }]), vocabulary: [], cursorSecret: secret });
  });

  it('answers a question with its hits and evidence', async () => {
    const r = await api.handle({ method: 'POST', path: '/query', query: undefined, body: JSON.stringify({ find: 'count', action: 'fight', atLeast: 3 }) });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ items: [{ videoId: id(1), start: 2, end: 4, people: [1, 2, 3], evidence: [{ person: 1 }, { person: 2 }, { person: 3 }] }], nextCursor: null, videosRead: 1 });
  });

  it.each([
    ['GET', undefined, 405, 'METHOD_NOT_ALLOWED'],
    ['POST', undefined, 400, 'INVALID_PARAMETER'],
    ['POST', '{not json', 400, 'INVALID_PARAMETER'],
    ['POST', JSON.stringify({ find: 'count', action: 'fight', atLeast: 3, extra: true }), 400, 'UNKNOWN_PARAMETER'],
    ['POST', JSON.stringify({ find: 'count', action: 'fight', atLeast: 3, pad: 'x'.repeat(20_000) }), 413, 'PAYLOAD_TOO_LARGE'],
  ])('%s with body %s answers %i %s', async (method, body, status, code) => {
    const r = await api.handle({ method, path: '/query', query: undefined, body });
    expect(r.status).toBe(status);
    expect(r.body).toMatchObject({ code });
  });

  it('names the field at fault', () => {
    try {
      parseQueryBody(JSON.stringify({ find: 'sequence', steps: ['a', 'b'], within: -1 }));
      expect.unreachable();
    } catch (e) {
      expect(isVidxError(e) && e.message.startsWith('within:')).toBe(true);
    }
  });
});
