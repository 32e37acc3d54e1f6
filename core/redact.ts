/**
 * Keeps credentials out of logs and stored reasons. A presigned URL carries its credential,
 * signature and session token in the query string; tools and SDKs quote the URL in their errors
 * (ffmpeg, fetch), so anything that writes such text out goes through `redactSecrets` first.
 */
import type { PipelineLog } from './pipeline/ports.ts';

/** What a removed query string or credential value is replaced with. */
export const REDACTED = '<redacted>';

// A URL up to whitespace or a quote; its query is dropped when it carries AWS signing parameters.
const URL_RE = /\bhttps?:\/\/[^\s"'<>`]+/gi;
const SIGNED_QUERY_RE = /[?&](?:X-Amz-[A-Za-z-]+|AWSAccessKeyId|Signature|Credential|x-amz-security-token)(?:=|%3D)/i;
// Signing parameters outside a URL (a quoted query string, a header dump).
const BARE_PARAM_RE = /\b(X-Amz-(?:Credential|Signature|Security-Token)|AWSAccessKeyId|Signature)(=|%3D|:\s*)[^\s&"',;]+/gi;

/** `text` with every signed URL's query string and any stray signing parameter removed. */
export function redactSecrets(text: string): string {
  const urls = text.replace(URL_RE, (match) => {
    const url = match.replace(/[:.,;)\]]+$/, ''); // punctuation after a quoted URL is not part of it
    const q = url.indexOf('?');
    return q >= 0 && SIGNED_QUERY_RE.test(url.slice(q)) ? `${url.slice(0, q)}?${REDACTED}${match.slice(url.length)}` : match;
  });
  return urls.replace(BARE_PARAM_RE, (_m, name: string, sep: string) => `${name}${sep}${REDACTED}`);
}

/** `value` with `redactSecrets` applied to every string in it (objects, arrays and errors, deeply). */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactSecrets(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const copy = new Error(redactSecrets(value.message));
    copy.name = value.name;
    copy.stack = value.stack === undefined ? undefined : redactSecrets(value.stack);
    for (const [k, v] of Object.entries(value)) (copy as unknown as Record<string, unknown>)[k] = redactDeep(v, depth + 1);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, depth + 1);
  return out;
}

type LogMethod = (message: string, ...attributes: unknown[]) => void;

/** `log` with every message and attribute redacted before it is written. */
export function redactingLog<L extends PipelineLog>(log: L): PipelineLog {
  const wrap = (method: LogMethod): PipelineLog['info'] => (message, ...attributes) =>
    method(redactSecrets(message), ...attributes.map((a) => redactDeep(a)));
  return {
    info: wrap(log.info.bind(log) as LogMethod),
    warn: wrap(log.warn.bind(log) as LogMethod),
    error: wrap(log.error.bind(log) as LogMethod),
  };
}
