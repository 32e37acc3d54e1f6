/**
 * Serves an API Gateway HTTP API (payload v2) Lambda handler on a local port: each HTTP request
 * becomes an APIGatewayProxyEventV2, the handler's result becomes the HTTP response. Only what
 * the query handler reads is filled in (method, path, query string, headers, body).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { VidxError } from '../../core/errors.ts';
import { errorBody } from '../../core/query/http-errors.ts';
import { redactSecrets } from '../../core/redact.ts';
import { LOOPBACK_HOST, guardRequest, isLoopbackAddress, writeRefusal } from './loopback.ts';

/**
 * Largest request body read. The query API takes none and an S3 event of a few uploads is a few
 * KiB; anything larger is refused (413) from its Content-Length, before a byte of it is read.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

export type HttpApiHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2 | string>;

/** Extra local-only routes (e.g. the uploader's /_local/ endpoints), tried before the API. */
export type LocalRoute = (req: IncomingMessage, body: Buffer) => Promise<{ status: number; body: unknown } | undefined>;

/**
 * A route that answers from the raw request (streams: the web page, the S3 proxy), tried before
 * the body is read; returns true when it took the request.
 */
export type RawRoute = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The path of a request target as sent (`//videos` stays `//videos`: no URL resolution). */
export function rawPathOf(target: string | undefined): string {
  const t = target ?? '/';
  const q = t.indexOf('?');
  return q < 0 ? t : t.slice(0, q);
}

export function toApiGatewayEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  const rawPath = rawPathOf(req.url);
  const url = new URL(`http://localhost${(req.url ?? '/').slice(rawPath.length)}`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  // API Gateway v2 joins repeated query parameters with commas. No prototype: `__proto__` is a
  // parameter name like any other here (the API refuses it), not a way to set one.
  const query: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [k, v] of url.searchParams) query[k] = k in query ? `${query[k]},${v}` : v;
  const method = (req.method ?? 'GET').toUpperCase();
  const now = new Date();
  const isText = body.length === 0 || /json|text|x-www-form-urlencoded/.test(headers['content-type'] ?? '');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    queryStringParameters: Object.keys(query).length > 0 ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      http: { method, path: rawPath, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length > 0 ? (isText ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: body.length > 0 && !isText,
  };
}

export function writeResult(res: ServerResponse, result: APIGatewayProxyStructuredResultV2 | string): void {
  if (typeof result === 'string') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(result);
    return;
  }
  const headers: Record<string, string | number | boolean> = { ...(result.headers ?? {}) };
  if (result.cookies?.length) headers['set-cookie'] = result.cookies.join(', ');
  const body = result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body;
  res.writeHead(result.statusCode ?? 200, headers as Record<string, string>).end(body);
}

/** Answers with `e`'s status and JSON body, then drops the connection: the rest of the body is never read. */
function refuse(req: IncomingMessage, res: ServerResponse, e: VidxError): void {
  if (res.headersSent) return;
  const body = errorBody(e);
  req.pause();
  res.writeHead(body.status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify(body), () => req.socket.destroy());
}

export async function serveHttpApi(
  port: number,
  handler: HttpApiHandler,
  localRoutes: LocalRoute[] = [],
  host = LOOPBACK_HOST,
  rawRoutes: RawRoute[] = [],
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  if (!isLoopbackAddress(host)) throw new VidxError('BAD_OPTION', `the local API listens on loopback only, not on ${host}`);
  let actualPort = 0;
  const server = createServer((req, res) => {
    // Only this machine, by its own names (DNS rebinding), and no state change from other origins.
    const refused = guardRequest(req, actualPort);
    if (refused) return writeRefusal(req, res, refused);
    // Raw routes stream their own bodies (the upload proxy); everything else is read here, bounded.
    if (rawRoutes.some((route) => route(req, res))) return;
    const tooLarge = () => refuse(req, res, new VidxError('PAYLOAD_TOO_LARGE', `the request body is larger than ${MAX_BODY_BYTES} bytes`));
    if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge(); // chunked: no length up front
      else chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const body = Buffer.concat(chunks);
      void (async () => {
        try {
          for (const route of localRoutes) {
            const r = await route(req, body);
            if (r) {
              res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
              return;
            }
          }
          writeResult(res, await handler(toApiGatewayEvent(req, body)));
        } catch (e) {
          // A handler that throws is a bug in it: say so as API Gateway would (500, JSON).
          process.stderr.write(`vidx local: handler error: ${redactSecrets(e instanceof Error ? (e.stack ?? e.message) : String(e))}\n`);
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 500, code: 'INTERNAL', message: 'Internal Server Error' }));
        }
      })();
    });
  });
  // Clients (fetch/undici) reuse idle connections; a server closing them at the same moment gives
  // ECONNRESET on the client. Keep idle connections longer than any client's reuse window.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  actualPort = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${actualPort}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
