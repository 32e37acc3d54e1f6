/**
 * The query API as plain request -> response: routing, parameter validation, the use cases and
 * error mapping. No AWS here: the index is read through `QueryIndex` (core/aws/index-reader.ts
 * implements it) and the Lambda handler only adapts API Gateway events to `ApiRequest`.
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
  parseParams,
  parseVideoId,
  type SearchParams,
} from './params.ts';
import { VIDEOS_POSITION, checkSearchPositions, checkVideoPositions } from './positions.ts';
import { ALLOWED_METHODS, matchRoute, type Route } from './routes.ts';
import { searchSegments, type LabelStreamReader } from './search.ts';
import { segmentView, videoView, type SegmentView, type VideoView } from './views.ts';

type Item = Record<string, unknown>;

export interface QueryIndex extends LabelStreamReader {
  getVideo(videoId: string): Promise<Item | undefined>;
  listVideos(limit: number, after: string | undefined): Promise<{ items: Item[]; more: boolean }>;
  segmentsOf(videoId: string): Promise<{ items: Item[]; truncated: boolean }>;
}

export interface QueryApiDeps {
  index: QueryIndex;
  /** The model's labels (loaded once per cold start). */
  vocabulary: readonly string[];
  cursorSecret: Buffer;
}

export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined> | undefined;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** The matched route, for logs. */
  route: Route['name'] | undefined;
  /** The error behind a 5xx answer, for logs only (its detail never reaches the client). */
  error?: unknown;
}

export interface SearchResponse {
  query: { action?: string; q?: string; labels: LabelMatch[]; minScore: number; videoId?: string };
  items: SegmentView[];
  nextCursor: string | null;
}

export interface TimelineResponse {
  video: VideoView;
  /** True when the video's status is `indexed` (the segments are its finished timeline). */
  complete: boolean;
  message?: string;
  segments: Omit<SegmentView, 'videoId' | 'key'>[];
  truncated: boolean;
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
      if (!route) throw new VidxError('ROUTE_NOT_FOUND', `no route ${req.path}`, { hint: 'routes: /actions, /search, /videos, /videos/{id}, /videos/{id}/timeline' });
      if (!(ALLOWED_METHODS as readonly string[]).includes(req.method)) {
        const e = new VidxError('METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path}; use GET`);
        return { ...this.error(e, route), headers: { ...JSON_HEADERS, allow: ALLOWED_METHODS.join(', ') } };
      }
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
      case 'videos':
        return this.listVideos(parseParams(ListVideosParamsSchema, query));
      case 'video': {
        const id = parseVideoId(route.id);
        parseParams(NoParamsSchema, query);
        return videoView(await this.video(id));
      }
      case 'timeline': {
        const id = parseVideoId(route.id);
        parseParams(NoParamsSchema, query);
        return this.timeline(id);
      }
    }
  }

  private async video(id: string): Promise<Item> {
    const item = await this.deps.index.getVideo(id);
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
    const query: SearchResponse['query'] = {
      ...(p.action !== undefined ? { action: p.action } : { q: p.q! }),
      labels,
      minScore: p.minScore,
      ...(p.videoId !== undefined ? { videoId: p.videoId } : {}),
    };
    const names = labels.map((l) => l.label);
    const scope = scopeOf({ r: 'search', action: p.action, q: p.q === undefined ? undefined : normalize(p.q), minScore: p.minScore, videoId: p.videoId });
    const positions = p.cursor === undefined ? undefined : checkSearchPositions(decodeCursor(this.deps.cursorSecret, scope, p.cursor), names);
    if (names.length === 0) return { query, items: [], nextCursor: null };
    const page = await searchSegments(this.deps.index, { labels: names, minScore: p.minScore, videoId: p.videoId, limit: p.limit, positions });
    return {
      query,
      items: page.items.map(segmentView),
      nextCursor: page.next ? encodeCursor(this.deps.cursorSecret, scope, page.next) : null,
    };
  }

  private async listVideos(p: { limit: number; cursor?: string | undefined }): Promise<{ items: VideoView[]; nextCursor: string | null }> {
    const scope = scopeOf({ r: 'videos' });
    const after = p.cursor === undefined ? undefined : checkVideoPositions(decodeCursor(this.deps.cursorSecret, scope, p.cursor));
    const r = await this.deps.index.listVideos(p.limit, after);
    const last = r.items[r.items.length - 1];
    const nextCursor = r.more && last ? encodeCursor(this.deps.cursorSecret, scope, { [VIDEOS_POSITION]: String(last.GSI1SK) }) : null;
    return { items: r.items.map(videoView), nextCursor };
  }

  private async timeline(id: string): Promise<TimelineResponse> {
    const video = videoView(await this.video(id));
    const { items, truncated } = await this.deps.index.segmentsOf(id);
    const complete = video.status === 'indexed';
    const message = complete ? undefined : STATUS_MESSAGES[video.status] ?? `the video is ${video.status}`;
    return {
      video,
      complete,
      ...(message ? { message } : {}),
      segments: items.map((i) => ({
        label: String(i.label),
        start: Number(i.start),
        end: Number(i.end),
        score: Number(i.score),
        mean: Number(i.mean ?? i.score),
        windows: Number(i.windows ?? 1),
      })),
      truncated,
    };
  }
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
