/**
 * The vector index on Amazon S3 Vectors (the deployed stack's; serverless, billed per GB stored
 * and per query, nothing when idle).
 *
 * Layout:
 * - one vector index per space (names in `S3VectorsLayout.indexes`), cosine distance, float32;
 *   vectors normalized before they are put, as the port promises;
 * - a vector's key is `<videoId>/<revision>/<part>/<row>`; its metadata holds the moment:
 *   `videoId`, `revision`, `kind` (filterable: the queries filter on them) and `start`, `end`,
 *   `person` (non-filterable, declared so on the index);
 * - S3 Vectors cannot list by prefix, so each part's keys are also written to a small JSON object
 *   in the regular bucket, `<manifestPrefix><space>/<videoId>/<revision>/<part>.json`: listing a
 *   video's vectors, replacing a part (its stale rows deleted) and deleting a video read those.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteVectorsCommand, GetVectorsCommand, PutVectorsCommand, QueryVectorsCommand, type S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { z } from 'zod';
import { VidxError } from '../core/errors.ts';
import { MAX_VECTOR_HITS } from '../core/vectors/memory.ts';
import { VECTOR_SPACES, normalized, type Moment, type MomentVector, type VectorHit, type VectorIndex, type VectorPart, type VectorQuery, type VectorSpace } from '../core/vectors/port.ts';

/** S3 Vectors' limits per request (PutVectors and DeleteVectors 500 vectors, GetVectors 100 keys, QueryVectors topK 100). */
const PUT_BATCH = 500;
const DELETE_BATCH = 500;
const GET_BATCH = 100;
const QUERY_PAGE = 100;
/** Metadata keys that no query filters on, so they stay out of S3 Vectors' 2 KB filterable budget. */
export const NON_FILTERABLE_METADATA = ['start', 'end', 'person'] as const;

export interface S3VectorsLayout {
  vectorBucket: string;
  indexes: Record<VectorSpace, string>;
  /** The regular bucket and prefix that hold each part's list of keys. */
  manifestBucket: string;
  manifestPrefix: string;
}

/** The index name of each space: `<prefix>window-clip`, ... (S3 Vectors names: lower case, digits, hyphens). */
export function vectorIndexNames(prefix = ''): Record<VectorSpace, string> {
  return Object.fromEntries(VECTOR_SPACES.map((s) => [s, `${prefix}${s.replace('.', '-')}`])) as Record<VectorSpace, string>;
}

const PartManifestSchema = z.object({ keys: z.array(z.string()), dimension: z.number().int().nonnegative() });
type PartManifest = z.infer<typeof PartManifestSchema>;

const MetadataSchema = z.object({
  videoId: z.string(),
  revision: z.string(),
  kind: z.enum(['window', 'person']),
  start: z.number(),
  end: z.number(),
  person: z.number().int().optional(),
});

const chunks = <T>(xs: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));

function failed(what: string, e: unknown): VidxError {
  if (e instanceof VidxError) return e;
  return new VidxError('VECTOR_STORE_FAILED', `S3 Vectors ${what} failed: ${(e as Error).name}: ${(e as Error).message}`, { cause: e });
}

export class S3VectorsIndex implements VectorIndex {
  constructor(
    private readonly vectors: S3VectorsClient,
    private readonly s3: S3Client,
    private readonly layout: S3VectorsLayout,
  ) {}

  private manifestKey(space: VectorSpace, videoId: string, revision?: string, part?: number): string {
    const base = `${this.layout.manifestPrefix}${space}/${encodeURIComponent(videoId)}/`;
    if (revision === undefined) return base;
    return part === undefined ? `${base}${encodeURIComponent(revision)}/` : `${base}${encodeURIComponent(revision)}/${part}.json`;
  }

  private target(space: VectorSpace) {
    return { vectorBucketName: this.layout.vectorBucket, indexName: this.layout.indexes[space] };
  }

  async putPart(space: VectorSpace, part: VectorPart, vectors: readonly MomentVector[]): Promise<void> {
    const dimension = vectors[0]?.vector.length ?? 0;
    for (const v of vectors) {
      if (v.vector.length !== dimension) throw new VidxError('VECTOR_DIMENSION_MISMATCH', `vectors of one part must share a length: ${v.vector.length} after ${dimension}`);
      if (v.moment.videoId !== part.videoId || v.moment.revision !== part.revision) {
        throw new VidxError('VECTOR_PART_MISMATCH', `a moment of ${v.moment.videoId}@${v.moment.revision} was written in the part of ${part.videoId}@${part.revision}`);
      }
    }
    const manifestKey = this.manifestKey(space, part.videoId, part.revision, part.part);
    const before = await this.readManifest(manifestKey);
    const keys = vectors.map((_, row) => `${part.videoId}/${part.revision}/${part.part}/${row}`);
    try {
      for (const batch of chunks(vectors.map((v, row) => ({ v, key: keys[row]! })), PUT_BATCH)) {
        await this.vectors.send(
          new PutVectorsCommand({
            ...this.target(space),
            vectors: batch.map(({ v, key }) => ({ key, data: { float32: Array.from(normalized(v.vector)) }, metadata: metadataOf(v.moment) })),
          }),
        );
      }
      const stale = (before?.keys ?? []).filter((k) => !keys.includes(k));
      for (const batch of chunks(stale, DELETE_BATCH)) await this.vectors.send(new DeleteVectorsCommand({ ...this.target(space), keys: batch }));
      const manifest: PartManifest = { keys, dimension };
      await this.s3.send(new PutObjectCommand({ Bucket: this.layout.manifestBucket, Key: manifestKey, Body: JSON.stringify(manifest), ContentType: 'application/json' }));
    } catch (e) {
      throw failed('PutVectors', e);
    }
  }

  async search(space: VectorSpace, query: VectorQuery): Promise<VectorHit[]> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_VECTOR_HITS) {
      throw new VidxError('VECTOR_QUERY_INVALID', `limit must be a whole number from 1 to ${MAX_VECTOR_HITS}, not ${query.limit}`);
    }
    const hits: VectorHit[] = [];
    let nextToken: string | undefined;
    // Old revisions are dropped once a replacement is indexed, so the revision filter rarely
    // removes anything: pages are read until enough current hits are in.
    try {
      do {
        const r = await this.vectors.send(
          new QueryVectorsCommand({
            ...this.target(space),
            queryVector: { float32: Array.from(normalized(query.vector)) },
            topK: Math.min(QUERY_PAGE, query.limit),
            ...(query.videoId !== undefined ? { filter: { videoId: { $eq: query.videoId } } } : {}),
            returnMetadata: true,
            returnDistance: true,
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        for (const v of r.vectors ?? []) {
          const moment = momentOf(v.metadata);
          if (query.revisions && query.revisions.get(moment.videoId) !== moment.revision) continue;
          hits.push({ moment, similarity: 1 - (v.distance ?? 1) });
        }
        nextToken = r.nextToken;
      } while (nextToken && hits.length < query.limit);
    } catch (e) {
      // A query vector of another length is S3 Vectors' ValidationException: the port answers nothing.
      if ((e as Error).name === 'ValidationException' && /dimension/i.test((e as Error).message)) return [];
      throw failed('QueryVectors', e);
    }
    return hits.sort((a, b) => b.similarity - a.similarity).slice(0, query.limit);
  }

  async vectorsOf(space: VectorSpace, videoId: string, revision?: string): Promise<MomentVector[]> {
    const out: MomentVector[] = [];
    for (const key of await this.listManifests(this.manifestKey(space, videoId, revision))) {
      const manifest = await this.readManifest(key);
      for (const batch of chunks(manifest?.keys ?? [], GET_BATCH)) {
        try {
          const r = await this.vectors.send(new GetVectorsCommand({ ...this.target(space), keys: batch, returnData: true, returnMetadata: true }));
          for (const v of r.vectors ?? []) {
            const data = v.data && 'float32' in v.data ? v.data.float32 : undefined;
            if (data) out.push({ moment: momentOf(v.metadata), vector: Float32Array.from(data) });
          }
        } catch (e) {
          throw failed('GetVectors', e);
        }
      }
    }
    return out.sort((a, b) => a.moment.start - b.moment.start || (a.moment.person ?? -1) - (b.moment.person ?? -1));
  }

  async videos(space: VectorSpace): Promise<string[]> {
    const prefix = `${this.layout.manifestPrefix}${space}/`;
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.layout.manifestBucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const p of r.CommonPrefixes ?? []) ids.push(decodeURIComponent(p.Prefix!.slice(prefix.length, -1)));
      token = r.NextContinuationToken;
    } while (token);
    return ids.sort();
  }

  async removeVideo(videoId: string, keepRevision?: string): Promise<number> {
    let dropped = 0;
    for (const space of VECTOR_SPACES) {
      const keep = keepRevision === undefined ? undefined : this.manifestKey(space, videoId, keepRevision);
      const manifests = (await this.listManifests(this.manifestKey(space, videoId))).filter((k) => keep === undefined || !k.startsWith(keep));
      for (const key of manifests) {
        const keys = (await this.readManifest(key))?.keys ?? [];
        try {
          for (const batch of chunks(keys, DELETE_BATCH)) await this.vectors.send(new DeleteVectorsCommand({ ...this.target(space), keys: batch }));
        } catch (e) {
          throw failed('DeleteVectors', e);
        }
        dropped += keys.length;
      }
      for (const batch of chunks(manifests, 1000)) {
        await this.s3.send(new DeleteObjectsCommand({ Bucket: this.layout.manifestBucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
      }
    }
    return dropped;
  }

  private async listManifests(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.layout.manifestBucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of r.Contents ?? []) if (o.Key?.endsWith('.json')) keys.push(o.Key);
      token = r.NextContinuationToken;
    } while (token);
    return keys;
  }

  private async readManifest(key: string): Promise<PartManifest | undefined> {
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.layout.manifestBucket, Key: key }));
      return PartManifestSchema.parse(JSON.parse(await r.Body!.transformToString()));
    } catch (e) {
      if ((e as Error).name === 'NoSuchKey' || (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      if (e instanceof z.ZodError || e instanceof SyntaxError) {
        throw new VidxError('VECTOR_STORE_DAMAGED', `s3://${this.layout.manifestBucket}/${key} is not a part manifest vidx wrote`, { cause: e });
      }
      throw failed('reading a part manifest', e);
    }
  }
}

function metadataOf(m: Moment): Record<string, string | number> {
  return { videoId: m.videoId, revision: m.revision, kind: m.kind, start: m.start, end: m.end, ...(m.person !== undefined ? { person: m.person } : {}) };
}

function momentOf(metadata: unknown): Moment {
  const parsed = MetadataSchema.safeParse(metadata);
  if (!parsed.success) throw new VidxError('VECTOR_STORE_DAMAGED', `a vector's metadata is not a moment vidx wrote: ${JSON.stringify(metadata).slice(0, 200)}`);
  const { person, ...rest } = parsed.data;
  return person === undefined ? rest : { ...rest, person };
}
