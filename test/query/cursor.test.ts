import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { MAX_CURSOR_LENGTH, cursorSecret, decodeCursor, encodeCursor, scopeOf } from '../../core/query/cursor.ts';
import { TIMELINE_POSITION, VIDEOS_POSITION, checkSearchPositions, checkTimelinePosition, checkVideoPositions } from '../../core/query/positions.ts';

const secret = Buffer.from('test-secret');
const scope = scopeOf({ r: 'search', q: 'basketbal', minScore: 0 });
const pos = { 'playing basketball': '0.100000#0123456789abcdef0123#0000012000', 'dunking basketball': '' };

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isVidxError(e) ? e.code : 'NOT_VIDX';
  }
  return undefined;
}

describe('cursor codec', () => {
  it('round-trips positions and is URL-safe', () => {
    const c = encodeCursor(secret, scope, pos);
    expect(c).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(decodeCursor(secret, scope, c)).toEqual(pos);
  });

  it('rejects a modified payload or MAC', () => {
    const c = encodeCursor(secret, scope, pos);
    const [payload, tag] = c.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ v: 1, s: scope, p: { 'playing basketball': '0.000000#ffffffffffffffffffff#0000000000' } })).toString('base64url');
    expect(code(() => decodeCursor(secret, scope, `${forged}.${tag}`))).toBe('INVALID_CURSOR');
    const flipped = tag.slice(0, -2) + (tag.endsWith('AA') ? 'BB' : 'AA');
    expect(code(() => decodeCursor(secret, scope, `${payload}.${flipped}`))).toBe('INVALID_CURSOR');
    expect(code(() => decodeCursor(Buffer.from('other secret'), scope, c))).toBe('INVALID_CURSOR');
  });

  it('rejects garbage of every shape', () => {
    for (const bad of ['', 'x', 'a.b.c', '!!!.???', 'eyJ2IjoxfQ', `${'A'.repeat(MAX_CURSOR_LENGTH + 1)}.AA`, '.abc', 'abc.']) {
      expect(code(() => decodeCursor(secret, scope, bad)), bad).toBe('INVALID_CURSOR');
    }
  });

  it('rejects a signed payload that is not an object of string positions', () => {
    for (const body of [[1], { v: 2, s: scope, p: {} }, { v: 1, s: scope, p: [] }, { v: 1, s: scope, p: { a: 1 } }, 'str']) {
      const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
      const tag = createHmac('sha256', secret).update('vidx.cursor.v1\n').update(payload).digest('base64url');
      expect(code(() => decodeCursor(secret, scope, `${payload}.${tag}`)), JSON.stringify(body)).toBe('INVALID_CURSOR');
    }
  });

  it('binds a cursor to the query it was issued for', () => {
    const c = encodeCursor(secret, scope, pos);
    expect(code(() => decodeCursor(secret, scopeOf({ r: 'search', q: 'cricket', minScore: 0 }), c))).toBe('INVALID_CURSOR');
    expect(code(() => decodeCursor(secret, scopeOf({ r: 'search', q: 'basketbal', minScore: 0.5 }), c))).toBe('INVALID_CURSOR');
    expect(scopeOf({ a: 1, b: 'x' })).toBe(scopeOf({ b: 'x', a: 1 }));
  });

  it('confines positions to the streams of the query (a foreign label or a second listing position is refused)', () => {
    const labels = ['playing basketball', 'dunking basketball'];
    expect(checkSearchPositions(pos, labels)).toEqual(pos);
    expect(code(() => checkSearchPositions({ 'playing cricket': '' }, labels))).toBe('INVALID_CURSOR');
    expect(code(() => checkSearchPositions({}, labels))).toBe('INVALID_CURSOR');
    expect(code(() => checkVideoPositions({ 'playing basketball': '' }))).toBe('INVALID_CURSOR');
    expect(code(() => checkVideoPositions({ [VIDEOS_POSITION]: '' }))).toBe('INVALID_CURSOR');
    expect(checkVideoPositions({ [VIDEOS_POSITION]: '2026-11-23T10:00:00.000Z#0123456789abcdef0123' })).toBe('2026-11-23T10:00:00.000Z#0123456789abcdef0123');
    expect(code(() => checkTimelinePosition({ [TIMELINE_POSITION]: 'x', [VIDEOS_POSITION]: 'y' }))).toBe('INVALID_CURSOR');
    // The shape of a position is the index's to check (test/index/contract.ts: "positions").
  });

  it('uses VIDX_CURSOR_SECRET, else a per-table derived key it flags', () => {
    expect(cursorSecret('s3cret', 't')).toEqual({ key: Buffer.from('s3cret'), derived: false });
    const a = cursorSecret(undefined, 'table-a');
    expect(a.derived).toBe(true);
    expect(a.key.equals(cursorSecret(undefined, 'table-b').key)).toBe(false);
    expect(a.key.equals(cursorSecret('', 'table-a').key)).toBe(true);
  });
});
