/** HTTP status of each error code the API returns; anything not listed is a 500. */
import { isVidxError } from '../errors.ts';

export const ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND';
export const METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED';
export const VIDEO_NOT_FOUND = 'VIDEO_NOT_FOUND';
export const UNKNOWN_ACTION = 'UNKNOWN_ACTION';
export const INVALID_REQUEST = 'INVALID_REQUEST';
export const INDEX_UNAVAILABLE = 'INDEX_UNAVAILABLE';
export const INTERNAL = 'INTERNAL';
export const MEDIA_UNAVAILABLE = 'MEDIA_UNAVAILABLE';

export const STATUS_OF: Readonly<Record<string, number>> = {
  INVALID_PARAMETER: 400,
  UNKNOWN_PARAMETER: 400,
  INVALID_CURSOR: 400,
  [UNKNOWN_ACTION]: 400,
  [INVALID_REQUEST]: 400,
  [ROUTE_NOT_FOUND]: 404,
  [VIDEO_NOT_FOUND]: 404,
  [METHOD_NOT_ALLOWED]: 405,
  [INDEX_UNAVAILABLE]: 503,
  [MEDIA_UNAVAILABLE]: 501,
  EXPORT_TOO_LARGE: 422, // core/export/formats.ts: the timeline does not fit the format (an EDL's 999 events)
  TIMELINE_CHANGING: 409, // core/query/resegment.ts: a new revision is replacing the windows right now
  [INTERNAL]: 500,
};

export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  hint?: string;
}

/** The JSON error body for `e`; unexpected errors never leak their message. */
export function errorBody(e: unknown): ErrorBody {
  if (isVidxError(e)) {
    const status = STATUS_OF[e.code] ?? 500;
    if (status >= 500 && e.code !== INDEX_UNAVAILABLE && e.code !== MEDIA_UNAVAILABLE) return { status, code: INTERNAL, message: 'internal error' };
    return e.hint ? { status, code: e.code, message: e.message, hint: e.hint } : { status, code: e.code, message: e.message };
  }
  return { status: 500, code: INTERNAL, message: 'internal error' };
}
