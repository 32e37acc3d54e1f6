/**
 * The local emulators, in-process: fauxqs (S3 + SQS, in memory) and dynalite (DynamoDB,
 * LevelDB on disk under the data dir so the index survives restarts). Neither checks credentials,
 * so both listen on 127.0.0.1 only (fauxqs's own start binds 0.0.0.0, so its app is built and
 * bound here) and both refuse a foreign Host and any request from a browser page (loopback.ts):
 * only this machine's non-browser clients (the stack, the worker, `vidx upload`) reach them.
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { buildApp } from 'fauxqs';
import { LOOPBACK_HOST, guardRequest, writeRefusal } from './loopback.ts';
import { checkIndexFolder } from './index-check.ts';

interface DynaliteOptions {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}
// dynalite ships no type declarations: typed here by the one call we make.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server;

export interface Emulators {
  /** S3 + SQS endpoint (fauxqs). */
  endpoint: string;
  /** DynamoDB endpoint (dynalite). */
  dynamoEndpoint: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Directory for dynalite's LevelDB; in memory when absent. */
  dynamoPath?: string | undefined;
  /** 0 = any free port. */
  fauxqsPort?: number;
  dynamoPort?: number;
}

export async function startEmulators(options: EmulatorOptions = {}): Promise<Emulators> {
  // A damaged index is a coded error here, before dynalite would crash on it or start over empty.
  if (options.dynamoPath) await checkIndexFolder(options.dynamoPath);
  const fauxqs = buildApp({ logger: false, host: 'localhost' });
  let fauxqsPort = 0;
  fauxqs.addHook('onRequest', async (req, reply) => {
    const refused = guardRequest(req.raw, fauxqsPort, { browserFree: true });
    if (refused) return reply.code(refused.status).header('connection', 'close').send({ status: refused.status, code: refused.code, message: refused.message });
    return undefined;
  });
  const fauxqsUrl = new URL(await fauxqs.listen({ port: options.fauxqsPort ?? 0, host: LOOPBACK_HOST }));
  fauxqsPort = Number(fauxqsUrl.port);
  let dynamo: Server;
  try {
    if (options.dynamoPath) mkdirSync(options.dynamoPath, { recursive: true });
    dynamo = dynalite({ ...(options.dynamoPath ? { path: options.dynamoPath } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    // The SDK keeps sockets alive and reuses them; Node's default 5 s server idle timeout races
    // with that reuse under load (ECONNRESET on the client). Outlast the SDK's idle sockets.
    guardServer(dynamo);
    dynamo.keepAliveTimeout = 65_000;
    dynamo.headersTimeout = 66_000;
    await new Promise<void>((resolve, reject) => {
      dynamo.once('error', reject);
      dynamo.listen(options.dynamoPort ?? 0, LOOPBACK_HOST, () => resolve());
    });
  } catch (e) {
    await fauxqs.close();
    throw e;
  }
  const port = (dynamo.address() as AddressInfo).port;
  return {
    endpoint: `http://${LOOPBACK_HOST}:${fauxqsPort}`,
    dynamoEndpoint: `http://${LOOPBACK_HOST}:${port}`,
    async stop() {
      await fauxqs.close();
      await new Promise<void>((resolve, reject) => dynamo.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/** Puts the loopback guard in front of a server's own request handlers (dynalite has no hook of its own). */
function guardServer(server: Server): void {
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const port = (server.address() as AddressInfo | null)?.port ?? 0;
    const refused = guardRequest(req, port, { browserFree: true });
    if (refused) return writeRefusal(req, res, refused);
    for (const h of handlers) h.call(server, req, res);
  });
}
