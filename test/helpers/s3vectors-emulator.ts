/**
 * A small Amazon S3 Vectors emulator for tests (no official one exists): the REST-JSON operations
 * the adapter calls (POST /CreateVectorBucket, /CreateIndex, /PutVectors, /GetVectors,
 * /DeleteVectors, /QueryVectors), on 127.0.0.1, with S3 Vectors' own rules where the adapter
 * depends on them: the per-request limits, a fixed dimension per index, metadata filters with
 * $eq, non-filterable keys refused in filters, cosine distance, topK pages with nextToken, and
 * errors as ValidationException / NotFoundException.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface StoredVector {
  data: number[];
  metadata: Record<string, unknown>;
}

interface Index {
  dimension: number;
  nonFilterable: Set<string>;
  vectors: Map<string, StoredVector>;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export interface S3VectorsEmulator {
  endpoint: string;
  /** Requests served, by operation (what the tests count). */
  calls: Map<string, number>;
  close(): Promise<void>;
}

export async function startS3VectorsEmulator(): Promise<S3VectorsEmulator> {
  const buckets = new Map<string, Map<string, Index>>();
  const calls = new Map<string, number>();

  const indexOf = (body: Record<string, unknown>): Index => {
    const bucket = buckets.get(String(body.vectorBucketName));
    if (!bucket) throw new ApiError(404, 'NotFoundException', `vector bucket ${String(body.vectorBucketName)} not found`);
    const index = bucket.get(String(body.indexName));
    if (!index) throw new ApiError(404, 'NotFoundException', `index ${String(body.indexName)} not found`);
    return index;
  };
  const limit = (n: number, max: number, what: string) => {
    if (n < 1 || n > max) throw new ApiError(400, 'ValidationException', `${what} must be 1..${max}, got ${n}`);
  };

  const matches = (metadata: Record<string, unknown>, filter: unknown, index: Index): boolean => {
    if (filter === undefined) return true;
    const f = filter as Record<string, unknown>;
    return Object.entries(f).every(([key, cond]) => {
      if (key === '$and') return (cond as unknown[]).every((c) => matches(metadata, c, index));
      if (index.nonFilterable.has(key)) throw new ApiError(400, 'ValidationException', `metadata key ${key} is not filterable`);
      if (typeof cond === 'object' && cond !== null && '$eq' in cond) return metadata[key] === (cond as { $eq: unknown }).$eq;
      return metadata[key] === cond;
    });
  };

  const operations: Record<string, (body: Record<string, unknown>) => unknown> = {
    CreateVectorBucket(body) {
      buckets.set(String(body.vectorBucketName), new Map());
      return { vectorBucketArn: `arn:aws:s3vectors:local:000000000000:bucket/${String(body.vectorBucketName)}` };
    },
    CreateIndex(body) {
      const bucket = buckets.get(String(body.vectorBucketName));
      if (!bucket) throw new ApiError(404, 'NotFoundException', 'vector bucket not found');
      const config = body.metadataConfiguration as { nonFilterableMetadataKeys?: string[] } | undefined;
      bucket.set(String(body.indexName), { dimension: Number(body.dimension), nonFilterable: new Set(config?.nonFilterableMetadataKeys ?? []), vectors: new Map() });
      return { indexArn: `arn:aws:s3vectors:local:000000000000:bucket/${String(body.vectorBucketName)}/index/${String(body.indexName)}` };
    },
    PutVectors(body) {
      const index = indexOf(body);
      const vectors = body.vectors as Array<{ key: string; data: { float32: number[] }; metadata?: Record<string, unknown> }>;
      limit(vectors.length, 500, 'vectors');
      for (const v of vectors) {
        if (v.data.float32.length !== index.dimension) throw new ApiError(400, 'ValidationException', `vector dimension ${v.data.float32.length} does not match the index dimension ${index.dimension}`);
      }
      for (const v of vectors) index.vectors.set(v.key, { data: v.data.float32.map((x) => Math.fround(x)), metadata: v.metadata ?? {} });
      return {};
    },
    GetVectors(body) {
      const index = indexOf(body);
      const keys = body.keys as string[];
      limit(keys.length, 100, 'keys');
      return {
        vectors: keys.flatMap((key) => {
          const v = index.vectors.get(key);
          if (!v) return [];
          return [{ key, ...(body.returnData ? { data: { float32: v.data } } : {}), ...(body.returnMetadata ? { metadata: v.metadata } : {}) }];
        }),
      };
    },
    DeleteVectors(body) {
      const index = indexOf(body);
      const keys = body.keys as string[];
      limit(keys.length, 500, 'keys');
      for (const key of keys) index.vectors.delete(key);
      return {};
    },
    QueryVectors(body) {
      const index = indexOf(body);
      const q = (body.queryVector as { float32: number[] }).float32;
      const topK = Number(body.topK);
      limit(topK, 100, 'topK');
      if (q.length !== index.dimension) throw new ApiError(400, 'ValidationException', `query vector dimension ${q.length} does not match the index dimension ${index.dimension}`);
      const qn = Math.hypot(...q);
      const ranked = [...index.vectors.entries()]
        .filter(([, v]) => matches(v.metadata, body.filter, index))
        .map(([key, v]) => {
          const dot = v.data.reduce((s, x, i) => s + x * q[i]!, 0);
          return { key, v, distance: 1 - dot / (Math.hypot(...v.data) * qn || 1) };
        })
        .sort((a, b) => a.distance - b.distance || (a.key < b.key ? -1 : 1));
      const offset = body.nextToken ? Number(body.nextToken) : 0;
      const page = ranked.slice(offset, offset + topK);
      const next = offset + topK < ranked.length ? String(offset + topK) : undefined;
      return {
        distanceMetric: 'cosine',
        vectors: page.map(({ key, v, distance }) => ({ key, ...(body.returnDistance ? { distance } : {}), ...(body.returnMetadata ? { metadata: v.metadata } : {}) })),
        ...(next ? { nextToken: next } : {}),
      };
    },
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const name = (req.url ?? '').replace(/^\//, '').split('?')[0]!;
      calls.set(name, (calls.get(name) ?? 0) + 1);
      try {
        const op = operations[name];
        if (req.method !== 'POST' || !op) throw new ApiError(404, 'NotFoundException', `no operation ${req.method} ${req.url}`);
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        const out = JSON.stringify(op(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end(out);
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(500, 'InternalServerException', (e as Error).message);
        res.writeHead(err.status, { 'content-type': 'application/json', 'x-amzn-errortype': err.type }).end(JSON.stringify({ message: err.message }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
