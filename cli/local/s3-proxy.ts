/**
 * The browser's way to S3 locally: presigned URLs point at `<vidx server>/_local/s3/<bucket>/<key>`
 * (VIDX_MEDIA_ENDPOINT), which this forwards to the emulator, streaming both ways (ranges for
 * seeking included). Same origin as the page, so no CORS. As S3 would, it first verifies the
 * presigned URL (presigned.ts: key, expiry, signature, signed headers) and refuses with S3's 403
 * otherwise, before a byte of the body is read. What it serves back is never an active page: a
 * stored object keeps its content type only when it is a media type of the allowlist below, and
 * is otherwise a download (Content-Disposition: attachment), always with nosniff and a CSP that
 * runs nothing. After a PUT under the video prefix succeeds it delivers the S3 ObjectCreated event,
 * as S3 would (the emulator sends none), before answering: the upload is then known to the index
 * when the browser hears back.
 * Multipart uploads (the page sends large files in parts) pass through the same way: POST ?uploads
 * starts one, PUTs of ?partNumber&uploadId send the parts, and the POST ?uploadId that completes
 * it delivers the event for the whole object.
 */
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { RawRoute } from './http-adapter.ts';
import { isVidxError } from '../../core/errors.ts';
import { verifyPresignedRequest, writeS3Refusal, type SigningCredentials } from './presigned.ts';

export const S3_PROXY_PATH = '/_local/s3';

export interface PutObjectSeen {
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

const PROXIED_METHODS: readonly string[] = ['GET', 'HEAD', 'PUT', 'POST', 'DELETE'];
const FORWARDED_REQUEST_HEADERS = ['range', 'content-type', 'content-length', 'if-none-match', 'if-modified-since'];
const FORWARDED_RESPONSE_HEADERS = ['content-length', 'content-range', 'accept-ranges', 'etag', 'last-modified', 'cache-control'];

/**
 * Media types a stored object is served as: the videos the page plays, the thumbnails it shows.
 * Anything else (text/html, image/svg+xml, application/xml ...) is served as a download.
 */
const SERVED_CONTENT_TYPE = /^(video\/[a-z0-9][a-z0-9.+-]{0,60}|image\/(jpeg|png|gif|webp|avif)|audio\/(mpeg|mp4|aac|ogg|webm|wav))$/;

/** On every object served: no sniffing into an active type, nothing run, no framing. */
export const OBJECT_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'content-security-policy': "default-src 'none'; sandbox",
  'cross-origin-resource-policy': 'same-origin',
};

/** The response headers for a stored object of content type `type` (as the emulator reports it). */
export function servedObjectHeaders(type: string | undefined): Record<string, string> {
  const essence = (type ?? '').split(';')[0]!.trim().toLowerCase();
  if (SERVED_CONTENT_TYPE.test(essence)) return { 'content-type': essence, ...OBJECT_SECURITY_HEADERS };
  return { 'content-type': 'application/octet-stream', 'content-disposition': 'attachment', ...OBJECT_SECURITY_HEADERS };
}

export function s3Proxy(upstream: string, videoPrefix: string, onPut: (o: PutObjectSeen) => Promise<void>, credentials: () => SigningCredentials): RawRoute {
  const target = new URL(upstream);
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith(`${S3_PROXY_PATH}/`)) return false;
    const verdict = verifyPresignedRequest({ method: req.method ?? 'GET', url, headers: req.headers }, credentials());
    if (!verdict.ok) {
      writeS3Refusal(req, res, verdict);
      return true;
    }
    const method = req.method ?? 'GET';
    if (!PROXIED_METHODS.includes(method)) {
      res.writeHead(405, { allow: PROXIED_METHODS.join(', '), 'content-type': 'application/json' }).end(JSON.stringify({ status: 405, code: 'METHOD_NOT_ALLOWED', message: `${method} is not proxied to S3` }));
      return true;
    }
    const path = url.slice(S3_PROXY_PATH.length);
    const headers: Record<string, string> = { host: target.host };
    for (const h of FORWARDED_REQUEST_HEADERS) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    let answered = false;
    const up = request({ hostname: target.hostname, port: target.port, path, method, headers }, (upRes) => {
      answered = true;
      void answer(req, res, upRes, method, path, videoPrefix, onPut, target);
    });
    up.on('error', (e) => {
      // The emulator may answer before it has read the whole body (413: too large) and close: that
      // answer is what the browser hears; the write that found the socket closed is no error of its own.
      if (answered) return;
      fail(res, 502, 'S3_PROXY_FAILED', `the S3 emulator did not answer: ${e.message}`);
    });
    req.pipe(up);
    return true;
  };
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  upRes: IncomingMessage,
  method: string,
  path: string,
  videoPrefix: string,
  onPut: (o: PutObjectSeen) => Promise<void>,
  target: URL,
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const h of FORWARDED_RESPONSE_HEADERS) {
    const v = upRes.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const status = upRes.statusCode ?? 502;
  if (status < 300 && (method === 'GET' || method === 'HEAD')) Object.assign(headers, servedObjectHeaders(upRes.headers['content-type']));
  else Object.assign(headers, { 'content-type': /^application\/xml\b/.test(upRes.headers['content-type'] ?? '') ? 'application/xml' : 'application/octet-stream', ...OBJECT_SECURITY_HEADERS });
  if (method === 'PUT' && status === 200) {
    upRes.resume();
    const object = objectOf(path);
    // A part of a multipart upload is not an object yet: its completion is (below).
    if (object && object.key.startsWith(videoPrefix) && !isMultipartStep(path)) {
      try {
        await onPut({ ...object, size: Number(req.headers['content-length'] ?? 0), etag: (headers.etag ?? '').replace(/^"|"$/g, '') });
      } catch (e) {
        const code = isVidxError(e) ? e.code : 'SEGMENTER_FAILED';
        fail(res, code === 'DISK_FULL' ? 507 : 502, code, `the upload was stored but the segmenter failed: ${(e as Error).message}`);
        return;
      }
    }
    res.writeHead(200, headers).end();
    return;
  }
  if (method === 'POST' && status === 200 && isMultipartStep(path)) {
    // CompleteMultipartUpload: S3 may answer 200 with an <Error> in the body; only a result is an object.
    const body = await readAll(upRes);
    const object = objectOf(path);
    if (object && object.key.startsWith(videoPrefix) && body.includes('<CompleteMultipartUploadResult')) {
      try {
        const head = await headObject(target, path.split('?')[0]!);
        await onPut({ ...object, ...head });
      } catch (e) {
        fail(res, 502, 'SEGMENTER_FAILED', `the upload was stored but the segmenter failed: ${(e as Error).message}`);
        return;
      }
    }
    res.writeHead(status, { ...headers, 'content-length': String(body.length) }).end(body);
    return;
  }
  res.writeHead(status, headers);
  upRes.pipe(res);
}

/** A request of a multipart upload under way (a part, the completion): its query names the upload. */
function isMultipartStep(path: string): boolean {
  return /[?&]uploadId=/.test(path);
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/** Size and etag of a stored object, from the emulator (path-style `/<bucket>/<key>`). */
function headObject(target: URL, objectPath: string): Promise<{ size: number; etag: string }> {
  return new Promise((resolve, reject) => {
    const r = request({ hostname: target.hostname, port: target.port, path: objectPath, method: 'HEAD', headers: { host: target.host } }, (res) => {
      res.resume();
      if (res.statusCode !== 200) return reject(new Error(`HEAD of the completed upload answered ${res.statusCode}`));
      resolve({ size: Number(res.headers['content-length'] ?? 0), etag: String(res.headers.etag ?? '').replace(/^"|"$/g, '') });
    });
    r.on('error', reject);
    r.end();
  });
}

/** `/<bucket>/<key...>?query` -> bucket and decoded key. */
function objectOf(path: string): { bucket: string; key: string } | undefined {
  const p = path.split('?')[0] ?? '';
  const m = /^\/([^/]+)\/(.+)$/.exec(p);
  if (!m) return undefined;
  try {
    return { bucket: decodeURIComponent(m[1]!), key: decodeURIComponent(m[2]!) };
  } catch (_e) {
    return undefined;
  }
}

function fail(res: ServerResponse, status: number, code: string, message: string): void {
  if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status, code, message }));
}
