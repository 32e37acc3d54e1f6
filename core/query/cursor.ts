/**
 * Opaque, authenticated pagination cursors.
 *
 * Wire form: `<payload>.<mac>`, both base64url; payload = JSON
 *   { v: 1, s: <scope>, p: <positions> }
 * and mac = HMAC-SHA256(secret, "vidx.cursor.v1\n" + <payload as sent>).
 *
 * - `scope` is a digest of the query the cursor was issued for (route, action or normalised
 *   text, minScore, videoId). A cursor replayed with another query is rejected.
 * - `positions` hold only sort keys (GSI1SK values), never whole DynamoDB keys. The reader
 *   rebuilds each ExclusiveStartKey from the partition of the query itself (see
 *   core/query/positions.ts), after checking the sort key's shape and that its partition is
 *   one the query reads. So even a client that knew the secret could only move forward or
 *   backward inside the partitions its own query already reads: it cannot read other keys.
 *
 * The secret comes from VIDX_CURSOR_SECRET. Without it a per-deployment default is derived
 * from the table name (and the caller warns): cursors then still resist accidental
 * corruption and cross-query replay but are forgeable by anyone who knows the table name;
 * the partition checks above are what keeps them from reading other keys. Deployments set
 * the variable (the CDK app passes a generated secret).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { VidxError } from '../errors.ts';
import { ENV } from '../names.ts';

export const CURSOR_SECRET_ENV = ENV.cursorSecret;
/** Longest cursor accepted (bytes of the string): a search over 5 labels of 8 shards each is about 2.6 KB. */
export const MAX_CURSOR_LENGTH = 4096;

const DOMAIN = 'vidx.cursor.v1\n';

export type Positions = Record<string, string>;

export interface CursorSecret {
  key: Buffer;
  /** True when derived from the table name because VIDX_CURSOR_SECRET is unset. */
  derived: boolean;
}

/** The configured secret (the query settings' cursorSecret), else one derived from the table name. */
export function cursorSecret(configured: string | undefined, tableName: string): CursorSecret {
  if (configured && configured.length > 0) return { key: Buffer.from(configured, 'utf8'), derived: false };
  return { key: createHash('sha256').update(`vidx-default-cursor-secret\n${tableName}`).digest(), derived: true };
}

/** A short digest of a canonical description of the query (stable key order). */
export function scopeOf(query: Record<string, string | number | undefined>): string {
  const canonical = JSON.stringify(Object.keys(query).sort().map((k) => [k, query[k] ?? null]));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 22);
}

function mac(secret: Buffer, payload: string): Buffer {
  return createHmac('sha256', secret).update(DOMAIN).update(payload).digest();
}

export function encodeCursor(secret: Buffer, scope: string, positions: Positions): string {
  const payload = Buffer.from(JSON.stringify({ v: 1, s: scope, p: positions }), 'utf8').toString('base64url');
  return `${payload}.${mac(secret, payload).toString('base64url')}`;
}

function invalid(message: string): VidxError {
  return new VidxError('INVALID_CURSOR', message, { hint: 'pass back the nextCursor of the previous page unchanged, with the same query' });
}

/**
 * Verifies and opens a cursor issued for `scope`. Throws INVALID_CURSOR on any problem:
 * malformed, bad MAC, another query's cursor, or positions that are not strings.
 * Partition checks of the positions are the caller's (it knows the partitions).
 */
export function decodeCursor(secret: Buffer, scope: string, cursor: string): Positions {
  if (cursor.length > MAX_CURSOR_LENGTH) throw invalid('cursor is too long');
  const parts = cursor.split('.');
  const [payload, tag] = parts;
  if (parts.length !== 2 || !payload || !tag || !/^[A-Za-z0-9_-]+$/.test(payload) || !/^[A-Za-z0-9_-]+$/.test(tag)) {
    throw invalid('cursor is malformed');
  }
  const expected = mac(secret, payload);
  const given = Buffer.from(tag, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid('cursor was not issued by this API or was modified');
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch (_e) {
    throw invalid('cursor is malformed');
  }
  if (typeof body !== 'object' || body === null) throw invalid('cursor is malformed');
  const { v, s, p } = body as { v?: unknown; s?: unknown; p?: unknown };
  if (v !== 1) throw invalid('cursor version is not supported');
  if (s !== scope) throw invalid('cursor belongs to a different query');
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalid('cursor is malformed');
  const positions: Positions = {};
  for (const [k, val] of Object.entries(p)) {
    if (typeof val !== 'string') throw invalid('cursor is malformed');
    positions[k] = val;
  }
  return positions;
}

export function invalidCursor(message: string): VidxError {
  return invalid(message);
}
