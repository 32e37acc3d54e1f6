/** What the API shows of stored items: no keys, no internals (bucket, etag, done set, GSI keys). */
import { z } from 'zod';
import { TimedBoxSchema } from '../detection/schema.ts';
import { GapSchema } from '../gap.ts';
import type { SegmentHit } from './search.ts';
import type { ModelView, SegmentView, VideoView } from './responses.ts';

export type { ModelView, SegmentView, VideoView };

type Item = Record<string, unknown>;

const TimedBoxesSchema = z.array(TimedBoxSchema);
const GapsSchema = z.array(GapSchema);

const STRING_FIELDS = ['reason', 'errorCode', 'model', 'modelSha256', 'createdAt', 'updatedAt', 'indexedAt'] as const;
const NUMBER_FIELDS = ['duration', 'fps', 'width', 'height', 'clipsTotal', 'segments'] as const;

function sizeOf(v: unknown): number {
  if (v instanceof Set) return v.size;
  if (Array.isArray(v)) return v.length;
  return 0;
}

export function videoView(item: Item): VideoView {
  const view: VideoView = {
    videoId: String(item.videoId ?? ''),
    key: String(item.key ?? ''),
    status: String(item.status ?? 'unknown'),
    clipsDone: sizeOf(item.doneClips),
  };
  const out = view as unknown as Item;
  for (const f of STRING_FIELDS) if (typeof item[f] === 'string') out[f] = item[f];
  for (const f of NUMBER_FIELDS) if (typeof item[f] === 'number') out[f] = item[f];
  if (typeof item.trained === 'boolean') view.trained = item.trained;
  const made = modelViewOf(item.indexedWith);
  if (made) view.indexedWith = made;
  const gaps = GapsSchema.safeParse(item.gaps);
  if (gaps.success && gaps.data.length > 0) view.gaps = gaps.data;
  return view;
}

function modelViewOf(v: unknown): ModelView | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  if (typeof m.architecture !== 'string' || typeof m.trained !== 'boolean') return undefined;
  return { architecture: m.architecture, ...(typeof m.manifestSha256 === 'string' ? { manifestSha256: m.manifestSha256 } : {}), trained: m.trained };
}

export function segmentView(hit: SegmentHit): SegmentView {
  const { videoId, key, label, start, end, score, mean, windows, kind, person, boxes } = hit;
  return { videoId, key, label, start, end, score, mean, windows, kind, ...(person !== undefined ? { person } : {}), ...(boxes ? { boxes } : {}) };
}

/** A stored segment's kind, and for a person segment its track id and boxes (items made before kinds existed are clip-level). */
export function kindFieldsOf(item: Item): Pick<SegmentView, 'kind' | 'person' | 'boxes'> {
  if (item.kind !== 'person') return { kind: 'clip' };
  const boxes = TimedBoxesSchema.safeParse(item.boxes);
  return { kind: 'person', ...(typeof item.person === 'number' ? { person: item.person } : {}), ...(boxes.success ? { boxes: boxes.data } : {}) };
}

export function segmentHitOf(item: Item): SegmentHit {
  return {
    videoId: String(item.videoId),
    key: String(item.key ?? ''),
    label: String(item.label),
    start: Number(item.start),
    end: Number(item.end),
    score: Number(item.score),
    mean: Number(item.mean ?? item.score),
    windows: Number(item.windows ?? 1),
    ...kindFieldsOf(item),
    sortKey: String(item.GSI1SK ?? ''),
    ...(typeof item.etag === 'string' ? { etag: item.etag } : {}),
    ...(typeof item.thumbAt === 'number' ? { thumbAt: item.thumbAt } : {}),
  };
}
