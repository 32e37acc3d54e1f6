import { MAX_CURSOR_LENGTH } from '../../core/query/cursor.ts';
import { describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { ActionsParamsSchema, ListVideosParamsSchema, SearchParamsSchema, parseParams, parseVideoId } from '../../core/query/params.ts';
import { matchRoute } from '../../core/query/routes.ts';

function fails(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isVidxError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a VidxError');
}

describe('parameter validation', () => {
  it('applies defaults and parses numbers', () => {
    expect(parseParams(SearchParamsSchema, { q: ' basketbal ' })).toEqual({ q: 'basketbal', minScore: 0, limit: 20 });
    expect(parseParams(SearchParamsSchema, { action: 'playing cricket', minScore: '0.5', limit: '100', videoId: '0123456789abcdef0123' })).toMatchObject({
      action: 'playing cricket',
      minScore: 0.5,
      limit: 100,
    });
    expect(parseParams(SearchParamsSchema, { q: 'x', minScore: '1' }).minScore).toBe(1);
    expect(parseParams(SearchParamsSchema, { q: 'x', minScore: '.25' }).minScore).toBe(0.25);
    expect(parseParams(ActionsParamsSchema, { q: 'ski' })).toEqual({ q: 'ski', limit: 10 });
    expect(parseParams(ListVideosParamsSchema, undefined)).toEqual({ limit: 20 });
  });

  it.each([
    [{}, 'give exactly one of'],
    [{ q: 'a', action: 'b' }, 'give exactly one of'],
    [{ q: '' }, 'q must not be empty'],
    [{ q: '   ' }, 'q must not be empty'],
    [{ q: '!!!' }, 'q must contain a letter or a digit'],
    [{ q: 'a'.repeat(101) }, 'q is longer than 100'],
    // 100 characters as sent, 1,800 once NFKD-normalized: the limit holds after normalization.
    [{ q: '\uFDFA'.repeat(100) }, 'q is longer than 100 characters once normalized'],
    [{ q: '\uFDFA'.repeat(6) }, 'q is longer than 100 characters once normalized'],
    [{ q: 'x', minScore: '1.5' }, 'minScore must be from 0 to 1'],
    [{ q: 'x', minScore: '-0.1' }, 'minScore must be a number'],
    [{ q: 'x', minScore: 'NaN' }, 'minScore must be a number'],
    [{ q: 'x', minScore: '' }, 'minScore must be a number'],
    [{ q: 'x', minScore: '1e-1' }, 'minScore must be a number'],
    [{ q: 'x', limit: '0' }, 'limit must be from 1 to 100'],
    [{ q: 'x', limit: '101' }, 'limit must be from 1 to 100'],
    [{ q: 'x', limit: '2.5' }, 'limit must be a whole number'],
    [{ q: 'x', limit: 'ten' }, 'limit must be a whole number'],
    [{ q: 'x', videoId: 'VIDEO#abc' }, 'video id must be 20 lower-case hex'],
    [{ q: 'x', cursor: '' }, 'cursor must not be empty'],
    [{ q: 'x', cursor: 'a'.repeat(MAX_CURSOR_LENGTH + 1) }, 'cursor is too long'],
  ])('search %j -> 400 INVALID_PARAMETER', (input, message) => {
    const e = fails(() => parseParams(SearchParamsSchema, input as Record<string, string>));
    expect(e.code).toBe('INVALID_PARAMETER');
    expect(e.message).toContain(message);
  });

  it('free text is limited after normalization, on /actions and /search alike', () => {
    expect(fails(() => parseParams(ActionsParamsSchema, { q: '\uFDFA'.repeat(100) })).message).toContain('once normalized');
    // Five U+FDFA normalize to 90 characters: within the limit.
    expect(parseParams(ActionsParamsSchema, { q: '\uFDFA'.repeat(5) }).q).toBe('\uFDFA'.repeat(5));
  });

  it('names a missing required parameter and refuses unknown ones', () => {
    expect(fails(() => parseParams(ActionsParamsSchema, {}))).toEqual({ code: 'INVALID_PARAMETER', message: 'q is required' });
    expect(fails(() => parseParams(SearchParamsSchema, { q: 'x', minscore: '0.5' }))).toEqual({ code: 'UNKNOWN_PARAMETER', message: 'unknown parameter: minscore' });
    expect(fails(() => parseParams(ListVideosParamsSchema, { q: 'x', a: 'b' })).code).toBe('UNKNOWN_PARAMETER');
  });

  it('validates video ids by pattern', () => {
    expect(parseVideoId('0123456789abcdef0123')).toBe('0123456789abcdef0123');
    for (const bad of ['', 'abc', '0123456789ABCDEF0123', '0123456789abcdef01234', '../etc', 'VIDEO#0123456789abcdef0']) {
      expect(fails(() => parseVideoId(bad)).code).toBe('INVALID_PARAMETER');
    }
  });
});

describe('routes', () => {
  it('matches the five routes, with an optional trailing slash', () => {
    expect(matchRoute('/actions')).toEqual({ name: 'actions' });
    expect(matchRoute('/search/')).toEqual({ name: 'search' });
    expect(matchRoute('/videos')).toEqual({ name: 'videos' });
    expect(matchRoute('/videos/abc')).toEqual({ name: 'video', id: 'abc' });
    expect(matchRoute('/videos/abc/timeline')).toEqual({ name: 'timeline', id: 'abc' });
  });
  it('does not match anything else', () => {
    for (const p of ['/', '', '/nope', '/videos//timeline', '/videos/a/b', '/videos/a/timeline/x', 'videos', '/search/x', '/videos/%E0%A4%A']) {
      expect(matchRoute(p), p).toBeUndefined();
    }
  });
});
