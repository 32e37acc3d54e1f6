/**
 * Requests to the vidx query API from the CLI (GET: search, export; POST: query): the URL, the timeout, and one
 * mapping of failures to typed errors (unreachable, not the API, or the API's own 4xx code).
 */
import { VidxError, isErrorCode } from '../core/errors.ts';

export interface ApiText {
  status: number;
  contentType: string;
  text: string;
}

export async function apiGet(api: string, path: string, params: Record<string, string | undefined>): Promise<ApiText> {
  const base = api.replace(/\/+$/, '');
  const url = new URL(`${base}${path}`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return send(base, url, {});
}

/** POSTs a JSON body (the question of `vidx query`). */
export async function apiPostJson<T>(api: string, path: string, body: string): Promise<T> {
  const base = api.replace(/\/+$/, '');
  return parsed<T>(api, await send(base, new URL(`${base}${path}`), { method: 'POST', headers: { 'content-type': 'application/json' }, body }));
}

async function send(base: string, url: URL, init: RequestInit): Promise<ApiText> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new VidxError('API_UNREACHABLE', `cannot reach the vidx API at ${base}`, {
      hint: 'start it with `npm start` (the local stack serves it on localhost:8787), or pass --api <url>',
      cause: e,
    });
  }
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  if (res.ok) return { status: res.status, contentType, text };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (_e) {
    throw new VidxError('API_ERROR', `${url.origin} answered ${res.status} with something that is not JSON`, { hint: 'is --api the vidx query API?' });
  }
  const err = body as { code?: unknown; message?: unknown; hint?: unknown };
  throw new VidxError(isErrorCode(err.code) ? err.code : 'API_ERROR', typeof err.message === 'string' ? err.message : `the API answered ${res.status}`, {
    ...(typeof err.hint === 'string' ? { hint: err.hint } : {}),
  });
}

/** A JSON answer of the API. */
export async function apiGetJson<T>(api: string, path: string, params: Record<string, string | undefined>): Promise<T> {
  return parsed<T>(api, await apiGet(api, path, params));
}

function parsed<T>(api: string, r: ApiText): T {
  try {
    return JSON.parse(r.text) as T;
  } catch (_e) {
    throw new VidxError('API_ERROR', `${api} answered ${r.status} with something that is not JSON`, { hint: 'is --api the vidx query API?' });
  }
}
