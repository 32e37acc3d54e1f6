/** The JSON error body of the API; each code's HTTP status is defined with the code (core/errors.ts). */
import { httpStatusOf, isVidxError, type ErrorCode } from '../errors.ts';

export interface ErrorBody {
  status: number;
  code: ErrorCode;
  message: string;
  hint?: string;
}

const INTERNAL: ErrorBody = { status: 500, code: 'INTERNAL', message: 'internal error' };

/** The JSON error body for `e`; unexpected errors (and codes without a 4xx/503) never leak their message. */
export function errorBody(e: unknown): ErrorBody {
  if (isVidxError(e)) {
    const status = httpStatusOf(e.code);
    if (status >= 500 && e.code !== 'INDEX_UNAVAILABLE' && e.code !== 'MEDIA_UNAVAILABLE') return { ...INTERNAL };
    return { status, code: e.code, message: e.message, hint: e.hint };
  }
  return { ...INTERNAL };
}
