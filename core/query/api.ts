/**
 * The query API as plain request -> response: routing, parameter validation, the use cases and
 * error mapping. No AWS here: the index is read through its port (core/index/port.ts; the DynamoDB
 * adapter implements it) and the Lambda handler only adapts API Gateway events to `ApiRequest`.
 */
import { VidxError } from '../errors.ts';
import { labelsForSearch, matchLabels, normalize, type LabelMatch } from '../labels/match.ts';
import { decodeCursor, encodeCursor, scopeOf } from './cursor.ts';
import { errorBody, type ErrorBody } from './http-errors.ts';
import {
  ActionsParamsSchema,
  ListVideosParamsSchema,
  NoParamsSchema,
  SearchParamsSchema,
  SimilarParamsSchema,
  TimelineParamsSchema,
  UploadPartsParamsSchema,
  UploadUrlParamsSchema,
  parseParams,
  parseVideoId,
  type SearchParams,
  type TimelineParams,
  type UploadPartsParams,
  type UploadUrlParams,
} from './params.ts';
import { CONTENT_TYPES, FILE_EXTENSIONS, renderTimeline, type ExportFormat } from '../export/formats.ts';
import { InMemoryLabelStreams, asksForSegmentation, defaultSegmentation, resegment, type Segmentation, type SegmentationParams, type StoredClip } from './resegment.ts';
import { TIMELINE_POSITION, VIDEOS_POSITION, checkSearchPositions, checkTimelinePosition, checkVideoPositions } from './positions.ts';
import { matchRoute, methodsOf, type Route } from './routes.ts';
import { answerQuery } from './query-route.ts';
import { searchSegments, type LabelStreamReader } from './search.ts';
import { kindFieldsOf, segmentView, videoView } from './views.ts';
import { UPLOAD_PART_BYTES, partSizeFor, type MediaSigner } from './media.ts';
import type { MediaResponse, SearchResponse, SegmentView, TimelineResponse, UploadPartsResponse, UploadUrlResponse, VideoView } from './responses.ts';
import { VIDEO_PREFIX } from '../names.ts';
import { isIndexed, thumbnailKey, videoIdFor, type SegmentRecord, type VideoRecord, type VideoSummary } from '../records.ts';
import type { SegmentHit } from './search.ts';
import type { VectorIndex } from '../vectors/port.ts';
import { similarMoments, type SimilarResponse } from './similar.ts';
import type { SimilarParams } from './params.ts';
import type { VideoIndex } from '../index/port.ts';
import { timelineOrderOf } from '../index/order.ts';

export type { SearchResponse, TimelineResponse } from './responses.ts';

/** What the API reads of the index (read-only). */
export type QueryIndex = Pick<VideoIndex, 'getVideo' | 'listVideos' | 'timelinePage' | 'timelineOf' | 'clipsOf' | 'searchLabel'>;

export interface QueryApiDeps {
  index: QueryIndex;
  /** The model's labels (loaded once per cold start). */
  vocabulary: readonly string[];
  cursorSecret: Buffer;
  /** Signs media URLs (video, thumbnails, uploads); without it those routes answer 501. */
  media?: MediaSigner | undefined;
  /** The moment vectors (GET /similar); without them that route answers 501. */
  vectors?: VectorIndex | undefined;
  /** Where uploads go (default VIDEO_PREFIX). */
  videoPrefix?: string;
}

export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined> | undefined;
  /** The request body as text (POST /query); undefined when there is none. */
  body?: string | undefined;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** A text body (an export: CSV, WebVTT, EDL) sent as is instead of `body` as JSON. */
  text?: string;
  /** The matched route, for logs. */
  route: Route['name'] | undefined;
  /** The error behind a 5xx answer, for logs only (its detail never reaches the client). */
  error?: unknown;
}

export class QueryApi {
  private readonly vocabularySet: ReadonlySet<string>;

  constructor(private readonly deps: QueryApiDeps) {
    this.vocabularySet = new Set(deps.vocabulary);
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    let route: Route | undefined;
    try {
      route = matchRoute(req.path);
      if (!route) throw new VidxError('ROUTE_NOT_FOUND', `no route ${req.path}`, { hint: 'routes: /actions, /search, /videos, /videos/{id}, /videos/{id}/timeline, /videos/{id}/media, /upload-url, /upload-parts, /similar, POST /query' });
      const methods = methodsOf(route);
      if (!methods.includes(req.method)) {
        const e = new VidxError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}; use ${methods.join(' or ')}`);
        return { ...this.error(e, route), headers: { ...JSON_HEADERS, allow: methods.join(', ') } };
      }
      if (route.name === 'query') {
        parseParams(NoParamsSchema, req.query);
        const body = await answerQuery({ index: this.deps.index, cursorSecret: this.deps.cursorSecret, thumbnailOf: (h) => this.thumbnailOf(h.videoId, h.etag, h.thumbAt) }, req.body);
        return { status: 200, headers: JSON_HEADERS, body, route: route.name };
      }
      if (route.name === 'timeline') return { ...(await this.timelineResponse(route.id, req.query)), route: route.name };
      return { status: 200, headers: JSON_HEADERS, body: await this.dispatch(route, req.query), route: route.name };
    } catch (e) {
      return this.error(e, route);
    }
  }

  private error(e: unknown, route: Route | undefined): ApiResponse & { body: ErrorBody } {
    const body = errorBody(e);
    return { status: body.status, headers: JSON_HEADERS, body, route: route?.name, ...(body.status >= 500 ? { error: e } : {}) };
  }

  private async dispatch(route: Route, query: ApiRequest['query']): Promise<unknown> {
    switch (route.name) {
      case 'actions': {
        const p = parseParams(ActionsParamsSchema, query);
        return { q: p.q, actions: matchLabels(p.q, this.deps.vocabulary, p.limit) };
      }
      case 'search':
        return this.search(parseParams(SearchParamsSchema, query));
      case 'similar':
        return this.similar(parseParams(SimilarParamsSchema, query));
      case 'videos':
        return this.listVideos(parseParams(ListVideosParamsSchema, query));
      case 'video': {
        const id = parseVideoId(route.id);
        parseParams(NoParamsSchema, query);
        return this.withCover(await this.video(id));
      }
      case 'timeline':
        return (await this.timelineResponse(route.id, query)).body;
      case 'media': {
        const id = parseVideoId(route.id);
        parseParams(NoParamsSchema, query);
        return this.mediaOf(id);
      }
      case 'uploadUrl':
        return this.uploadUrl(parseParams(UploadUrlParamsSchema, query));
      case 'uploadParts':
        return this.uploadParts(parseParams(UploadPartsParamsSchema, query));
      case 'query':
        throw new Error('unreachable: POST /query is answered before dispatch');
    }
  }

  private vectorIndex(): VectorIndex {
    if (!this.deps.vectors) throw new VidxError('SIMILAR_NOT_CONFIGURED', 'this API was started without a vector index, so it cannot find similar moments');
    return this.deps.vectors;
  }

  /** The revision of the video the index holds now (its vectors are the ones that answer). */
  private readonly revisionOf = async (videoId: string): Promise<string | undefined> => {
    const item = await this.deps.index.getVideo(videoId);
    return typeof item?.etag === 'string' ? item.etag : undefined;
  };

  async similar(p: SimilarParams): Promise<SimilarResponse> {
    return similarMoments(this.vectorIndex(), this.revisionOf, p);
  }

  private signer(): MediaSigner {
    if (!this.deps.media) throw new VidxError('MEDIA_UNAVAILABLE', 'this API was started without a media bucket, so it cannot sign media URLs');
    return this.deps.media;
  }

  private async mediaOf(id: string): Promise<MediaResponse> {
    const signer = this.signer();
    const video = await this.video(id);
    return { videoId: id, url: await signer.getUrl(video.key), expiresIn: signer.expiresIn };
  }

  private uploadKey(name: string): string {
    return `${this.deps.videoPrefix ?? VIDEO_PREFIX}${name}`;
  }

  private async uploadUrl(p: UploadUrlParams): Promise<UploadUrlResponse> {
    const signer = this.signer();
    const key = this.uploadKey(p.name);
    const common = { key, videoId: videoIdFor(signer.bucket, key), headers: { 'content-type': p.type }, expiresIn: signer.expiresIn };
    if (p.size !== undefined && p.size > UPLOAD_PART_BYTES) {
      const partSize = partSizeFor(p.size);
      return { ...common, method: 'MULTIPART', url: await signer.createMultipartUrl(key, p.type), partSize, parts: Math.ceil(p.size / partSize) };
    }
    return { ...common, method: 'PUT', url: await signer.putUrl(key, p.type) };
  }

  private async uploadParts(p: UploadPartsParams): Promise<UploadPartsResponse> {
    const signer = this.signer();
    const key = this.uploadKey(p.name);
    const [parts, complete, abort] = await Promise.all([
      signer.uploadPartUrls(key, p.uploadId, p.parts),
      signer.completeMultipartUrl(key, p.uploadId),
      signer.abortMultipartUrl(key, p.uploadId),
    ]);
    return { key, uploadId: p.uploadId, parts, complete, abort, expiresIn: signer.expiresIn };
  }

  /** The short-lived URL of a segment's thumbnail, when it has one and the API can sign. */
  private async thumbnailOf(videoId: string, etag: unknown, thumbAt: unknown): Promise<{ thumbnail?: string }> {
    if (!this.deps.media || typeof etag !== 'string' || typeof thumbAt !== 'number') return {};
    return { thumbnail: await this.deps.media.getUrl(thumbnailKey(videoId, etag, thumbAt)) };
  }

  /** A video's view with its picture: the cover of its indexed revision (a revision under way has none yet). */
  private async withCover(item: VideoSummary): Promise<VideoView> {
    const view = videoView(item);
    return isIndexed(item.status) ? { ...view, ...(await this.thumbnailOf(view.videoId, item.etag, item.coverAt)) } : view;
  }

  private async withThumbnail(hit: SegmentHit): Promise<SegmentView> {
    return { ...segmentView(hit), ...(await this.thumbnailOf(hit.videoId, hit.etag, hit.thumbAt)) };
  }

  /** GET /videos/{id}/timeline: JSON, or an export (csv, vtt, edl) as text. */
  private async timelineResponse(rawId: string, query: ApiRequest['query']): Promise<Pick<ApiResponse, 'status' | 'headers' | 'body' | 'text'>> {
    const id = parseVideoId(rawId);
    const p = parseParams(TimelineParamsSchema, query);
    const t = await this.timeline(id, p);
    if (p.format === 'json') return { status: 200, headers: JSON_HEADERS, body: t };
    const format: Exclude<ExportFormat, 'json'> = p.format;
    const text = renderTimeline(format, { video: { ...t.video, model: t.video.indexedWith?.architecture ?? t.video.model }, segments: t.segments });
    return {
      status: 200,
      headers: { 'content-type': CONTENT_TYPES[format], 'cache-control': 'no-store', 'content-disposition': `attachment; filename="${id}.${FILE_EXTENSIONS[format]}"` },
      body: undefined,
      text,
    };
  }

  private async video(id: string): Promise<VideoRecord> {
    const item = await this.deps.index.getVideo(id, { consistent: false });
    if (!item) throw new VidxError('VIDEO_NOT_FOUND', `no video with id ${id}`, { hint: 'list videos with GET /videos' });
    return item;
  }

  async search(p: SearchParams): Promise<SearchResponse> {
    let labels: LabelMatch[];
    if (p.action !== undefined) {
      if (!this.vocabularySet.has(p.action)) {
        const near = matchLabels(p.action, this.deps.vocabulary, 3).map((m) => `"${m.label}"`);
        throw new VidxError('UNKNOWN_ACTION', `"${p.action}" is not a label of the model${near.length ? `; did you mean ${near.join(', ')}?` : ''}`, {
          hint: 'use q= for free text, or GET /actions?q= to find labels',
        });
      }
      labels = [{ label: p.action, tier: 'phrase', score: 1 }];
    } else {
      labels = labelsForSearch(p.q!, this.deps.vocabulary);
    }
    // Query-time segmentation of the one video (the schema requires videoId with it).
    const wanted: SegmentationParams = { threshold: p.threshold, gap: p.gap, minDuration: p.minDuration };
    let reader: LabelStreamReader = this.deps.index;
    let segmentation: Segmentation | undefined;
    if (p.videoId !== undefined && asksForSegmentation(wanted)) {
      const r = await this.recomputed(p.videoId, wanted);
      reader = new InMemoryLabelStreams(r.items);
      segmentation = r.segmentation;
    }
    const query: SearchResponse['query'] = {
      ...(p.action !== undefined ? { action: p.action } : { q: p.q! }),
      labels,
      minScore: p.minScore,
      ...(p.videoId !== undefined ? { videoId: p.videoId } : {}),
      ...(segmentation ? { segmentation } : {}),
    };
    const names = labels.map((l) => l.label);
    const scope = scopeOf({
      r: 'search',
      action: p.action,
      q: p.q === undefined ? undefined : normalize(p.q),
      minScore: p.minScore,
      videoId: p.videoId,
      // A cursor of one segmentation must not page another: the positions would not match.
      ...(segmentation ? { threshold: segmentation.threshold, gap: segmentation.gap, minDuration: segmentation.minDuration } : {}),
    });
    const positions = p.cursor === undefined ? undefined : checkSearchPositions(decodeCursor(this.deps.cursorSecret, scope, p.cursor), names);
    if (names.length === 0) return { query, items: [], nextCursor: null };
    const page = await searchSegments(reader, { labels: names, minScore: p.minScore, videoId: p.videoId, limit: p.limit, positions });
    return {
      query,
      items: await Promise.all(page.items.map((h) => this.withThumbnail(h))),
      nextCursor: page.next ? encodeCursor(this.deps.cursorSecret, scope, page.next) : null,
    };
  }

  private async listVideos(p: { limit: number; cursor?: string | undefined }): Promise<{ items: VideoView[]; nextCursor: string | null }> {
    const scope = scopeOf({ r: 'videos' });
    const after = p.cursor === undefined ? undefined : checkVideoPositions(decodeCursor(this.deps.cursorSecret, scope, p.cursor));
    const r = await this.deps.index.listVideos({ limit: p.limit, after });
    const nextCursor = r.next !== undefined ? encodeCursor(this.deps.cursorSecret, scope, { [VIDEOS_POSITION]: r.next }) : null;
    return { items: await Promise.all(r.items.map((i) => this.listed(i))), nextCursor };
  }

  /**
   * A listed video's view. The listing holds no progress (a progress write would then also be a
   * write to the listing's one partition), so a video under way is read whole (one item each).
   */
  private async listed(item: VideoSummary): Promise<VideoView> {
    if (item.status !== 'queued' && item.status !== 'processing') return this.withCover(item);
    return this.withCover((await this.deps.index.getVideo(item.videoId, { consistent: false })) ?? item);
  }

  /**
   * The segments of a video's current timeline rebuilt with other parameters; its person segments
   * as stored. The timeline's revision is the video's own once indexed; while a new revision is on
   * its way it is the one the stored segments belong to (their clip results stay until the new
   * revision commits).
   */
  private async recomputed(id: string, wanted: SegmentationParams, known?: VideoRecord): Promise<{ items: SegmentRecord[]; segmentation: Segmentation }> {
    const item = known ?? (await this.video(id));
    const segmentation = { ...defaultSegmentation(trainedOf(item)), ...definedOnly(wanted) };
    // Person segments are kept as stored: the whole stored timeline is read (one video's partition).
    const stored = await this.deps.index.timelineOf(id);
    const etag: string | undefined = isIndexed(item.status) ? item.etag : stored[0]?.etag;
    if (etag === undefined) return { items: [], segmentation };
    const clips: StoredClip[] = await this.deps.index.clipsOf(id, etag);
    const people = stored.filter((s) => s.kind === 'person');
    const items = resegment({ videoId: id, key: item.key, etag }, clips, expectedClips(item, etag, clips), segmentation, people);
    return { items, segmentation };
  }

  /** One page of the timeline, stored or recomputed; exports read every page. */
  private async timeline(id: string, p: TimelineParams): Promise<TimelineResponse> {
    const item = await this.video(id);
    const video = videoView(item);
    const wanted: SegmentationParams = { threshold: p.threshold, gap: p.gap, minDuration: p.minDuration };
    const recompute = asksForSegmentation(wanted);
    const scope = scopeOf({ r: 'timeline', videoId: id, format: p.format, threshold: p.threshold, gap: p.gap, minDuration: p.minDuration });
    const after = p.cursor === undefined ? undefined : checkTimelinePosition(decodeCursor(this.deps.cursorSecret, scope, p.cursor));
    // Exports are text of a few dozen bytes per segment: one answer holds the whole timeline.
    const limit = p.format === 'json' ? p.limit : MAX_EXPORT_SEGMENTS;
    let items: SegmentRecord[];
    let next: string | undefined;
    let segmentation: TimelineResponse['segmentation'] = { ...defaultSegmentation(trainedOf(item)), source: 'stored' };
    if (recompute) {
      const r = await this.recomputed(id, wanted, item);
      const rest = r.items.filter((s) => after === undefined || timelineOrderOf(s) > after);
      items = rest.slice(0, limit);
      next = rest.length > limit ? timelineOrderOf(items[items.length - 1]!) : undefined;
      segmentation = { ...r.segmentation, source: 'recomputed' };
    } else {
      const page = await this.deps.index.timelinePage(id, { limit, after });
      items = page.items;
      next = page.next;
    }
    const complete = isIndexed(video.status);
    const message = complete ? undefined : STATUS_MESSAGES[video.status] ?? `the video is ${video.status}`;
    return {
      video,
      complete,
      ...(message ? { message } : {}),
      segments: await Promise.all(
        items.map(async (i) => ({
          label: i.label,
          start: i.start,
          end: i.end,
          score: i.score,
          mean: i.mean,
          windows: i.windows,
          ...kindFieldsOf(i),
          ...(await this.thumbnailOf(id, i.etag, i.thumbAt)),
        })),
      ),
      truncated: next !== undefined,
      nextCursor: next !== undefined ? encodeCursor(this.deps.cursorSecret, scope, { [TIMELINE_POSITION]: next }) : null,
      segmentation,
    };
  }
}

/** The most segments one export answer holds (a few MB of text at most). */
export const MAX_EXPORT_SEGMENTS = 20_000;

/** Whether the model that made the video's timeline was trained (defaults differ: see core/timeline/defaults.ts). */
function trainedOf(item: VideoRecord): boolean {
  return item.indexedWith?.trained ?? item.trained;
}

/** How many clips the timeline's revision has: the record's count for its own revision. */
function expectedClips(item: VideoRecord, etag: string, clips: readonly StoredClip[]): number {
  if (item.etag === etag) return item.clipsTotal;
  // An older revision (a new one is on its way): its clip count is not on the record any more;
  // its clips are all there until the new revision commits (then resegment reports the change).
  return clips.length === 0 ? 1 : Math.max(...clips.map((c) => c.index)) + 1;
}

function definedOnly(p: SegmentationParams): SegmentationParams {
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined));
}

const STATUS_MESSAGES: Record<string, string> = {
  queued: 'the video is queued and not indexed yet; segments shown (if any) are from its previous revision',
  processing: 'the video is being processed and not indexed yet; segments shown (if any) are from its previous revision',
  failed: 'indexing the video failed; see reason',
};

export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
};

/** For adapters that could not even read the request. */
export function invalidRequest(message: string): ApiResponse {
  const body = errorBody(new VidxError('INVALID_REQUEST', message));
  return { status: body.status, headers: JSON_HEADERS, body, route: undefined };
}
