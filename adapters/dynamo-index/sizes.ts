/**
 * DynamoDB's size rules, as it bills and limits items: an item's size is the sum over its
 * attributes of the name's UTF-8 length plus the value's size (strings: UTF-8 bytes; numbers:
 * 1 byte per 2 significant digits + 1; booleans and nulls: 1; lists and maps: 3 + 1 per element
 * + the elements; sets: the elements). A write costs 1 WCU per started KiB of the item; a
 * strongly consistent read 1 RCU per started 4 KiB (half for an eventually consistent one, and a
 * Query sums its items before rounding).
 */
export const ITEM_LIMIT_BYTES = 400 * 1024;

type Value = unknown;

function numberSize(n: number | bigint): number {
  const digits = String(n).replace(/^-/, '').replace('.', '').replace(/e.*$/i, '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

export function valueSize(v: Value): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 1;
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (typeof v === 'number' || typeof v === 'bigint') return numberSize(v);
  if (v instanceof Uint8Array) return v.byteLength;
  if (v instanceof Set) {
    let n = 0;
    for (const e of v) n += valueSize(e);
    return n;
  }
  if (Array.isArray(v)) return 3 + v.reduce((n: number, e) => n + 1 + valueSize(e), 0);
  if (typeof v === 'object') {
    let n = 3;
    for (const [k, e] of Object.entries(v as Record<string, Value>)) if (e !== undefined) n += 1 + Buffer.byteLength(k, 'utf8') + valueSize(e);
    return n;
  }
  return 0;
}

export function itemSize(item: Record<string, Value>): number {
  let n = 0;
  for (const [k, v] of Object.entries(item)) if (v !== undefined) n += Buffer.byteLength(k, 'utf8') + valueSize(v);
  return n;
}

export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}

export function readUnits(bytes: number, consistent: boolean): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistent ? units : units / 2;
}
