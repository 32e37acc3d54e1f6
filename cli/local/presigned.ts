/**
 * Verifies a presigned S3 request as S3 does (Signature Version 4, query-string authentication):
 * the algorithm and credential scope, the access key, the date and expiry, and the signature over
 * the method, the path as sent, every query parameter but the signature, and the signed headers
 * (host always; content-type when the URL was signed with it). Any presigned S3 request verifies
 * the same way: GET and PUT of an object, and the multipart calls (CreateMultipartUpload,
 * UploadPart, CompleteMultipartUpload, AbortMultipartUpload). A refusal is S3's own answer: its
 * status and error code, with an XML body (s3ErrorXml).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface PresignedRequest {
  method: string;
  /** The request target as sent: path and query string, still percent-encoded. */
  url: string;
  headers: IncomingHttpHeaders;
}

export type S3AuthErrorCode = 'AccessDenied' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch' | 'AuthorizationQueryParametersError';

export type PresignVerdict = { ok: true } | { ok: false; status: 400 | 403; code: S3AuthErrorCode; message: string };

/** S3's longest presigned URL: seven days. */
export const MAX_PRESIGN_SECONDS = 604_800;

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** How far a signing clock may run ahead of this one (S3 allows 15 minutes). */
const CLOCK_SKEW_MS = 15 * 60 * 1000;

export function verifyPresignedRequest(r: PresignedRequest, credentials: SigningCredentials, now: Date = new Date()): PresignVerdict {
  const q = r.url.indexOf('?');
  const path = q < 0 ? r.url : r.url.slice(0, q);
  const params = parseQuery(q < 0 ? '' : r.url.slice(q + 1));
  if (!params) return refuse(400, 'AuthorizationQueryParametersError', 'the query string is not valid percent-encoded UTF-8');
  const get = (name: string) => params.find(([k]) => k === name)?.[1];
  const algorithm = get('X-Amz-Algorithm');
  const credential = get('X-Amz-Credential');
  const date = get('X-Amz-Date');
  const expires = get('X-Amz-Expires');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const signature = get('X-Amz-Signature');
  if (algorithm === undefined && signature === undefined && r.headers.authorization === undefined) return refuse(403, 'AccessDenied', 'Access Denied');
  if (algorithm !== ALGORITHM) return refuse(400, 'AuthorizationQueryParametersError', `X-Amz-Algorithm only supports "${ALGORITHM}"`);
  if (!credential || !date || !expires || !signedHeaders || !signature) {
    return refuse(400, 'AuthorizationQueryParametersError', 'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.');
  }
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || scope[3] !== 's3' || !/^\d{8}$/.test(scope[1]!)) {
    return refuse(400, 'AuthorizationQueryParametersError', `Error parsing the X-Amz-Credential parameter; the credential scope is not <key>/<date>/<region>/s3/aws4_request: ${credential}`);
  }
  const [accessKeyId, day, region] = scope as [string, string, string];
  if (accessKeyId !== credentials.accessKeyId) return refuse(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
  const signedAt = parseAmzDate(date);
  if (signedAt === undefined || date.slice(0, 8) !== day) return refuse(400, 'AuthorizationQueryParametersError', `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'" and match the credential's date: ${date}`);
  if (!/^\d{1,7}$/.test(expires) || Number(expires) > MAX_PRESIGN_SECONDS) {
    return refuse(400, 'AuthorizationQueryParametersError', `X-Amz-Expires must be a number of seconds from 0 to ${MAX_PRESIGN_SECONDS} (seven days)`);
  }
  if (signedAt - CLOCK_SKEW_MS > now.getTime()) return refuse(403, 'AccessDenied', 'Request is not valid yet');
  if (signedAt + Number(expires) * 1000 < now.getTime()) return refuse(403, 'AccessDenied', 'Request has expired');
  const names = signedHeaders.split(';');
  if (!names.includes('host') || names.some((n) => n !== n.toLowerCase() || n === '')) {
    return refuse(400, 'AuthorizationQueryParametersError', 'X-Amz-SignedHeaders must list lowercase header names, host among them');
  }
  const canonicalHeaders = names.map((n) => `${n}:${headerValue(r.headers, n)}\n`).join('');
  const canonicalQuery = params
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [s3Encode(k), s3Encode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const payloadHash = get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const canonicalRequest = [r.method.toUpperCase(), path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const stringToSign = [ALGORITHM, date, `${day}/${region}/s3/aws4_request`, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${credentials.secretAccessKey}`, day);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const expected = createHmac('sha256', key).update(stringToSign).digest();
  const given = /^[0-9a-f]{64}$/.test(signature) ? Buffer.from(signature, 'hex') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return refuse(403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your key and signing method.');
  }
  return { ok: true };
}

/** S3's XML error document. */
export function s3ErrorXml(code: string, message: string, resource: string): string {
  const esc = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message><Resource>${esc(resource)}</Resource></Error>`;
}

/** Answers a refused presigned request as S3 does, and drops the connection (its body is never read). */
export function writeS3Refusal(req: IncomingMessage, res: ServerResponse, v: Exclude<PresignVerdict, { ok: true }>): void {
  req.pause();
  const resource = (req.url ?? '').split('?')[0] ?? '';
  res.writeHead(v.status, { 'content-type': 'application/xml', 'x-content-type-options': 'nosniff', connection: 'close' });
  res.end(s3ErrorXml(v.code, v.message, resource), () => req.socket.destroy());
}

function refuse(status: 400 | 403, code: S3AuthErrorCode, message: string): PresignVerdict {
  return { ok: false, status, code, message };
}

/** Query parameters in order, decoded; undefined when an escape is not valid UTF-8. */
function parseQuery(raw: string): [string, string][] | undefined {
  const out: [string, string][] = [];
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    try {
      out.push([decodeURIComponent(eq < 0 ? part : part.slice(0, eq)), eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1))]);
    } catch (_e) {
      return undefined;
    }
  }
  return out;
}

/** SigV4's URI encoding: every byte but the unreserved characters, as %XX in upper case. */
function s3Encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A header's canonical value: repeated values joined by commas, trimmed, inner runs of spaces as one. */
function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  const joined = Array.isArray(v) ? v.join(',') : (v ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(t) ? undefined : t;
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
