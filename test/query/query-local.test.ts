/**
 * `POST /query` end to end on the local emulators: an upload goes through the segmenter, the clip
 * worker (a stand-in scorer that reports three people with actions on every keyframe), assembly
 * (tracks linked over the whole video, person segments written to the index), then each kind of
 * question is asked over real HTTP through the query Lambda's handler, reading DynamoDB; the
 * timeline's people exports (MOT, CSV, VTT) are read back the same way.
 *
 * The scene, 8 s, one keyframe a second, three people standing apart:
 * - the left person runs (t < 3) then falls (t > 4);
 * - the middle one talks while the right one listens (t < 4);
 * - all three fight from 5 s on.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { startTestStack, waitFor, type TestStack } from '../helpers/emulators.ts';
import { DeterministicScorer, TEST_LABELS, makeVideo, quiet, testSegmenterDeps } from '../pipeline/fixtures.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import { ClipWorker } from '../../gpu-worker/worker.ts';
import { uploadAndNotify } from '../../cli/local/upload.ts';
import { VIDEO_PREFIX } from '../../core/names.ts';
import { planKeyframes, type KeyframePlan } from '../../core/detection/keyframes.ts';
import { defaultPersonTimelineOptions } from '../../core/detection/defaults.ts';
import type { KeyframeDetections } from '../../core/detection/schema.ts';
import type { PlannedWindow, VideoFactsForScoring } from '../../core/pipeline/clip-scorer.ts';
import { DynamoIndex } from '../../adapters/dynamo-index/index.ts';
import { createQueryHandler } from '../../lambdas/query/app.ts';
import { serveHttpApi, type HttpApiHandler } from '../../cli/local/http-adapter.ts';
import { QueryResponseSchema, type QueryResponse } from '../../core/query/responses.ts';
import type { QueryInput } from '../../core/query/language.ts';

const ACTIONS = ['run', 'fall', 'talk', 'listen', 'fight'];

function actionsAt(who: 'left' | 'middle' | 'right', t: number): { label: string; index: number; p: number }[] {
  const on: Record<string, boolean> = {
    run: who === 'left' && t < 3,
    fall: who === 'left' && t > 4 && t < 5,
    talk: who === 'middle' && t < 4,
    listen: who === 'right' && t < 4,
    fight: t > 5,
  };
  return ACTIONS.map((label, index) => ({ label, index, p: on[label] ? 0.9 : 0.05 }));
}

class Scene extends DeterministicScorer {
  keyframesFor(duration: number): KeyframePlan[] {
    return planKeyframes(duration, 1);
  }

  override async score(source: string, video: VideoFactsForScoring, windows: readonly PlannedWindow[], signal: AbortSignal, keyframes: readonly KeyframePlan[] = []) {
    const out = await super.score(source, video, windows, signal);
    const detections: KeyframeDetections[] = keyframes.map((k) => ({
      index: k.index,
      t: k.t,
      people: [
        { box: [0.02, 0.2, 0.22, 0.9], score: 0.95, actions: actionsAt('left', k.t) },
        { box: [0.4, 0.2, 0.6, 0.9], score: 0.95, actions: actionsAt('middle', k.t) },
        { box: [0.78, 0.2, 0.98, 0.9], score: 0.95, actions: actionsAt('right', k.t) },
      ],
    }));
    return { ...out, keyframes: detections };
  }
}

let stack: TestStack;
let dir: string;
let worker: ClipWorker;
let http: { url: string; close(): Promise<void> } | undefined;
let videoId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-query-'));
  stack = await startTestStack();
  worker = new ClipWorker({
    sqs: stack.clients.sqs,
    queueUrl: stack.resources.queueUrl,
    s3: stack.clients.s3,
    store: stack.store,
    scorer: new Scene(2),
    timeline: { threshold: 0, gap: 1 },
    people: defaultPersonTimelineOptions(true, 1),
    log: quiet,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 3,
    heartbeatSeconds: 1,
  });
  worker.start();
  const video = makeVideo(dir, 'scene.mp4', 8);
  const [up] = await uploadAndNotify(stack.clients.s3, stack.resources.bucket, VIDEO_PREFIX, [video], makeSegmenterHandler(testSegmenterDeps(stack)));
  videoId = up!.videoId;
  await waitFor('indexed', async () => (await stack.store.getVideo(videoId))?.status === 'indexed');
  const handler = createQueryHandler({
    index: new DynamoIndex(stack.clients.doc, stack.resources.tableName),
    vocabulary: [...TEST_LABELS],
    cursorSecret: Buffer.from('query-local-test'),
    logger: new Logger({ serviceName: 'vidx-query-test', logLevel: 'SILENT' }),
  });
  http = await serveHttpApi(0, handler as HttpApiHandler);
}, 120_000);

afterAll(async () => {
  await http?.close();
  await worker?.stop();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ask(question: QueryInput): Promise<QueryResponse> {
  const r = await fetch(`${http!.url}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(question) });
  const body: unknown = await r.json();
  expect(r.status, JSON.stringify(body)).toBe(200);
  return QueryResponseSchema.parse(body);
}

describe('POST /query on the local stack', () => {
  it('sequence: the same person runs, then falls within 3 s, with the segments and boxes as evidence', async () => {
    const r = await ask({ find: 'sequence', steps: ['run', 'fall'], within: 3, samePerson: true });
    expect(r.items).toHaveLength(1);
    const [hit] = r.items;
    expect(hit).toMatchObject({ videoId, start: 0, end: 5 });
    expect(hit!.evidence.map((e) => [e.label, e.person])).toEqual([['run', hit!.person], ['fall', hit!.person]]);
    expect(hit!.evidence[0]!.boxes![0]!.box[0]).toBeCloseTo(0.02, 6);
    // The run segment ends at 3 s and the fall starts at 4 s: half a second is too short a gap.
    expect((await ask({ find: 'sequence', steps: ['run', 'fall'], within: 1 })).items).toHaveLength(1);
    expect((await ask({ find: 'sequence', steps: ['run', 'fall'], within: 0.5 })).items).toEqual([]);
  });

  it('together: someone talks while someone listens', async () => {
    const r = await ask({ find: 'together', actions: ['talk', 'listen'] });
    expect(r.items.map((h) => [h.start, h.end])).toEqual([[0, 4]]);
    expect(new Set(r.items[0]!.evidence.map((e) => e.person)).size).toBe(2);
    expect((await ask({ find: 'together', actions: ['run', 'fight'] })).items).toEqual([]);
  });

  it('count: three people fight at once, not four', async () => {
    const r = await ask({ find: 'count', action: 'fight', atLeast: 3 });
    expect(r.items).toHaveLength(1);
    expect(r.items[0]).toMatchObject({ start: 5, end: 8 });
    expect(r.items[0]!.people).toHaveLength(3);
    expect((await ask({ find: 'count', action: 'fight', atLeast: 4 })).items).toEqual([]);
  });

  it("person: one person's actions in time order, paged with a cursor, and the time filter", async () => {
    const runner = (await ask({ find: 'sequence', steps: ['run', 'fall'], within: 3, samePerson: true })).items[0]!.person!;
    const all = await ask({ find: 'person', video: videoId, person: runner });
    expect(all.items.map((h) => h.evidence[0]!.label)).toEqual(['run', 'fall', 'fight']);
    const first = await ask({ find: 'person', video: videoId, person: runner, limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await ask({ find: 'person', video: videoId, person: runner, limit: 2, cursor: first.nextCursor! });
    expect(second.items.map((h) => h.evidence[0]!.label)).toEqual(['fight']);
    expect(second.nextCursor).toBeNull();
    expect((await ask({ find: 'person', video: videoId, person: runner, from: 4 })).items.map((h) => h.evidence[0]!.label)).toEqual(['fall', 'fight']);
  });

  it('exports the people: MOT lines per keyframe and person, CSV person and box columns, VTT cues naming the person', async () => {
    const get = async (format: string) => {
      const r = await fetch(`${http!.url}/videos/${videoId}/timeline?format=${format}`);
      expect(r.status).toBe(200);
      return { text: await r.text(), disposition: r.headers.get('content-disposition') };
    };
    const mot = await get('mot');
    expect(mot.disposition).toBe(`attachment; filename="${videoId}.mot.txt"`);
    const lines = mot.text.trimEnd().split('\n').map((l) => l.split(','));
    // Each person has a segment on 7 of the 8 keyframes (nobody acts at the one between actions).
    expect(lines).toHaveLength(21);
    expect(new Set(lines.map((l) => l[1])).size).toBe(3);
    for (const l of lines) expect(l).toHaveLength(10);
    const csv = await get('csv');
    expect(csv.text.split('\r\n')[0]).toBe('video_id,key,label,start,end,score,mean,windows,kind,person,boxes');
    expect(csv.text).toMatch(/,run,0\.000,3\.000,.*,person,\d+,0\.500 0\.0200 0\.2000 0\.2200 0\.9000;/);
    expect((await get('vtt')).text).toMatch(/\nperson \d+: fall \(0\.90\)\n/);
  });

  it('refuses an invalid question with 400 and the field at fault', async () => {
    const r = await fetch(`${http!.url}/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ find: 'count', action: 'fight', atLeast: 'three' }) });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ code: 'INVALID_PARAMETER', message: expect.stringContaining('atLeast') });
  });
});
