import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { VidxError } from '../../core/errors.ts';
import { LocalVectorIndex } from '../../adapters/local-vectors.ts';
import { vectorIndexContract, vectorOf, windowMoments } from './contract.ts';

vectorIndexContract('the embedded local store', async () => {
  const root = await mkdtemp(join(tmpdir(), 'vidx-vectors-'));
  return { index: new LocalVectorIndex(root), reopen: () => new LocalVectorIndex(root), close: () => rm(root, { recursive: true, force: true }) };
}, { reopens: true });

describe('the embedded local store on disk', () => {
  it('leaves a damaged file out of answers and names it, while the rest is found', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vidx-vectors-'));
    try {
      const writer = new LocalVectorIndex(root);
      await writer.putPart('window.clip', { videoId: 'a', revision: 'r', part: 0 }, windowMoments('a', 'r', [1]));
      await writer.putPart('window.clip', { videoId: 'b', revision: 'r', part: 0 }, windowMoments('b', 'r', [1]));
      const folder = join(root, 'window.clip', Buffer.from('b').toString('hex'));
      const [file] = await readdir(folder);
      await writeFile(join(folder, file!), 'not vectors');
      const damaged: VidxError[] = [];
      const reader = new LocalVectorIndex(root, (e) => damaged.push(e));
      const hits = await reader.search('window.clip', { vector: vectorOf(1), limit: 5 });
      expect(hits.map((h) => h.moment.videoId)).toEqual(['a']);
      expect(damaged.map((e) => e.code)).toEqual(['VECTOR_STORE_DAMAGED']);
      expect(damaged[0]!.message).toContain(file!);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('keeps hostile video ids inside its folder', async () => {
    const root = await mkdtemp(join(tmpdir(), 'vidx-vectors-'));
    try {
      const index = new LocalVectorIndex(join(root, 'store'));
      const id = '../../escape';
      await index.putPart('window.clip', { videoId: id, revision: '../r', part: 0 }, windowMoments(id, '../r', [1]));
      expect(await readdir(root)).toEqual(['store']);
      expect((await index.vectorsOf('window.clip', id)).map((v) => v.moment.videoId)).toEqual([id]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
