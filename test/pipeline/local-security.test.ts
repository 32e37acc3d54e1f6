/**
 * `vidx local` lets no one in, over real HTTP against a running stack: every listener is on
 * 127.0.0.1 only; the browser's S3 path (/_local/s3) takes only presigned URLs the API handed out,
 * verified as S3 does, and answers S3's 403 XML otherwise; a stored object is never served as an
 * active page; a foreign Host (DNS rebinding) and a cross-origin state change are refused; the
 * emulators take no request from a browser page. The scorer is the deterministic stand-in; the
 * rest is the real local stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createPresignS3 } from '../../adapters/clients.ts';
import { startLocalStack, type LocalStack } from '../../cli/local/stack.ts';
import { S3_PROXY_PATH } from '../../cli/local/s3-proxy.ts';
import { DEFAULTS } from '../../core/names.ts';
import { waitFor } from '../helpers/emulators.ts';
import { DeterministicScorer, makeVideo } from './fixtures.ts';

const MANIFEST = 'test/cdk/fixtures/slowfast_r50.json';

let dir: string;
let stack: LocalStack;
let port: number;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** A raw request (fetch cannot set Host or Origin): `target` is the path and query as sent. */
function send(method: string, target: string, o: { headers?: Record<string, string>; body?: Buffer | string; base?: string } = {}): Promise<Answer> {
  const base = new URL(o.base ?? stack.apiUrl);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...o.headers };
    if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    const req = request({ hostname: base.hostname, port: base.port, path: target, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The path and query of an absolute URL (what a client sends as the request target). */
const target = (url: string) => {
  const u = new URL(url);
  return `${u.pathname}${u.search}`;
};

/** Presigns as the local API does (same client, same run secret), with overrides a test needs. */
function presign(command: PutObjectCommand | GetObjectCommand, o: { expiresIn?: number; signingDate?: Date; signContentType?: boolean } = {}): Promise<string> {
  const s3 = createPresignS3({ region: DEFAULTS.region }, `${stack.apiUrl}${S3_PROXY_PATH}`);
  return getSignedUrl(s3, command, { expiresIn: o.expiresIn ?? 900, ...(o.signingDate ? { signingDate: o.signingDate } : {}), ...(o.signContentType ? { signableHeaders: new Set(['content-type']) } : {}) });
}

async function uploadUrl(name: string, type = 'video/mp4'): Promise<{ url: string; key: string; videoId: string }> {
  const r = await fetch(`${stack.apiUrl}/upload-url?name=${encodeURIComponent(name)}&type=${encodeURIComponent(type)}`);
  expect(r.status).toBe(200);
  return (await r.json()) as { url: string; key: string; videoId: string };
}

function s3Code(a: Answer): string | undefined {
  return /<Code>([^<]+)<\/Code>/.exec(a.text)?.[1];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-security-'));
  stack = await startLocalStack({
    port: 0,
    dataDir: join(dir, 'data'),
    manifestPath: MANIFEST,
    scorer: Object.assign(new DeterministicScorer(3), { architecture: 'slowfast_r50' }),
    clipSeconds: 2,
    logLevel: 'SILENT',
    worker: { waitTimeSeconds: 1 },
  });
  port = Number(new URL(stack.apiUrl).port);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('listeners', () => {
  it('no port of the stack is reachable on another local address (127.0.0.2)', async () => {
    const ports = [stack.apiUrl, stack.emulators.endpoint, stack.emulators.dynamoEndpoint].map((u) => Number(new URL(u).port));
    expect(ports.every((p) => p > 0)).toBe(true);
    for (const p of ports) {
      const outcome = await new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.2', port: p, timeout: 5000 });
        s.once('connect', () => (s.destroy(), resolve('connected')));
        s.once('timeout', () => (s.destroy(), resolve('timeout')));
        s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(outcome, `127.0.0.2:${p}`).toBe('ECONNREFUSED');
    }
  });

  it('the emulators refuse a foreign Host and any request from a browser page', async () => {
    for (const base of [stack.emulators.endpoint, stack.emulators.dynamoEndpoint]) {
      const u = new URL(base);
      const evil = await send('POST', '/', { base, headers: { host: `rebound.example:${u.port}`, 'content-type': 'application/x-amz-json-1.0' }, body: '{}' });
      expect(evil.status, base).toBe(403);
      expect(JSON.parse(evil.text)).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
      const page = await send('GET', `/${stack.resources.bucket}?list-type=2`, { base, headers: { origin: 'http://127.0.0.1:9', 'sec-fetch-site': 'cross-site' } });
      expect(page.status, base).toBe(403);
      expect(JSON.parse(page.text)).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    }
  });
});

describe('the browser S3 path verifies presigned URLs as S3 does', () => {
  let video: Buffer;
  beforeAll(() => {
    video = readFileSync(makeVideo(dir, 'ok.mp4', 1, { size: '64x48' }));
  });

  it('the URL the API hands out uploads (200) and the video gets indexed', async () => {
    const up = await uploadUrl('ok.mp4');
    const r = await send('PUT', target(up.url), { headers: { 'content-type': 'video/mp4' }, body: video });
    expect(r.status, r.text).toBe(200);
    await waitFor('indexed', async () => (await stack.store.getVideo(up.videoId))?.status === 'indexed', 60_000, 200);
  }, 90_000);

  it('an unsigned PUT is 403 AccessDenied', async () => {
    const r = await send('PUT', `${S3_PROXY_PATH}/${stack.resources.bucket}/videos/unsigned.mp4`, { headers: { 'content-type': 'video/mp4' }, body: video });
    expect(r.status).toBe(403);
    expect(r.headers['content-type']).toBe('application/xml');
    expect(s3Code(r)).toBe('AccessDenied');
  });

  it('a forged signature, another key, or another content type is 403 SignatureDoesNotMatch', async () => {
    const up = await uploadUrl('forged.mp4');
    const zeroed = target(up.url).replace(/X-Amz-Signature=[0-9a-f]+/, `X-Amz-Signature=${'0'.repeat(64)}`);
    const otherKey = target(up.url).replace('/videos/forged.mp4', '/videos/other.mp4');
    for (const [what, path, type] of [['zeroed signature', zeroed, 'video/mp4'], ['another key', otherKey, 'video/mp4'], ['another content type', target(up.url), 'text/html']] as const) {
      const r = await send('PUT', path, { headers: { 'content-type': type }, body: video });
      expect(r.status, what).toBe(403);
      expect(s3Code(r), what).toBe('SignatureDoesNotMatch');
    }
    expect(await stack.store.getVideo(up.videoId)).toBeUndefined();
  });

  it('an expired URL is 403 AccessDenied (Request has expired)', async () => {
    const url = await presign(new PutObjectCommand({ Bucket: stack.resources.bucket, Key: 'videos/late.mp4', ContentType: 'video/mp4' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 3600_000),
      signContentType: true,
    });
    const r = await send('PUT', target(url), { headers: { 'content-type': 'video/mp4' }, body: video });
    expect(r.status).toBe(403);
    expect(s3Code(r)).toBe('AccessDenied');
    expect(r.text).toContain('Request has expired');
  });

  it('an unsigned GET (listing or object) is 403 too', async () => {
    for (const path of [`${S3_PROXY_PATH}/${stack.resources.bucket}?list-type=2`, `${S3_PROXY_PATH}/${stack.resources.bucket}/videos/ok.mp4`]) {
      const r = await send('GET', path);
      expect(r.status, path).toBe(403);
      expect(s3Code(r), path).toBe('AccessDenied');
    }
  });
});

describe('stored objects are never served as an active page', () => {
  it('bytes stored as text/html come back as a download with nosniff and a CSP that runs nothing', async () => {
    const key = 'notes/page.html';
    const put = await presign(new PutObjectCommand({ Bucket: stack.resources.bucket, Key: key, ContentType: 'text/html' }), { signContentType: true });
    const html = '<script>fetch("/videos").then(r => r.text()).then(alert)</script>';
    expect((await send('PUT', target(put), { headers: { 'content-type': 'text/html' }, body: html })).status).toBe(200);
    const get = await send('GET', target(await presign(new GetObjectCommand({ Bucket: stack.resources.bucket, Key: key }))));
    expect(get.status).toBe(200);
    expect(get.text).toBe(html);
    expect(get.headers['content-type']).toBe('application/octet-stream');
    expect(get.headers['content-disposition']).toBe('attachment');
    expect(get.headers['x-content-type-options']).toBe('nosniff');
    expect(get.headers['content-security-policy']).toContain('sandbox');
  });

  it('a video keeps its media type (with nosniff and the CSP)', async () => {
    const get = await send('GET', target(await presign(new GetObjectCommand({ Bucket: stack.resources.bucket, Key: 'videos/ok.mp4' }))));
    expect(get.status).toBe(200);
    expect(get.headers['content-type']).toBe('video/mp4');
    expect(get.headers['content-disposition']).toBeUndefined();
    expect(get.headers['x-content-type-options']).toBe('nosniff');
    expect(get.headers['content-security-policy']).toContain("default-src 'none'");
  });
});

describe('Host allowlist and origin check', () => {
  it('a foreign Host (DNS rebinding) is refused on every route; the loopback names are served', async () => {
    for (const path of ['/_local/config', '/videos', '/']) {
      const r = await send('GET', path, { headers: { host: `rebound.example:${port}` } });
      expect(r.status, path).toBe(403);
      expect(JSON.parse(r.text)).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
    }
    expect((await send('GET', '/_local/config', { headers: { host: `127.0.0.1:${port + 1}` } })).status).toBe(403);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      expect((await send('GET', '/_local/config', { headers: { host } })).status, host).toBe(200);
    }
  });

  it('a cross-origin POST to /_local/reindex or /_local/s3-event, or PUT to /_local/s3, is refused', async () => {
    const up = await uploadUrl('cross.mp4');
    const evil = { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' };
    const attempts: [string, string, Record<string, string>, string][] = [
      ['POST', '/_local/reindex', { 'content-type': 'application/json', ...evil }, '{"all":true}'],
      ['POST', '/_local/reindex', { 'content-type': 'text/plain', origin: 'null' }, '{"all":true}'],
      ['POST', '/_local/s3-event', { 'content-type': 'text/plain', origin: `http://localhost:${port + 1}`, 'sec-fetch-site': 'same-site' }, '{"Records":[]}'],
      ['PUT', target(up.url), { 'content-type': 'video/mp4', ...evil }, 'x'],
    ];
    for (const [method, path, headers, body] of attempts) {
      const r = await send(method, path, { headers, body });
      expect(r.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(403);
      expect(JSON.parse(r.text)).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    }
  });

  it('the page itself (same origin) and non-browser clients may change state', async () => {
    const own = await send('POST', '/_local/reindex', { headers: { 'content-type': 'application/json', origin: `http://127.0.0.1:${port}`, 'sec-fetch-site': 'same-origin' }, body: '{"all":true}' });
    expect(own.status, own.text).toBe(200);
    const cli = await send('POST', '/_local/reindex', { headers: { 'content-type': 'application/json' }, body: '{"all":true}' });
    expect(cli.status, cli.text).toBe(200);
  });
});
