/**
 * What `vidx local` keeps on disk so a restart finishes what was in flight (issue 11). fauxqs
 * 1.9.2 keeps S3 objects and SQS messages in memory only (no persistence option), so vidx
 * persists around it:
 *
 * - Uploads: every object an S3 event names is copied to <data>/objects/<videoId>.bin (with its
 *   bucket and key in <videoId>.json) before the segmenter runs; at start the copies are put back
 *   into the emulated bucket.
 * - Pending work: not the queue's messages but the index (dynalite, on disk): at start every
 *   video whose revision is unfinished is re-indexed (core/pipeline/reindex.ts): its missing clips
 *   are re-enqueued (or, recorded but never enqueued, planned and sent again), and a revision made
 *   for another model than the one the stack now runs is indexed again with it. A finished
 *   revision whose event was never delivered gets it now.
 */
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { videoIdFor } from '../../core/records.ts';
import { isFinal } from '../../core/events/video-event.ts';
import { reindexVideo, type ReindexOutcome } from '../../core/pipeline/reindex.ts';
import { notifyIfFinal } from '../../core/pipeline/notify.ts';
import type { SegmenterDeps } from '../../core/pipeline/segment.ts';
import type { IndexStore } from '../../adapters/index-store.ts';
import { decodeS3Key } from '../../lambdas/segmenter/handler.ts';

interface Kept {
  bucket: string;
  key: string;
}

export class LocalObjectKeeper {
  readonly dir: string;
  constructor(dataDir: string, private readonly s3: S3Client) {
    this.dir = join(dataDir, 'objects');
    mkdirSync(this.dir, { recursive: true });
  }

  /** Copies the objects an S3 event names to disk (the event is then handled as usual). */
  async keepFromEvent(event: unknown): Promise<void> {
    const records = (event as { Records?: { s3?: { bucket?: { name?: string }; object?: { key?: string } } }[] }).Records ?? [];
    for (const r of records) {
      const bucket = r.s3?.bucket?.name;
      const raw = r.s3?.object?.key;
      if (!bucket || raw === undefined) continue;
      let key: string;
      try {
        key = decodeS3Key(raw);
      } catch (_e) {
        continue; // the segmenter reports the bad key encoding itself
      }
      await this.keep(bucket, key).catch(() => undefined); // a vanished object: the segmenter says so
    }
  }

  async keep(bucket: string, key: string): Promise<void> {
    const id = videoIdFor(bucket, key);
    const r = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const tmp = join(this.dir, `${id}.bin.part`);
    await pipeline(r.Body as Readable, createWriteStream(tmp));
    renameSync(tmp, join(this.dir, `${id}.bin`));
    writeFileSync(join(this.dir, `${id}.json`), JSON.stringify({ bucket, key } satisfies Kept));
  }

  /** Drops the kept copy of a video's object (the video was deleted). */
  forget(videoId: string): void {
    for (const ext of ['.bin', '.bin.part', '.json']) rmSync(join(this.dir, `${videoId}${ext}`), { force: true });
  }

  /** Puts every kept object the emulator does not have back into it. Returns how many. */
  async restore(): Promise<number> {
    let n = 0;
    for (const f of readdirSync(this.dir).filter((x) => x.endsWith('.json'))) {
      const id = f.slice(0, -'.json'.length);
      const bin = join(this.dir, `${id}.bin`);
      if (!existsSync(bin)) continue;
      const { bucket, key } = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as Kept;
      const there = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
      if (there) continue;
      // Multipart for large files: the emulator refuses single PUTs over ~11 MiB.
      await new Upload({ client: this.s3, params: { Bucket: bucket, Key: key, Body: createReadStream(bin), ContentLength: statSync(bin).size } }).done();
      n++;
    }
    return n;
  }
}

export interface Recovery {
  restored: number;
  resumed: ReindexOutcome[];
  notified: number;
  /** Videos that could not be resumed (their object is gone, say), with why. */
  failed: { videoId: string; error: string }[];
}

/** Finishes what a previous run left in flight (see the file comment). */
export async function recoverLocalWork(keeper: LocalObjectKeeper, store: IndexStore, deps: SegmenterDeps): Promise<Recovery> {
  const restored = await keeper.restore();
  const resumed: ReindexOutcome[] = [];
  const failed: Recovery['failed'] = [];
  let notified = 0;
  for (const video of await store.listVideos()) {
    try {
      if (!isFinal(video.status)) {
        resumed.push(await reindexVideo(deps, video.videoId));
      } else if (deps.events && (await notifyIfFinal({ store, sinks: deps.events.sinks, log: deps.log }, video))) {
        notified++;
      }
    } catch (e) {
      // One video's trouble (object gone, webhook down) must not keep the stack from starting.
      failed.push({ videoId: video.videoId, error: e instanceof Error ? e.message : String(e) });
      deps.log.warn('could not resume a video from the previous run', { videoId: video.videoId, error: String(e) });
    }
  }
  return { restored, resumed, notified, failed };
}
