/**
 * The browser's way to S3 locally: presigned URLs point at `<vidx server>/_local/s3/<bucket>/<key>`
 * (VIDX_MEDIA_ENDPOINT), which this forwards to the emulator as is, streaming both ways (ranges
 * for seeking included). Same origin as the page, so no CORS. After a PUT under the video prefix
 * succeeds it delivers the S3 ObjectCreated event, as S3 would (the emulator sends none), before
 * answering: the upload is then known to the index when the browser hears back.
 */
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { RawRoute } from './http-adapter.ts';

export const S3_PROXY_PATH = '/_local/s3';

export interface PutObjectSeen {
  bucket: string;
  key: string;
  size: number;
  etag: string;
}

const FORWARDED_REQUEST_HEADERS = ['range', 'content-type', 'content-length', 'if-none-match', 'if-modified-since'];
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-length', 'content-range', 'accept-ranges', 'etag', 'last-modified', 'cache-control'];

export function s3Proxy(upstream: string, videoPrefix: string, onPut: (o: PutObjectSeen) => Promise<void>): RawRoute {
  const target = new URL(upstream);
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith(`${S3_PROXY_PATH}/`)) return false;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'PUT') {
      res.writeHead(405, { allow: 'GET, HEAD, PUT', 'content-type': 'application/json' }).end(JSON.stringify({ status: 405, code: 'METHOD_NOT_ALLOWED', message: `${method} is not proxied to S3` }));
      return true;
    }
    const path = url.slice(S3_PROXY_PATH.length);
    const headers: Record<string, string> = { host: target.host };
    for (const h of FORWARDED_REQUEST_HEADERS) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    const up = request({ hostname: target.hostname, port: target.port, path, method, headers }, (upRes) => {
      void answer(req, res, upRes, method, path, videoPrefix, onPut);
    });
    up.on('error', (e) => fail(res, 502, 'S3_PROXY_FAILED', `the S3 emulator did not answer: ${e.message}`));
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
): Promise<void> {
  const headers: Record<string, string> = {};
  for (const h of FORWARDED_RESPONSE_HEADERS) {
    const v = upRes.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const status = upRes.statusCode ?? 502;
  if (method === 'PUT' && status === 200) {
    upRes.resume();
    const object = objectOf(path);
    if (object && object.key.startsWith(videoPrefix)) {
      try {
        await onPut({ ...object, size: Number(req.headers['content-length'] ?? 0), etag: (headers.etag ?? '').replace(/^"|"$/g, '') });
      } catch (e) {
        fail(res, 502, 'SEGMENTER_FAILED', `the upload was stored but the segmenter failed: ${(e as Error).message}`);
        return;
      }
    }
    res.writeHead(200, headers).end();
    return;
  }
  res.writeHead(status, headers);
  upRes.pipe(res);
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
