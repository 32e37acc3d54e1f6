/**
 * Serves the web page at `/` beside the API: bundled with esbuild on the first request and kept
 * (one build per process), plus `/config.json` (same-origin API, no sign-in).
 */
import type { ServerResponse } from 'node:http';
import { WEB_CONFIG_FILE, type WebConfig } from '../../core/web-config.ts';
import { CONTENT_TYPES, WEB_FILE_NAMES, bundleWeb, type WebFiles } from '../../web/build.ts';
import { rawPathOf, type RawRoute } from './http-adapter.ts';

/** The page's own policy: everything from this origin (media come through the /_local/s3 proxy). */
export const LOCAL_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export function webPage(config: WebConfig = { apiUrl: '' }, bundle: () => Promise<WebFiles> = bundleWeb): RawRoute {
  let files: Promise<WebFiles> | undefined;
  const configJson = JSON.stringify(config);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = rawPathOf(req.url);
    const name = path === '/' ? 'index.html' : path.slice(1);
    if (name === WEB_CONFIG_FILE) {
      send(res, 200, CONTENT_TYPES['config.json'], configJson);
      return true;
    }
    const file = WEB_FILE_NAMES.find((n) => n === name);
    if (!file) return false;
    files ??= bundle();
    files.then(
      (f) => send(res, 200, CONTENT_TYPES[file], f[file]),
      (e: unknown) => {
        files = undefined; // a fixed source builds on the next request
        send(res, 500, 'text/plain; charset=utf-8', `vidx local: the web page failed to build: ${e instanceof Error ? e.message : String(e)}`);
      },
    );
    return true;
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache', ...LOCAL_SECURITY_HEADERS }).end(body);
}
