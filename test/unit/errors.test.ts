import { describe, expect, it } from 'vitest';
import { ERROR_CODES, VidxError, hintOf, httpStatusOf, isErrorCode, isVidxError } from '../../core/errors.ts';
import { errorBody } from '../../core/query/http-errors.ts';

describe('VidxError', () => {
  it('carries a stable code, a message for a person and what to do', () => {
    const e = new VidxError('NOT_A_VIDEO', 'notes.txt has no video stream', { hint: 'upload a video file' });
    expect(e.code).toBe('NOT_A_VIDEO');
    expect(e.describe()).toBe('notes.txt has no video stream [NOT_A_VIDEO]\n  -> upload a video file');
    expect(isVidxError(e, 'NOT_A_VIDEO')).toBe(true);
    expect(isVidxError(e, 'VIDEO_CORRUPT')).toBe(false);
    expect(isVidxError(new Error('x'))).toBe(false);
  });

  it('keeps its cause, and takes its code\'s hint when the raiser gives none', () => {
    const cause = new Error('EACCES');
    const e = new VidxError('MODEL_WRITE_FAILED', 'cannot write /x', { cause });
    expect(e.cause).toBe(cause);
    expect(e.hint).toBe(hintOf('MODEL_WRITE_FAILED'));
  });
});

describe('the error codes (one definition)', () => {
  it('every code is UPPER_SNAKE and has a hint', () => {
    expect(ERROR_CODES.length).toBeGreaterThan(50);
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(hintOf(code).length, code).toBeGreaterThan(5);
    }
  });

  it('codes nothing raises are gone', () => {
    expect(isErrorCode('ENGINE_BUSY')).toBe(false);
    expect(isErrorCode('toString')).toBe(false);
    expect(isErrorCode('VIDEO_CORRUPT')).toBe(true);
  });

  it('holds the HTTP status the API answers with; a code without one is a 500 with no detail', () => {
    expect(httpStatusOf('UNKNOWN_PARAMETER')).toBe(400);
    expect(httpStatusOf('VIDEO_NOT_FOUND')).toBe(404);
    expect(httpStatusOf('METHOD_NOT_ALLOWED')).toBe(405);
    expect(httpStatusOf('PAYLOAD_TOO_LARGE')).toBe(413);
    expect(httpStatusOf('INDEX_UNAVAILABLE')).toBe(503);
    expect(httpStatusOf('VIDEO_CORRUPT')).toBe(500);
    expect(errorBody(new VidxError('VIDEO_CORRUPT', 'secret detail'))).toEqual({ status: 500, code: 'INTERNAL', message: 'internal error' });
    expect(errorBody(new VidxError('INDEX_UNAVAILABLE', 'table down'))).toMatchObject({ status: 503, code: 'INDEX_UNAVAILABLE' });
    expect(errorBody(new VidxError('UNKNOWN_PARAMETER', 'unknown parameter: x'))).toEqual({
      status: 400,
      code: 'UNKNOWN_PARAMETER',
      message: 'unknown parameter: x',
      hint: hintOf('UNKNOWN_PARAMETER'),
    });
  });
});
