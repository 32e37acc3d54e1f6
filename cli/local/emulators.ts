/**
 * The local emulators, in-process: fauxqs (S3 + SQS, in memory) and dynalite (DynamoDB,
 * LevelDB on disk under the data dir so the index survives restarts).
 */
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';

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
  fauxqs: FauxqsServer;
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
  const fauxqs = await startFauxqs({ port: options.fauxqsPort ?? 0, logger: false, host: 'localhost' });
  let dynamo: Server;
  try {
    if (options.dynamoPath) mkdirSync(options.dynamoPath, { recursive: true });
    dynamo = dynalite({ ...(options.dynamoPath ? { path: options.dynamoPath } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    // The SDK keeps sockets alive and reuses them; Node's default 5 s server idle timeout races
    // with that reuse under load (ECONNRESET on the client). Outlast the SDK's idle sockets.
    dynamo.keepAliveTimeout = 65_000;
    dynamo.headersTimeout = 66_000;
    await new Promise<void>((resolve, reject) => {
      dynamo.once('error', reject);
      dynamo.listen(options.dynamoPort ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (e) {
    await fauxqs.stop();
    throw e;
  }
  const port = (dynamo.address() as AddressInfo).port;
  return {
    endpoint: fauxqs.address,
    dynamoEndpoint: `http://127.0.0.1:${port}`,
    fauxqs,
    async stop() {
      await fauxqs.stop();
      await new Promise<void>((resolve, reject) => dynamo.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
