/** A tiny node:http server that adapts requests to the query handler (what API Gateway does). */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { QueryHandler } from '../../../lambdas/query/app.ts';
import { apigwEvent } from './events.ts';

export async function serveHandler(handler: QueryHandler): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    handler(apigwEvent(req.method ?? 'GET', req.url ?? '/'))
      .then((r) => {
        res.writeHead(r.statusCode ?? 200, r.headers as Record<string, string>);
        res.end(r.body ?? '');
      })
      .catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(e));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
