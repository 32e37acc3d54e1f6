/// <reference lib="dom" />
/**
 * The page's client of the query API: every answer is checked with the API's own schemas
 * (core/query/responses.ts) before the page uses it; an error answer becomes an ApiError with the
 * API's code and message, and a server that cannot be reached at all an ApiError UNREACHABLE
 * (reported once to whoever listens, so the page says it in one place).
 */
import type { z } from 'zod';
import {
  ActionsResponseSchema,
  ErrorResponseSchema,
  MediaResponseSchema,
  SearchResponseSchema,
  TimelineResponseSchema,
  UploadPartsResponseSchema,
  UploadUrlResponseSchema,
  VideoListResponseSchema,
  VideoViewSchema,
} from '../core/query/responses.ts';
import type { ExportFormat } from '../core/export/formats.ts';
import { WebConfigSchema, WEB_CONFIG_FILE, type WebConfig } from '../core/web-config.ts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The code of an ApiError raised when no answer came at all (server stopped, network down). */
export const UNREACHABLE = 'UNREACHABLE';

export const UNREACHABLE_MESSAGE = 'The vidx server cannot be reached: is vidx local still running, or the network down? The page tries again by itself.';

export function isUnreachable(e: unknown): boolean {
  return e instanceof ApiError && e.code === UNREACHABLE;
}

/** fetch, with "no answer" as an ApiError UNREACHABLE instead of the browser's TypeError. */
async function reach(url: string, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError(0, UNREACHABLE, UNREACHABLE_MESSAGE);
  }
}

export async function loadConfig(): Promise<WebConfig> {
  const r = await reach(WEB_CONFIG_FILE, { cache: 'no-store' });
  if (!r.ok) throw new ApiError(r.status, 'NO_CONFIG', `the page's ${WEB_CONFIG_FILE} could not be read (${r.status})`);
  return WebConfigSchema.parse(await r.json());
}

export interface SearchFilters {
  minScore?: number | undefined;
  videoId?: string | undefined;
}

export class Api {
  /** Told after every call whether the server answered (true) or could not be reached (false). */
  onReach: (reached: boolean) => void = () => undefined;

  constructor(
    private readonly base: string,
    private readonly token: () => string | undefined,
  ) {}

  private url(path: string, params: Record<string, string | number | undefined>): string {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
    return `${this.base.replace(/\/$/, '')}${path}${qs.size > 0 ? `?${qs}` : ''}`;
  }

  private async send(url: string): Promise<Response> {
    const token = this.token();
    try {
      const r = await reach(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
      this.onReach(true);
      return r;
    } catch (e) {
      if (isUnreachable(e)) this.onReach(false);
      throw e;
    }
  }

  private async failure(r: Response, path: string): Promise<ApiError> {
    const body: unknown = await r.json().catch(() => undefined);
    const e = ErrorResponseSchema.safeParse(body);
    if (e.success) return new ApiError(e.data.status, e.data.code, e.data.message);
    if (r.status === 401) return new ApiError(401, 'HTTP_ERROR', 'sign in to use vidx');
    return new ApiError(r.status, 'HTTP_ERROR', `the API answered ${r.status} to ${path}`);
  }

  private async get<S extends z.ZodType>(path: string, params: Record<string, string | number | undefined>, schema: S): Promise<z.output<S>> {
    const r = await this.send(this.url(path, params));
    if (!r.ok) throw await this.failure(r, path);
    const body: unknown = await r.json().catch(() => undefined);
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ApiError(r.status, 'BAD_ANSWER', `the API's answer to ${path} is not what the page expects`);
    return parsed.data;
  }

  actions(q: string, limit = 8) {
    return this.get('/actions', { q, limit }, ActionsResponseSchema);
  }
  search(q: string, cursor?: string, filters: SearchFilters = {}) {
    return this.get('/search', { q, limit: 12, cursor, minScore: filters.minScore || undefined, videoId: filters.videoId }, SearchResponseSchema);
  }
  videos() {
    return this.get('/videos', { limit: 50 }, VideoListResponseSchema);
  }
  video(id: string) {
    return this.get(`/videos/${encodeURIComponent(id)}`, {}, VideoViewSchema);
  }
  /** One page of a video's timeline (the API pages it: `nextCursor` leads to the next). */
  timelinePage(id: string, cursor?: string) {
    return this.get(`/videos/${encodeURIComponent(id)}/timeline`, { limit: TIMELINE_PAGE, cursor }, TimelineResponseSchema);
  }
  /** A video's whole timeline: every page, followed in order (at most MAX_TIMELINE_PAGES). */
  async timeline(id: string) {
    const first = await this.timelinePage(id);
    const segments = [...first.segments];
    let next = first.nextCursor;
    for (let pages = 1; next && pages < MAX_TIMELINE_PAGES; pages++) {
      const page = await this.timelinePage(id, next);
      segments.push(...page.segments);
      next = page.nextCursor;
    }
    return { ...first, segments, truncated: next !== null, nextCursor: next };
  }
  media(id: string) {
    return this.get(`/videos/${encodeURIComponent(id)}/media`, {}, MediaResponseSchema);
  }
  uploadUrl(name: string, type: string, size: number) {
    return this.get('/upload-url', { name, type, size }, UploadUrlResponseSchema);
  }
  uploadParts(name: string, uploadId: string, parts: number) {
    return this.get('/upload-parts', { name, uploadId, parts }, UploadPartsResponseSchema);
  }
  /** Retry a video: a re-index of it (`vidx local`'s POST /_local/reindex). Says what the server did, in words. */
  async retry(id: string): Promise<string> {
    const r = await this.call('/_local/reindex', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ videoIds: [id] }) });
    const body = (await r.json()) as { results?: { action?: string; status?: string; result?: { outcome?: string } }[] };
    const done = body.results?.[0];
    if (done?.action === 'current') return `nothing to retry: the video is ${done.status} with the model that runs now; upload the file again to index it anew`;
    if (done?.result?.outcome === 'failed') return 'retried, and it failed again';
    return 'retrying: it is queued again';
  }
  /** Delete a video, its index entries, thumbnails and object (`vidx local`'s DELETE /_local/videos/{id}). */
  async remove(id: string): Promise<void> {
    await this.call(`/_local/videos/${encodeURIComponent(id)}`, { method: 'DELETE' });
  }

  private async call(path: string, init: RequestInit): Promise<Response> {
    let r: Response;
    try {
      r = await reach(`${this.base.replace(/\/$/, '')}${path}`, init);
      this.onReach(true);
    } catch (e) {
      if (isUnreachable(e)) this.onReach(false);
      throw e;
    }
    if (!r.ok) throw await this.failure(r, path);
    return r;
  }

  /** A timeline export (csv, vtt, edl or json) as a file: fetched with the page's sign-in, handed over as a Blob. */
  async export(id: string, format: ExportFormat): Promise<Blob> {
    const path = `/videos/${encodeURIComponent(id)}/timeline`;
    const r = await this.send(this.url(path, { format }));
    if (!r.ok) throw await this.failure(r, path);
    return r.blob();
  }
}

/** Segments per timeline request (the API's largest page) and pages the player follows at most (100,000 segments). */
const TIMELINE_PAGE = 1000;
const MAX_TIMELINE_PAGES = 100;
