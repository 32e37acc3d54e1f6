/**
 * `vidx local` on a --data folder written by the previous index layout (one GSI1 over
 * GSI1PK/GSI1SK with every attribute projected, unsharded labels): the start migrates the table
 * on disk, and everything it held is found through the index port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startEmulators } from '../../cli/local/emulators.ts';
import { ensureResources } from '../../cli/local/resources.ts';
import { createClients, type AwsClients } from '../../adapters/clients.ts';
import { createIndex } from '../../adapters/dynamo-index/create.ts';
import { layoutOf, stagingName } from '../../adapters/dynamo-index/migrate.ts';
import { BUCKET, DEFAULTS, TABLE } from '../../core/names.ts';
import { revisionId } from '../../core/records.ts';

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vidx-migrate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function withStack<T>(fn: (clients: AwsClients) => Promise<T>): Promise<T> {
  const emulators = await startEmulators({ dynamoPath: join(dir, 'dynamodb') });
  const clients = createClients({ region: DEFAULTS.region, endpoint: emulators.endpoint, dynamoEndpoint: emulators.dynamoEndpoint });
  try {
    return await fn(clients);
  } finally {
    clients.destroy();
    await emulators.stop();
  }
}

const A = 'aaaaaaaa000000000001';
const B = 'bbbbbbbb000000000002';

/** The items exactly as the previous layout stored them. */
const OLD_ITEMS = [
  {
    PK: `VIDEO#${A}`, SK: 'META', GSI1PK: 'VIDEOS', GSI1SK: `2026-11-01T10:00:00.000Z#${A}`, videoId: A, bucket: 'vidx-videos', key: 'videos/a.mp4', etag: 'ea',
    status: 'indexed', model: 'slowfast_r50', trained: false, clipsTotal: 1, doneClips: new Set([0]), segments: 3, duration: 10,
    createdAt: '2026-11-01T09:00:00.000Z', updatedAt: '2026-11-01T10:00:00.000Z', indexedAt: '2026-11-01T10:00:00.000Z', clipSeconds: 60, clipStarts: [0],
  },
  { PK: `VIDEO#${A}`, SK: `CLIP#${revisionId('ea')}#000000`, videoId: A, etag: 'ea', index: 0, start: 0, end: 60, windows: '[]', createdAt: '2026-11-01T09:30:00.000Z' },
  { PK: `VIDEO#${A}`, SK: 'SEG#0000000000#dance', GSI1PK: 'LABEL#dance', GSI1SK: `0.200000#${A}#0000000000`, videoId: A, key: 'videos/a.mp4', etag: 'ea', label: 'dance', start: 0, end: 4, score: 0.8, mean: 0.7, windows: 2 },
  { PK: `VIDEO#${A}`, SK: 'SEG#0000002000#stand#P000001', GSI1PK: 'LABEL#stand', GSI1SK: `0.100000#${A}#0000002000`, videoId: A, key: 'videos/a.mp4', etag: 'ea', label: 'stand', start: 2, end: 5, score: 0.9, mean: 0.9, windows: 3, kind: 'person', person: 1, boxes: [{ t: 2.5, box: [0, 0, 0.5, 1] }] },
  { PK: `VIDEO#${A}`, SK: 'SEG#0000002000#stand#P000002', GSI1PK: 'LABEL#stand', GSI1SK: `0.100000#${A}#0000002000`, videoId: A, key: 'videos/a.mp4', etag: 'ea', label: 'stand', start: 2, end: 5, score: 0.9, mean: 0.9, windows: 3, kind: 'person', person: 2, boxes: [{ t: 2.5, box: [0.5, 0, 1, 1] }] },
  {
    PK: `VIDEO#${B}`, SK: 'META', GSI1PK: 'VIDEOS', GSI1SK: `2026-11-02T10:00:00.000Z#${B}`, videoId: B, bucket: 'vidx-videos', key: 'videos/b.mp4', etag: 'eb',
    status: 'processing', model: 'slowfast_r50', trained: false, clipsTotal: 2, doneClips: new Set([0]), duration: 100,
    createdAt: '2026-11-02T09:00:00.000Z', updatedAt: '2026-11-02T10:00:00.000Z', clipSeconds: 60, clipStarts: [0, 60], enqueued: true,
  },
];

describe('vidx local on a data folder of the previous index layout', () => {
  it('migrates the table on start; every video, timeline and search answer is there, through the port', async () => {
    await withStack(async (clients) => {
      await clients.dynamo.send(
        new CreateTableCommand({
          TableName: TABLE.name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: ['PK', 'SK', 'GSI1PK', 'GSI1SK'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
          KeySchema: [{ AttributeName: 'PK', KeyType: 'HASH' }, { AttributeName: 'SK', KeyType: 'RANGE' }],
          GlobalSecondaryIndexes: [{ IndexName: 'GSI1', KeySchema: [{ AttributeName: 'GSI1PK', KeyType: 'HASH' }, { AttributeName: 'GSI1SK', KeyType: 'RANGE' }], Projection: { ProjectionType: 'ALL' } }],
        }),
      );
      await clients.doc.send(new BatchWriteCommand({ RequestItems: { [TABLE.name]: OLD_ITEMS.map((Item) => ({ PutRequest: { Item } })) } }));
      expect(await layoutOf(clients, TABLE.name)).toBe(1);
    });

    await withStack(async (clients) => {
      const resources = await ensureResources(clients, { bucket: BUCKET.localName });
      expect(resources.migrated).toEqual({ from: 1, to: 2, items: OLD_ITEMS.length });
      expect(await layoutOf(clients, TABLE.name)).toBe(2);
      expect(await layoutOf(clients, stagingName(TABLE.name))).toBeUndefined();
      const index = createIndex(clients, resources.tableName);
      expect(await index.getVideo(A)).toMatchObject({ status: 'indexed', segments: 3, doneClips: [0], clipStarts: [0] });
      expect((await index.listVideos({ limit: 10 })).items.map((v) => v.videoId)).toEqual([B, A]);
      expect((await index.unfinishedBefore('2026-12-01T00:00:00.000Z', 10)).map((v) => v.videoId)).toEqual([B]);
      const timeline = (await index.timelinePage(A, { limit: 10 })).items;
      expect(timeline.map((s) => [s.label, s.person])).toEqual([['dance', undefined], ['stand', 1], ['stand', 2]]);
      const stand = await index.searchLabel({ label: 'stand', after: undefined, minScore: 0, videoId: undefined, want: 1 });
      expect(stand.items.map((h) => h.person)).toEqual([1]);
      const next = await index.searchLabel({ label: 'stand', after: stand.items[0]!.position, minScore: 0, videoId: undefined, want: 1 });
      expect(next.items.map((h) => h.person)).toEqual([2]); // two people at one start no longer collide
      expect((await index.searchLabel({ label: 'dance', after: undefined, minScore: 0.5, videoId: undefined, want: 5 })).items.map((h) => h.videoId)).toEqual([A]);
      expect((await index.clipsOf(A, 'ea')).map((c) => c.index)).toEqual([0]);
    });

    // The next start finds the current layout and leaves it be.
    await withStack(async (clients) => {
      const resources = await ensureResources(clients, { bucket: BUCKET.localName });
      expect(resources.migrated).toBeUndefined();
      expect((await createIndex(clients, resources.tableName).allVideos()).map((v) => v.videoId)).toEqual([B, A]);
    });
  });
});
