/**
 * The S3 Vectors adapter through the AWS SDK over HTTP: vectors in an S3 Vectors emulator
 * (test/helpers/s3vectors-emulator.ts), each part's key list in S3 (fauxqs), the same contract as
 * every vector index, plus the request limits S3 Vectors sets.
 */
import { CreateIndexCommand, CreateVectorBucketCommand, type S3VectorsClient } from '@aws-sdk/client-s3vectors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3VectorsClient } from '../../adapters/clients.ts';
import { NON_FILTERABLE_METADATA, S3VectorsIndex, vectorIndexNames } from '../../adapters/s3-vectors.ts';
import { DEFAULTS } from '../../core/names.ts';
import { VECTOR_SPACES, type VectorSpace } from '../../core/vectors/port.ts';
import { startTestStack, type TestStack } from '../helpers/emulators.ts';
import { startS3VectorsEmulator, type S3VectorsEmulator } from '../helpers/s3vectors-emulator.ts';
import { vectorIndexContract, vectorOf, windowMoments } from './contract.ts';

let stack: TestStack;
let emulator: S3VectorsEmulator;
let client: S3VectorsClient;
let opened = 0;

beforeAll(async () => {
  [stack, emulator] = await Promise.all([startTestStack(), startS3VectorsEmulator()]);
  client = createS3VectorsClient({ region: DEFAULTS.region }, emulator.endpoint);
}, 120_000);
afterAll(async () => {
  client?.destroy();
  await emulator?.close();
  await stack?.stop();
});

/** The contract writes 16 values per window.clip vector and 8 per person vector. */
const DIMENSIONS: Record<VectorSpace, number> = { 'window.clip': 16, 'window.action': 16, 'person.clip': 8, 'person.action': 8 };

async function freshIndex(): Promise<S3VectorsIndex> {
  return new S3VectorsIndex(client, stack.clients.s3, await freshLayout());
}

async function freshLayout() {
  const vectorBucket = `vidx-vectors-${++opened}`;
  const indexes = vectorIndexNames();
  await client.send(new CreateVectorBucketCommand({ vectorBucketName: vectorBucket }));
  for (const space of VECTOR_SPACES) {
    await client.send(
      new CreateIndexCommand({
        vectorBucketName: vectorBucket,
        indexName: indexes[space],
        dataType: 'float32',
        dimension: DIMENSIONS[space],
        distanceMetric: 'cosine',
        metadataConfiguration: { nonFilterableMetadataKeys: [...NON_FILTERABLE_METADATA] },
      }),
    );
  }
  return { vectorBucket, indexes, manifestBucket: stack.resources.bucket, manifestPrefix: `vectors-${opened}/` };
}

vectorIndexContract('S3 Vectors (SDK over HTTP)', async () => {
  const layout = await freshLayout();
  return { index: new S3VectorsIndex(client, stack.clients.s3, layout), reopen: () => new S3VectorsIndex(client, stack.clients.s3, layout), close: async () => {} };
}, { reopens: true });

describe('the S3 Vectors adapter within S3 Vectors limits', () => {
  it('puts a 1,200-window part in batches of at most 500 and reads it back in gets of at most 100', async () => {
    const index = await freshIndex();
    const seeds = Array.from({ length: 1200 }, (_, i) => i + 1);
    const before = { put: emulator.calls.get('PutVectors') ?? 0, get: emulator.calls.get('GetVectors') ?? 0 };
    await index.putPart('window.clip', { videoId: 'long', revision: 'r', part: 0 }, windowMoments('long', 'r', seeds));
    expect((emulator.calls.get('PutVectors') ?? 0) - before.put).toBe(3);
    const back = await index.vectorsOf('window.clip', 'long');
    expect(back).toHaveLength(1200);
    expect((emulator.calls.get('GetVectors') ?? 0) - before.get).toBe(12);
  }, 60_000);

  it('pages QueryVectors past 100 hits for a larger limit', async () => {
    const index = await freshIndex();
    await index.putPart('window.clip', { videoId: 'v', revision: 'r', part: 0 }, windowMoments('v', 'r', Array.from({ length: 250 }, (_, i) => i + 1)));
    const hits = await index.search('window.clip', { vector: vectorOf(3), limit: 230 });
    expect(hits).toHaveLength(230);
    expect(hits[0]!.moment.start).toBe(4);
  });
});
