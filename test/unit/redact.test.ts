import { describe, expect, it } from 'vitest';
import { REDACTED, redactDeep, redactSecrets, redactingLog } from '../../core/redact.ts';

const SIGNED =
  'https://vidx-videos.s3.us-east-1.amazonaws.com/videos/a%20b.mp4?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD' +
  '&X-Amz-Credential=AKIAEXAMPLE%2F20261201%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261201T000000Z&X-Amz-Expires=3600' +
  '&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&X-Amz-Signature=0123456789abcdef&x-id=GetObject';

describe('redactSecrets', () => {
  it('drops the query of a signed URL and keeps where it points', () => {
    expect(redactSecrets(`decoding ${SIGNED}: timeout`)).toBe(`decoding https://vidx-videos.s3.us-east-1.amazonaws.com/videos/a%20b.mp4?${REDACTED}: timeout`);
    expect(redactSecrets(`"${SIGNED}"`)).not.toMatch(/AKIA|X-Amz-Signature|0123456789abcdef|IQoJ/);
  });

  it('leaves ordinary URLs and text alone', () => {
    expect(redactSecrets('see http://127.0.0.1:3000/search?q=jump&limit=5')).toBe('see http://127.0.0.1:3000/search?q=jump&limit=5');
    expect(redactSecrets('clip 2 of 3 could not be decoded')).toBe('clip 2 of 3 could not be decoded');
  });

  it('removes signing parameters outside a URL', () => {
    expect(redactSecrets('query X-Amz-Signature=abc&X-Amz-Credential=AKIA/x')).toBe(`query X-Amz-Signature=${REDACTED}&X-Amz-Credential=${REDACTED}`);
  });
});

describe('redactingLog', () => {
  it('redacts the message and every attribute, however deep, errors included', () => {
    const out: unknown[][] = [];
    const log = redactingLog({ info: (...a: unknown[]) => out.push(a), warn: (...a: unknown[]) => out.push(a), error: (...a: unknown[]) => out.push(a) });
    log.warn(`reading ${SIGNED}`, { error: new Error(`fetch ${SIGNED} failed`), nested: [{ url: SIGNED }], n: 3 });
    const text = JSON.stringify(out, (_k, v: unknown) => (v instanceof Error ? { message: v.message, stack: v.stack } : v));
    expect(text).not.toMatch(/X-Amz-Signature|X-Amz-Credential|AKIAEXAMPLE/);
    expect(text).toContain('videos/a%20b.mp4');
    expect(redactDeep({ n: 3, ok: true, none: null })).toEqual({ n: 3, ok: true, none: null });
  });
});
