/**
 * Who may talk to `vidx local`'s servers (the API and the emulators): only this machine, by the
 * names that always mean this machine. Every server listens on 127.0.0.1 (never another address);
 * a request must name it in `Host` as localhost, 127.0.0.1 or [::1] with the server's port, so a
 * page whose DNS name was rebound to 127.0.0.1 is refused; and a request that changes state must
 * come from no browser page at all (the CLI, the SDK) or from a page of this same server.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The only address the local servers listen on. */
export const LOOPBACK_HOST = '127.0.0.1';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** Whether `host` (a listen address asked for) is an IPv4 loopback address. */
export function isLoopbackAddress(host: string): boolean {
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Whether a `Host` header names this machine's server on `port`. */
export function isAllowedHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  return LOOPBACK_NAMES.some((name) => h === `${name}:${port}`);
}

/** The origins of this server's own pages (the browser sends one of these from the web page). */
export function ownOrigins(port: number): string[] {
  return LOOPBACK_NAMES.map((name) => `http://${name}:${port}`);
}

/**
 * Whether a request comes from a browser page of another origin. No `Origin` and no fetch
 * metadata: not a browser page (the CLI, the SDK, curl). A browser marks cross-site requests with
 * `Sec-Fetch-Site: cross-site` and names the page in `Origin` (`null` for sandboxed or file pages).
 */
export function isForeignOrigin(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  if (origin === undefined) return false;
  return !ownOrigins(port).includes(origin.toLowerCase());
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export type GuardRefusal = { status: 403; code: 'HOST_NOT_ALLOWED' | 'ORIGIN_NOT_ALLOWED'; message: string };

/**
 * The checks every request to a local server passes first: its Host, and for a method that can
 * change state (anything but GET and HEAD) its origin. `browserFree`: the server has no page of
 * its own (the emulators), so any request from a browser page is refused, whatever its method.
 */
export function guardRequest(req: IncomingMessage, port: number, o: { browserFree?: boolean } = {}): GuardRefusal | undefined {
  if (!isAllowedHost(req.headers.host, port)) {
    return { status: 403, code: 'HOST_NOT_ALLOWED', message: `this local server answers only to localhost:${port}, 127.0.0.1:${port} or [::1]:${port}, not to Host ${JSON.stringify(req.headers.host ?? '')}` };
  }
  const fromBrowser = req.headers.origin !== undefined || req.headers['sec-fetch-site'] !== undefined;
  if (o.browserFree && fromBrowser) {
    return { status: 403, code: 'ORIGIN_NOT_ALLOWED', message: 'this local emulator takes no requests from browser pages' };
  }
  if (!SAFE_METHODS.has((req.method ?? 'GET').toUpperCase()) && isForeignOrigin(req, port)) {
    return { status: 403, code: 'ORIGIN_NOT_ALLOWED', message: `a ${req.method} from another origin (${req.headers.origin ?? req.headers['sec-fetch-site']}) is refused: only this server's own pages and non-browser clients may change state` };
  }
  return undefined;
}

/** Answers a refusal as JSON and drops the connection (the request body is never read). */
export function writeRefusal(req: IncomingMessage, res: ServerResponse, r: GuardRefusal): void {
  req.pause();
  res.writeHead(r.status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ status: r.status, code: r.code, message: r.message }), () => req.socket.destroy());
}
