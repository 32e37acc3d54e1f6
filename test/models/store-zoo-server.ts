/**
 * A stand-in for the PyTorchVideo model zoo on 127.0.0.1 (random port), for pull tests:
 *   /kinetics/<file>   the file, with Content-Length
 *   /truncated/<file>  announces the full length, sends half, then drops the connection
 *   /hang/<file>       accepts the request and never answers
 *   anything else      404
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ZooServer {
  /** Base URL for VIDX_MODEL_ZOO_URL, e.g. http://127.0.0.1:PORT/kinetics */
  base(route?: 'kinetics' | 'truncated' | 'hang' | 'missing'): string;
  /** Paths requested so far. */
  requests: string[];
  close(): Promise<void>;
}

export async function startZooServer(files: Record<string, string>): Promise<ZooServer> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const send = (res: ServerResponse, path: string, truncate: boolean) => {
    const size = statSync(path).size;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
    if (!truncate) {
      createReadStream(path).pipe(res);
      return;
    }
    createReadStream(path, { start: 0, end: Math.floor(size / 2) - 1 })
      .on('end', () => res.socket?.destroy())
      .pipe(res, { end: false });
  };
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    requests.push(url);
    const [, route, name] = url.split('/');
    const path = name === undefined ? undefined : files[name];
    if (path === undefined || !['kinetics', 'truncated', 'hang'].includes(route ?? '')) {
      res.writeHead(404).end('not found');
      return;
    }
    if (route === 'hang') return;
    send(res, path, route === 'truncated');
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    base: (route = 'kinetics') => `http://127.0.0.1:${port}/${route}`,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
