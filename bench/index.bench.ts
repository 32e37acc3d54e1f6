/**
 * `npm run bench -- index`: what one indexed video-hour costs in the index, through the DynamoDB
 * adapter on the emulator (dynalite + fauxqs for the S3 payloads), for classification and for
 * detection (5 people per keyframe), and how fast one label's search is over its shards.
 *
 * Capacity is counted by DynamoDB's own size rules (adapters/dynamo-index/sizes.ts), from the
 * items each request wrote or read: a write costs ceil(item / 1 KiB) WCU on the table and as
 * much again on each index whose projection the item is in (twice where the index key moved:
 * a delete plus a put); a read ceil(sum of items / 4 KiB) RCU, half when eventually consistent.
 * A delete is counted at 1 WCU (the deleted items are small or were counted when written).
 *
 * VIDX_BENCH_SEGMENTS sets how many segments of one label the search figure is measured over
 * (default 100000).
 */
import { performance } from 'node:perf_hooks';
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { startEmulators } from '../cli/local/emulators.ts';
import { ensureResources } from '../cli/local/resources.ts';
import { createClients } from '../adapters/clients.ts';
import { createIndex } from '../adapters/dynamo-index/create.ts';
import { KEYS, LIST_PROJECTION } from '../adapters/dynamo-index/layout.ts';
import { itemSize, readUnits, writeUnits } from '../adapters/dynamo-index/sizes.ts';
import { BUCKET, DEFAULTS } from '../core/names.ts';
import { processClip, type ClipDeps } from '../core/pipeline/process-clip.ts';
import { planClips } from '../core/pipeline/plan.ts';
import { planWindows } from '../core/video/windows.ts';
import { planKeyframes, type KeyframePlan } from '../core/detection/keyframes.ts';
import { defaultPersonTimelineOptions } from '../core/detection/defaults.ts';
import type { ClipScorer, PlannedWindow } from '../core/pipeline/clip-scorer.ts';
import type { KeyframeDetections } from '../core/detection/schema.ts';
import type { WindowScore } from '../core/result.ts';
import type { ClipJob } from '../core/messages.ts';
import type { TimelineSegment } from '../core/index/port.ts';

type Item = Record<string, NativeAttributeValue>;

interface Tally {
  requests: number;
  itemsWritten: number;
  bytesWritten: number;
  wcu: number;
  gsiWcu: number;
  itemsRead: number;
  bytesRead: number;
  rcu: number;
  largest: number;
}

const zero = (): Tally => ({ requests: 0, itemsWritten: 0, bytesWritten: 0, wcu: 0, gsiWcu: 0, itemsRead: 0, bytesRead: 0, rcu: 0, largest: 0 });
const LISTED = new Set<string>([...LIST_PROJECTION, KEYS.list.partitionKey, KEYS.list.sortKey, KEYS.partitionKey, KEYS.sortKey]);

function projected(item: Item, keep: Set<string>): Item {
  return Object.fromEntries(Object.entries(item).filter(([k]) => keep.has(k)));
}

/** The index writes an item costs beside the table's: the listing index if it is in it, the sparse one if unfinished. */
function indexUnits(item: Item, moved: boolean): number {
  let n = 0;
  if (item[KEYS.list.partitionKey] !== undefined) n += writeUnits(itemSize(projected(item, LISTED)));
  if (item[KEYS.unfinished.partitionKey] !== undefined) n += moved ? 2 : 1;
  return n;
}

function written(t: Tally, item: Item, moved = false): void {
  const size = itemSize(item);
  t.itemsWritten++;
  t.bytesWritten += size;
  t.wcu += writeUnits(size);
  t.gsiWcu += indexUnits(item, moved);
  t.largest = Math.max(t.largest, size);
}

function read(t: Tally, items: readonly Item[], consistent: boolean): void {
  const bytes = items.reduce((n, i) => n + itemSize(i), 0);
  t.itemsRead += items.length;
  t.bytesRead += bytes;
  t.rcu += readUnits(bytes, consistent);
}

/** Wraps the document client so every request is counted into `current`. */
function meter(doc: { send: (c: unknown) => Promise<unknown> }): { current: Tally } {
  const state = { current: zero() };
  const send = doc.send.bind(doc);
  doc.send = async (command: unknown) => {
    const out = (await send(command)) as Record<string, unknown>;
    const t = state.current;
    t.requests++;
    const input = (command as { input: Record<string, unknown> }).input;
    if (command instanceof PutCommand) written(t, input.Item as Item);
    else if (command instanceof UpdateCommand) written(t, (out.Attributes as Item) ?? {}, String(input.UpdateExpression).includes(KEYS.unfinished.sortKey) || Object.values((input.ExpressionAttributeNames as Record<string, string>) ?? {}).includes(KEYS.unfinished.sortKey));
    else if (command instanceof BatchWriteCommand) {
      for (const reqs of Object.values(input.RequestItems as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: unknown }[]>)) {
        for (const r of reqs) {
          if (r.PutRequest) written(t, r.PutRequest.Item);
          else t.wcu += 1;
        }
      }
    } else if (command instanceof GetCommand) read(t, out.Item ? [out.Item as Item] : [], input.ConsistentRead === true);
    else if (command instanceof QueryCommand) read(t, (out.Items as Item[]) ?? [], input.ConsistentRead === true);
    return out;
  };
  return state;
}

/** Deterministic pseudo-random numbers. */
function rng(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
}

const LABELS = Array.from({ length: 400 }, (_, i) => `action ${i}`);
const AVA = Array.from({ length: 80 }, (_, i) => `ava ${i}`);

/** Window scores where a few labels hold for a while, as in real video (top 5 per window). */
function windowScores(windows: readonly PlannedWindow[], seed: number): WindowScore[] {
  const r = rng(seed);
  let current = [0, 1, 2, 3, 4].map(() => Math.floor(r() * LABELS.length));
  return windows.map((w) => {
    if (r() < 0.1) current = current.map((l) => (r() < 0.5 ? Math.floor(r() * LABELS.length) : l));
    const ps = current.map((_, i) => (i === 0 ? 0.4 + 0.5 * r() : 0.3 * r())).sort((a, b) => b - a);
    return { index: w.index, start: w.start, end: w.end, top: current.map((l, i) => ({ label: LABELS[l]!, index: l, p: ps[i]! })) };
  });
}

/** 5 people walking slowly, each with 8 kept actions, one or two of them high for a while. */
function detections(keyframes: readonly KeyframePlan[], seed: number): KeyframeDetections[] {
  const r = rng(seed);
  return keyframes.map((k) => ({
    index: k.index,
    t: k.t,
    people: Array.from({ length: 5 }, (_, p) => {
      const x = 0.05 + 0.18 * p + 0.0001 * (k.index % 100);
      const main = (Math.floor(k.index / 30) + p) % AVA.length;
      return {
        box: [x, 0.2, x + 0.12, 0.9] as [number, number, number, number],
        score: 0.9 + 0.09 * r(),
        actions: Array.from({ length: 8 }, (_, a) => ({ label: AVA[(main + a * 7) % AVA.length]!, index: (main + a * 7) % AVA.length, p: a === 0 ? 0.6 + 0.3 * r() : 0.2 * r() })),
      };
    }),
  }));
}

const MANIFEST = { frames: 32, samplingRate: 2, fps: 30 };

class PlannedScorer implements ClipScorer {
  readonly device = 'cpu';
  readonly trained = true;
  readonly topK = 5;
  constructor(
    readonly architecture: string,
    private readonly windows: WindowScore[],
    private readonly keyframes: KeyframeDetections[] | undefined,
    private readonly interval: number,
  ) {}
  windowsFor(duration: number): PlannedWindow[] {
    return this.windows.length > 0 ? planWindows(duration, MANIFEST) : [];
  }
  keyframesFor?(duration: number): KeyframePlan[];
  async score(_s: string, _v: unknown, windows: readonly PlannedWindow[], _signal: AbortSignal, keyframes: readonly KeyframePlan[] = []) {
    const wanted = new Set(windows.map((w) => w.index));
    const ks = new Set(keyframes.map((k) => k.index));
    return {
      windows: this.windows.filter((w) => wanted.has(w.index)),
      ...(this.keyframes ? { keyframes: this.keyframes.filter((k) => ks.has(k.index)) } : {}),
      decodeMs: 0,
      inferenceMs: 0,
      interval: this.interval,
    };
  }
  async close() {}
}

function fmt(t: Tally, hours = 1): string {
  const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  return [
    `requests ${t.requests}`,
    `items written ${t.itemsWritten} (${kib(t.bytesWritten)}), largest item ${kib(t.largest)}`,
    `WCU table ${t.wcu.toFixed(0)} + indexes ${t.gsiWcu.toFixed(0)} = ${((t.wcu + t.gsiWcu) / hours).toFixed(0)} per video-hour`,
    `items read ${t.itemsRead} (${kib(t.bytesRead)}), RCU ${t.rcu.toFixed(1)}`,
  ].join('\n    ');
}

export async function run(): Promise<void> {
  const emulators = await startEmulators();
  const clients = createClients({ region: DEFAULTS.region, endpoint: emulators.endpoint, dynamoEndpoint: emulators.dynamoEndpoint });
  try {
    const resources = await ensureResources(clients, { bucket: BUCKET.localName });
    const metered = meter(clients.doc as unknown as { send: (c: unknown) => Promise<unknown> });
    const index = createIndex(clients, resources.tableName, { payloadBucket: resources.bucket });
    const log = { info() {}, warn() {}, error() {} };

    for (const kind of ['classification', 'detection'] as const) {
      const videoId = kind === 'classification' ? 'aaaaaaaa00000000c1a5' : 'bbbbbbbb00000000de7e';
      const duration = 3600;
      const interval = 1;
      const windows = kind === 'classification' ? windowScores(planWindows(duration, MANIFEST), 7) : [];
      const keyframes = kind === 'detection' ? detections(planKeyframes(duration, interval), 11) : undefined;
      const scorer = new PlannedScorer(kind === 'classification' ? 'slowfast_r50' : 'slowfast_r50_detection', windows, keyframes, interval);
      if (keyframes) scorer.keyframesFor = (d) => planKeyframes(d, interval);
      const starts = kind === 'classification' ? planWindows(duration, MANIFEST).map((w) => w.start) : planKeyframes(duration, interval).map((k) => k.t);
      const clips = planClips(starts, DEFAULTS.clipSeconds);
      const etag = `${kind}-1`;
      const write = (metered.current = zero());
      await index.beginRevision({ videoId, bucket: resources.bucket, key: `videos/${kind}.mp4`, etag, status: 'queued', duration, fps: 30, width: 1280, height: 720, model: scorer.architecture, trained: true, clipsTotal: clips.length, clipSeconds: DEFAULTS.clipSeconds, clipStarts: clips.map((c) => c.start) });
      await index.markEnqueued(videoId, etag);
      const deps: ClipDeps = {
        objects: { readable: async () => ({ url: 'http://127.0.0.1:1/unused', redact: (m: string) => m }) },
        store: index,
        scorer,
        timeline: { threshold: 0.5, gap: 1 },
        ...(keyframes ? { people: defaultPersonTimelineOptions(true, interval) } : {}),
        log,
      };
      const t0 = performance.now();
      for (const clip of clips) {
        const job: ClipJob = { v: 1, videoId, bucket: resources.bucket, key: `videos/${kind}.mp4`, etag, clip, model: scorer.architecture };
        const out = await processClip(deps, job, new AbortController().signal);
        if (out.kind !== 'done') throw new Error(`clip ${clip.index}: ${JSON.stringify(out)}`);
      }
      const ms = performance.now() - t0;
      const video = await index.getVideo(videoId);
      console.log(`\n${kind}: one video-hour (${clips.length} clips of ${DEFAULTS.clipSeconds} s, ${windows.length} windows, ${keyframes ? `${keyframes.length} keyframes x 5 people x 8 actions` : 'no keyframes'}) -> ${video?.segments} segments, ${ms.toFixed(0)} ms on the emulator`);
      console.log(`  write (upload to indexed):\n    ${fmt(write)}`);
      const payloads = (await index.clipsOf(videoId, etag, { keyframes: true })).map((c) => Buffer.byteLength(c.windows) + Buffer.byteLength(c.keyframes ?? ''));
      const r = (metered.current = zero());
      let pages = 0;
      for (let after: string | undefined, guard = 0; guard < 1000; guard++) {
        const page = await index.timelinePage(videoId, { limit: 200, after });
        pages++;
        if (!page.next) break;
        after = page.next;
      }
      console.log(`  read the timeline (API pages of 200: ${pages}):\n    ${fmt(r)}`);
      const rs = (metered.current = zero());
      await index.clipsOf(videoId, etag);
      console.log(`  re-segmentation's clip read (window scores only; payloads in S3 not counted):\n    ${fmt(rs)}`);
      console.log(`  clip payloads: ${payloads.length}, mean ${(payloads.reduce((a, b) => a + b, 0) / payloads.length / 1024).toFixed(1)} KiB, largest ${(Math.max(...payloads) / 1024).toFixed(1)} KiB (inline under 32 KiB, else one S3 object)`);
    }

    // Search: one label with N segments spread over its shards.
    const N = Number(process.env.VIDX_BENCH_SEGMENTS ?? 100_000);
    const perVideo = 100;
    const t0 = performance.now();
    metered.current = zero();
    const label = 'stand';
    const writes: Promise<void>[] = [];
    for (let v = 0; v < N / perVideo; v++) {
      const videoId = (0x10000000 + v * 2654435761).toString(16).slice(-8).padStart(8, '0') + v.toString(16).padStart(12, '0');
      const r = rng(v + 1);
      const segments: TimelineSegment[] = Array.from({ length: perVideo }, (_, i) => ({ label, start: i * 5, end: i * 5 + 3, score: Math.round(r() * 1e6) / 1e6, mean: 0.5, windows: 3, kind: 'person', person: 1 + (i % 5) }));
      writes.push(index.writeTimeline({ videoId, key: `videos/${v}.mp4`, etag: 'e' }, segments));
      if (writes.length >= 4) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    const seedMs = performance.now() - t0;
    const seeded = metered.current;
    console.log(`\nsearch: ${N} segments of one label over ${index.labelShards} shards (${N / perVideo} videos), written in ${(seedMs / 1000).toFixed(1)} s on the emulator; largest segment item ${seeded.largest} B`);
    const times: number[] = [];
    let rcu = 0;
    for (let i = 0; i < 15; i++) {
      metered.current = zero();
      const s = performance.now();
      const first = await index.searchLabel({ label, after: undefined, minScore: 0, videoId: undefined, want: 20 });
      await index.searchLabel({ label, after: first.items[first.items.length - 1]!.position, minScore: 0, videoId: undefined, want: 20 });
      times.push((performance.now() - s) / 2);
      rcu += metered.current.rcu / 2;
    }
    times.sort((a, b) => a - b);
    console.log(`  a page of 20 (first and next): median ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms, p90 ${times[Math.floor(times.length * 0.9)]!.toFixed(1)} ms on dynalite; ${(rcu / 15).toFixed(1)} RCU a page (${index.labelShards} queries of 21 lean items)`);
  } finally {
    clients.destroy();
    await emulators.stop();
  }
}
