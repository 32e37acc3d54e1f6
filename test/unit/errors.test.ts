import { describe, expect, it } from 'vitest';
import { VidxError, isVidxError } from '../../core/errors.ts';

describe('VidxError', () => {
  it('carries a stable code, a message for a person and what to do', () => {
    const e = new VidxError('NOT_A_VIDEO', 'notes.txt has no video stream', { hint: 'upload a video file' });
    expect(e.code).toBe('NOT_A_VIDEO');
    expect(e.describe()).toBe('notes.txt has no video stream\n  -> upload a video file');
    expect(isVidxError(e, 'NOT_A_VIDEO')).toBe(true);
    expect(isVidxError(e, 'OTHER')).toBe(false);
    expect(isVidxError(new Error('x'))).toBe(false);
  });
});
