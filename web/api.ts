/// <reference lib="dom" />
/**
 * The page's client of the query API: every answer is checked with the API's own schemas
 * (core/query/responses.ts) before the page uses it; an error answer becomes an ApiError with the
 * API's code and message.
 */
import type { z } from 'zod';
import {
  ActionsResponseSchema,
  ErrorResponseSchema,
  MediaResponseSchema,
  SearchResponseSchema,
  TimelineResponseSchema,
  UploadUrlResponseSchema,
  VideoListResponseSchema,
} from '../core/query/responses.ts';
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

export async function loadConfig(): Promise<WebConfig> {
  const r = await fetch(WEB_CONFIG_FILE, { cache: 'no-store' });
  if (!r.ok) throw new ApiError(r.status, 'NO_CONFIG', `the page's ${WEB_CONFIG_FILE} could not be read (${r.status})`);
  return WebConfigSchema.parse(await r.json());
}

export class Api {
  constructor(
    private readonly base: string,
    private readonly token: () => string | undefined,
  ) {}

  private async get<S extends z.ZodType>(path: string, params: Record<string, string | number | undefined>, schema: S): Promise<z.output<S>> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
    const url = `${this.base.replace(/\/$/, '')}${path}${qs.size > 0 ? `?${qs}` : ''}`;
    const token = this.token();
    const r = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const body: unknown = await r.json().catch(() => undefined);
    if (!r.ok) {
      const e = ErrorResponseSchema.safeParse(body);
      if (e.success) throw new ApiError(e.data.status, e.data.code, e.data.message);
      throw new ApiError(r.status, 'HTTP_ERROR', r.status === 401 ? 'sign in to use vidx' : `the API answered ${r.status}`);
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new ApiError(r.status, 'BAD_ANSWER', `the API's answer to ${path} is not what the page expects`);
    return parsed.data;
  }

  actions(q: string, limit = 8) {
    return this.get('/actions', { q, limit }, ActionsResponseSchema);
  }
  search(q: string, cursor?: string) {
    return this.get('/search', { q, limit: 12, cursor }, SearchResponseSchema);
  }
  videos() {
    return this.get('/videos', { limit: 50 }, VideoListResponseSchema);
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
  uploadUrl(name: string, type: string) {
    return this.get('/upload-url', { name, type }, UploadUrlResponseSchema);
  }
}

/** Segments per timeline request (the API's largest page) and pages the player follows at most (100,000 segments). */
const TIMELINE_PAGE = 1000;
const MAX_TIMELINE_PAGES = 100;

/** PUT a file to a presigned URL, reporting progress (fetch cannot report upload progress). */
export function putFile(url: string, headers: Record<string, string>, file: Blob, progress: (fraction: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) progress(e.loaded / e.total);
    };
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300 ? resolve() : reject(new ApiError(xhr.status, 'UPLOAD_FAILED', `the upload was refused (${xhr.status})`)));
    xhr.onerror = () => reject(new ApiError(0, 'UPLOAD_FAILED', 'the upload could not reach storage'));
    xhr.send(file);
  });
}
