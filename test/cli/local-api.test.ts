/**
 * The local API's edge (cli/local/http-adapter.ts + the query handler + /_local/s3-event), over
 * real HTTP: bodies are refused before they are read, every parameter name is a parameter, any
 * method other than GET is a 405, and a sender's mistake on the local event route is a 400.
 * No index is needed: every request here is answered before the index would be read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { Logger } from '@aws-lambda-powertools/logger';
import { MAX_BODY_BYTES, serveHttpApi, type HttpApiHandler } from '../../cli/local/http-adapter.ts';
import { s3EventRoute } from '../../cli/local/s3-event-route.ts';
import { webPage } from '../../cli/local/web.ts';
import { makeSegmenterHandler } from '../../lambdas/segmenter/handler.ts';
import type { SegmenterDeps } from '../../core/pipeline/segment.ts';
import { createQueryHandler } from '../../lambdas/query/app.ts';
import type { QueryIndex } from '../../core/query/api.ts';
import { kinetics400 } from '../query/helpers/vocabulary.ts';

const unreachable = () => {
  throw new Error('the index must not be read for this request');
};
const index = { getVideo: unreachable, listVideos: unreachable, segmentsOf: unreachable, readLabelStream: unreachable } as unknown as QueryIndex;
// Every dependency throws: a record whose key cannot be decoded must fail before any of them is used.
const segmenterDeps = new Proxy({}, { get: (_t, name) => (name === 'log' ? { info() {}, warn() {}, error() {} } : unreachable) }) as SegmenterDeps;

let server: Awaited<ReturnType<typeof serveHttpApi>>;

beforeAll(async () => {
  const handler = createQueryHandler({ index, vocabulary: kinetics400(), cursorSecret: Buffer.alloc(32, 1), logger: new Logger({ logLevel: 'SILENT' }) });
  const page = webPage({ apiUrl: '' }, async () => ({ 'index.html': '<!doctype html><title>vidx</title>', 'app.js': '', 'app.css': '', 'favicon.svg': '' }));
  server = await serveHttpApi(0, handler as HttpApiHandler, [s3EventRoute(makeSegmenterHandler(segmenterDeps))], '127.0.0.1', [page]);
});

afterAll(async () => {
  await server?.close();
});

interface Answer {
  status: number;
  body: { status?: number; code?: string; message?: string };
  /** Request body bytes written before the answer came. */
  sent: number;
  ms: number;
}

/** A raw request (fetch refuses TRACE and cannot hold a body back): writes `body` in 64 KiB chunks until answered. */
function send(method: string, path: string, o: { declare?: number; bodyBytes?: number; body?: string } = {}): Promise<Answer> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = o.body !== undefined ? { 'content-type': 'application/json' } : {};
    if (o.declare !== undefined) headers['content-length'] = o.declare;
    else if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    let sent = 0;
    let answered = false;
    const req = request(`${server.url}${path}`, { method, headers }, (res) => {
      answered = true;
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text && /json/.test(res.headers['content-type'] ?? '') ? (JSON.parse(text) as Answer['body']) : {}, sent, ms: performance.now() - t0 }));
    });
    // The server drops the connection after refusing a body: that is expected once answered.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    if (o.body !== undefined) {
      req.end(o.body);
      return;
    }
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    const pump = () => {
      while (!answered && sent < (o.bodyBytes ?? 0)) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered && o.declare === undefined) req.end();
    };
    pump();
  });
}

describe('request bodies are refused before they are read', () => {
  it('a declared 300 MB body gets 413 at once, after no more than the first chunks were sent', async () => {
    const r = await send('POST', '/search?q=ski', { declare: 300 * 1024 * 1024, bodyBytes: 300 * 1024 * 1024 });
    expect(r.status).toBe(413);
    expect(r.body.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.sent).toBeLessThan(32 * 1024 * 1024);
    expect(r.ms).toBeLessThan(10_000);
  });

  it('a chunked body (no length up front) is cut off once it passes the limit', async () => {
    const r = await send('POST', '/_local/s3-event', { bodyBytes: 3 * MAX_BODY_BYTES });
    expect(r.status).toBe(413);
  });

  it('the API still answers afterwards', async () => {
    const r = await send('GET', '/actions?q=ski');
    expect(r.status).toBe(200);
  });
});

describe('parameters and methods', () => {
  it.each(['__proto__', 'constructor', 'prototype'])('%s as a query parameter is UNKNOWN_PARAMETER, not dropped', async (name) => {
    for (const path of [`/actions?q=ski&${name}=x`, `/search?q=ski&${name}=1`, `/videos?${name}[limit]=1`]) {
      const r = await send('GET', path);
      expect(r.status, path).toBe(400);
      expect(r.body.code, path).toBe('UNKNOWN_PARAMETER');
      expect(r.body.message, path).toContain(name);
    }
  });

  it.each(['TRACE', 'PROPFIND', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'])('%s on an API route is 405', async (method) => {
    const r = await send(method, '/search?q=ski');
    expect(r.status).toBe(405);
    expect(r.body.code).toBe('METHOD_NOT_ALLOWED');
  });
});

describe('paths and escapes', () => {
  it('a path is matched as sent: //videos is a 404, not the page or /videos', async () => {
    expect((await send('GET', '/')).status).toBe(200);
    for (const path of ['//videos', '//', '//actions?q=ski', '/videos//x']) {
      const r = await send('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.body.code, path).toBe('ROUTE_NOT_FOUND');
    }
  });

  it('a percent escape that is not UTF-8 is 400 INVALID_REQUEST, in the query or the path', async () => {
    for (const path of ['/search?q=%FF', '/actions?q=%C3%28', '/search?q=ski&%E0%A4=1', '/videos/%FF%FE', '/search?q=%zz']) {
      const r = await send('GET', path);
      expect(r.status, path).toBe(400);
      expect(r.body.code, path).toBe('INVALID_REQUEST');
    }
    expect((await send('GET', '/actions?q=caf%C3%A9')).status).toBe(200);
  });
});

describe('POST /_local/s3-event', () => {
  const event = (key: string) =>
    JSON.stringify({
      Records: [
        {
          eventVersion: '2.1', eventSource: 'aws:s3', awsRegion: 'us-east-1', eventTime: new Date().toISOString(), eventName: 'ObjectCreated:Put',
          userIdentity: { principalId: 'x' }, requestParameters: { sourceIPAddress: '127.0.0.1' }, responseElements: { 'x-amz-request-id': 'x', 'x-amz-id-2': 'x' },
          s3: { s3SchemaVersion: '1.0', configurationId: 'x', bucket: { name: 'b', ownerIdentity: { principalId: 'x' }, arn: 'arn:aws:s3:::b' }, object: { key, size: 10, eTag: 'e', sequencer: '0' } },
        },
      ],
    });

  it('a key that is not valid URL encoding is the sender\'s fault: 400 BAD_KEY_ENCODING, not 502', async () => {
    const r = await send('POST', '/_local/s3-event', { body: event('videos/%E0%A4%A.mp4') });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('BAD_KEY_ENCODING');
  });

  it('a body that is not an S3 event is 400 BAD_EVENT', async () => {
    expect((await send('POST', '/_local/s3-event', { body: '{"Records": [{"nope": 1}]}' })).body).toMatchObject({ status: 400, code: 'BAD_EVENT' });
    expect((await send('POST', '/_local/s3-event', { body: 'not json' })).body).toMatchObject({ status: 400, code: 'BAD_EVENT' });
  });
});
