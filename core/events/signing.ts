/**
 * Webhook signatures (issue 11): HMAC-SHA256 over "<unix seconds>.<raw body>" with the shared
 * secret, sent as
 *
 *   vidx-signature: t=<unix seconds>,v1=<hex digest>
 *
 * The timestamp is signed too, so a receiver can refuse replays older than a few minutes
 * (default tolerance 5 min). The README's "Events" section has a receiver's verification snippet.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'vidx-signature';
export const EVENT_ID_HEADER = 'vidx-event-id';
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, body: string, now: Date = new Date()): string {
  const t = Math.floor(now.getTime() / 1000);
  return `t=${t},v1=${signatureOf(secret, t, body)}`;
}

export type SignatureCheck = { ok: true } | { ok: false; why: 'malformed' | 'mismatch' | 'expired' };

/** What a receiver does (vidx's tests use it as the receiver; the README shows the same steps). */
export function verifySignature(secret: string, body: string, header: string | undefined, now: Date = new Date(), toleranceSeconds = SIGNATURE_TOLERANCE_SECONDS): SignatureCheck {
  const parts = new Map((header ?? '').split(',').map((kv) => kv.trim().split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(t) || !/^[0-9a-f]{64}$/.test(given)) return { ok: false, why: 'malformed' };
  const expected = Buffer.from(signatureOf(secret, t, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) return { ok: false, why: 'mismatch' };
  if (Math.abs(now.getTime() / 1000 - t) > toleranceSeconds) return { ok: false, why: 'expired' };
  return { ok: true };
}
