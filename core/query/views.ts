/** What the API shows of stored records: no internals (bucket, etag, done set, plans). */
import { z } from 'zod';
import { TimedBoxSchema } from '../detection/schema.ts';
import { GapSchema } from '../gap.ts';
import type { SegmentHit } from '../index/port.ts';
import { windowProgress, type WindowProgress } from '../pipeline/progress.ts';
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

/** A video as the API shows it; `nowMs` dates the progress's ETA. */
export function videoView(item: Item, nowMs: number = Date.now()): VideoView {
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
  const progress = progressOf(item, nowMs);
  if (progress) view.progress = progress;
  return view;
}

const UnitsSchema = z.array(z.number().int().nonnegative());
const ClipWindowsSchema = z.record(z.string(), z.number());

function progressOf(item: Item, nowMs: number): WindowProgress | undefined {
  const units = UnitsSchema.safeParse(item.clipUnits);
  if (!units.success) return undefined;
  const counts = ClipWindowsSchema.safeParse(item.clipWindows ?? {});
  const done = item.doneClips instanceof Set ? (item.doneClips as Set<number>) : Array.isArray(item.doneClips) ? (item.doneClips as number[]) : [];
  return windowProgress(
    {
      status: String(item.status ?? ''),
      clipUnits: units.data,
      clipWindows: counts.success ? counts.data : {},
      doneClips: done,
      workStartedAt: typeof item.workStartedAt === 'string' ? item.workStartedAt : undefined,
    },
    nowMs,
  );
}

function modelViewOf(v: unknown): ModelView | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  if (typeof m.architecture !== 'string' || typeof m.trained !== 'boolean') return undefined;
  return { architecture: m.architecture, ...(typeof m.manifestSha256 === 'string' ? { manifestSha256: m.manifestSha256 } : {}), trained: m.trained };
}

export function segmentView(hit: Pick<SegmentHit, 'videoId' | 'key' | 'label' | 'start' | 'end' | 'score' | 'mean' | 'windows' | 'kind' | 'person' | 'boxes'>): SegmentView {
  const { videoId, key, label, start, end, score, mean, windows, kind, person, boxes } = hit;
  return { videoId, key, label, start, end, score, mean, windows, kind, ...(person !== undefined ? { person } : {}), ...(boxes ? { boxes } : {}) };
}

/** A stored segment's kind, and for a person segment its track id and boxes (items made before kinds existed are clip-level). */
export function kindFieldsOf(item: Item): Pick<SegmentView, 'kind' | 'person' | 'boxes'> {
  if (item.kind !== 'person') return { kind: 'clip' };
  const boxes = TimedBoxesSchema.safeParse(item.boxes);
  return { kind: 'person', ...(typeof item.person === 'number' ? { person: item.person } : {}), ...(boxes.success ? { boxes: boxes.data } : {}) };
}
