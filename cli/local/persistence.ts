/**
 * What `vidx local` keeps on disk so a restart finishes what was in flight (issue 11). fauxqs
 * 1.9.2 keeps S3 objects and SQS messages in memory only (no persistence option), so vidx
 * persists around it:
 *
 * - Uploads: every object an S3 event names is copied to <data>/objects/<videoId>.bin (with its
 *   bucket and key in <videoId>.json) before the segmenter runs; at start the copies are put back
 *   into the emulated bucket. Each copy is checked first (its size and MD5, recorded when it was
 *   kept, and the S3 etag when that is an MD5): a damaged copy, or an unreadable <id>.json, is
 *   moved to <data>/objects/quarantine/ and its video, if it said indexed, is marked failed
 *   (KEPT_COPY_DAMAGED: upload it again) while the rest goes on. A copy without a video in the
 *   index (the index was moved aside) is segmented again. The copies of failed videos are pruned
 *   once older than the retention (default 24 h), so they are not put back into memory for ever.
 * - A full disk while keeping an upload is DISK_FULL (507 on the upload), never a crash.
 * - Pending work: not the queue's messages but the index (dynalite, on disk): at start every
 *   video whose revision is unfinished is re-indexed (core/pipeline/reindex.ts): its missing clips
 *   are re-enqueued (or, recorded but never enqueued, planned and sent again), and a revision made
 *   for another model than the one the stack now runs is indexed again with it. A finished
 *   revision whose event was never delivered gets it now.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { z } from 'zod';
import { videoIdFor } from '../../core/records.ts';
import { eventStatusOf, isFinal, videoEventId } from '../../core/events/video-event.ts';
import { VidxError, isVidxError } from '../../core/errors.ts';
import { reindexVideo, type ReindexOutcome } from '../../core/pipeline/reindex.ts';
import { segmentObject, type SegmenterDeps, type SegmentOutcome } from '../../core/pipeline/segment.ts';
import type { VideoIndex } from '../../core/index/port.ts';
import { decodeS3Key } from '../../lambdas/segmenter/handler.ts';
import { DEFAULT_KEEP_FAILED_HOURS } from './retention.ts';

/** What <videoId>.json records of a kept upload (size, md5, etag, keptAt: absent in older data folders). */
const KeptSchema = z.object({
  bucket: z.string().min(1),
  key: z.string().min(1),
  size: z.number().int().nonnegative().optional(),
  md5: z.string().regex(/^[0-9a-f]{32}$/).optional(),
  etag: z.string().optional(),
  keptAt: z.string().optional(),
});
type Kept = z.infer<typeof KeptSchema>;

export interface KeptObject extends Kept {
  videoId: string;
  /** The .bin file. */
  file: string;
}


/**
 * The objects an S3 event names (bucket, decoded key), read leniently: a record that is not an
 * S3 record, or whose key S3 could not have encoded, is left out (the segmenter reports it).
 */
export function objectsOfEvent(event: unknown): { bucket: string; key: string }[] {
  const records = (event as { Records?: unknown } | null)?.Records;
  if (!Array.isArray(records)) return [];
  const out: { bucket: string; key: string }[] = [];
  for (const r of records as ({ s3?: { bucket?: { name?: unknown }; object?: { key?: unknown } } } | null)[]) {
    const bucket = r?.s3?.bucket?.name;
    const raw = r?.s3?.object?.key;
    if (typeof bucket !== 'string' || typeof raw !== 'string') continue;
    try {
      out.push({ bucket, key: decodeS3Key(raw) });
    } catch (_e) {
      // not S3's key encoding: the segmenter answers BAD_KEY_ENCODING
    }
  }
  return out;
}

/** A write that failed for want of space is DISK_FULL, naming the file; anything else as it was. */
export function diskError(e: unknown, file: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new VidxError('DISK_FULL', `no space left on the device writing ${file}`, { cause: e, hint: `free space on the disk that holds ${file}, then upload again` });
  }
  return e;
}

export class LocalObjectKeeper {
  readonly dir: string;
  readonly quarantineDir: string;
  constructor(dataDir: string, private readonly s3: S3Client) {
    this.dir = join(dataDir, 'objects');
    this.quarantineDir = join(this.dir, 'quarantine');
    mkdirSync(this.dir, { recursive: true });
  }

  /** Copies the objects an S3 event names to disk (the event is then handled as usual). A full disk throws DISK_FULL. */
  async keepFromEvent(event: unknown): Promise<void> {
    for (const { bucket, key } of objectsOfEvent(event)) {
      try {
        await this.keep(bucket, key);
      } catch (e) {
        if (isVidxError(e, 'DISK_FULL')) throw e;
        // a vanished object: the segmenter says so
      }
    }
  }

  async keep(bucket: string, key: string): Promise<void> {
    const id = videoIdFor(bucket, key);
    const r = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const tmp = join(this.dir, `${id}.bin.part`);
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        md5.update(chunk);
        size += chunk.length;
        done(null, chunk);
      },
    });
    try {
      await pipeline(r.Body as Readable, count, createWriteStream(tmp));
      const meta: Kept = { bucket, key, size, md5: md5.digest('hex'), etag: (r.ETag ?? '').replace(/^"|"$/g, ''), keptAt: new Date().toISOString() };
      writeFileSync(`${tmp}.json`, JSON.stringify(meta));
      renameSync(tmp, join(this.dir, `${id}.bin`));
      renameSync(`${tmp}.json`, join(this.dir, `${id}.json`));
    } catch (e) {
      rmSync(tmp, { force: true });
      rmSync(`${tmp}.json`, { force: true });
      throw diskError(e, tmp);
    }
  }

  /** The kept objects; an unreadable <id>.json is quarantined (returned in `quarantined`). */
  list(): { kept: KeptObject[]; quarantined: { file: string; why: string }[] } {
    const kept: KeptObject[] = [];
    const quarantined: { file: string; why: string }[] = [];
    for (const f of readdirSync(this.dir).filter((x) => x.endsWith('.json') && /^[0-9a-f]{20}\.json$/.test(x))) {
      const videoId = f.slice(0, -'.json'.length);
      const file = join(this.dir, f);
      let parsed: ReturnType<typeof KeptSchema.safeParse>;
      try {
        parsed = KeptSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
      } catch (e) {
        parsed = { success: false, error: new z.ZodError([{ code: 'custom', path: [], message: e instanceof Error ? e.message : String(e), input: undefined }]) } as ReturnType<typeof KeptSchema.safeParse>;
      }
      if (!parsed.success || videoIdFor(parsed.data.bucket, parsed.data.key) !== videoId) {
        const why = parsed.success ? 'it names another object than its file name says' : `not a kept-object record (${parsed.error.issues[0]?.message ?? 'invalid'})`;
        this.quarantine(videoId, why);
        quarantined.push({ file, why });
        continue;
      }
      kept.push({ ...parsed.data, videoId, file: join(this.dir, `${videoId}.bin`) });
    }
    return { kept, quarantined };
  }

  /** Why the copy is not the object it was (missing, another size, another MD5), or undefined when it is. */
  async damage(o: KeptObject): Promise<string | undefined> {
    if (!existsSync(o.file)) return 'its .bin file is missing';
    const size = statSync(o.file).size;
    if (o.size === undefined) return size === 0 ? 'its .bin file is empty' : undefined; // an older data folder: no size recorded
    if (size !== o.size) return `its .bin file has ${size} bytes, not the ${o.size} kept`;
    const md5 = createHash('md5');
    await pipeline(createReadStream(o.file), md5);
    const actual = md5.digest('hex');
    if (o.md5 !== undefined && actual !== o.md5) return `its .bin file's MD5 is ${actual}, not the ${o.md5} kept`;
    if (o.etag && /^[0-9a-f]{32}$/.test(o.etag) && o.etag !== actual) return `its .bin file's MD5 is ${actual}, not the object's etag ${o.etag}`;
    return undefined;
  }

  /** Moves a kept object's files to quarantine/ (with why, in a .why file beside them). */
  quarantine(videoId: string, why: string): void {
    mkdirSync(this.quarantineDir, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    for (const ext of ['json', 'bin']) {
      const from = join(this.dir, `${videoId}.${ext}`);
      if (existsSync(from)) renameSync(from, join(this.quarantineDir, `${videoId}.${stamp}.${ext}`));
    }
    writeFileSync(join(this.quarantineDir, `${videoId}.${stamp}.why`), `${why}\n`);
  }

  /** Deletes a kept object's files (pruning). */
  remove(videoId: string): void {
    for (const ext of ['json', 'bin']) rmSync(join(this.dir, `${videoId}.${ext}`), { force: true });
  }

  /** Puts a kept object back into the emulator unless it has it. Returns whether it did. */
  async restore(o: KeptObject): Promise<boolean> {
    const there = await this.s3.send(new HeadObjectCommand({ Bucket: o.bucket, Key: o.key })).then(() => true, () => false);
    if (there) return false;
    // Multipart for large files: the emulator refuses single PUTs over ~11 MiB.
    await new Upload({ client: this.s3, params: { Bucket: o.bucket, Key: o.key, Body: createReadStream(o.file), ContentLength: statSync(o.file).size } }).done();
    return true;
  }

  /** The emulator's etag and size of a kept object (once restored). */
  async head(o: Pick<KeptObject, 'bucket' | 'key'>): Promise<{ etag: string; size: number }> {
    const h = await this.s3.send(new HeadObjectCommand({ Bucket: o.bucket, Key: o.key }));
    return { etag: (h.ETag ?? '').replace(/^"|"$/g, ''), size: h.ContentLength ?? 0 };
  }

  /** Drops a pruned object from the emulator too (it holds objects in memory). */
  async forget(o: Pick<KeptObject, 'bucket' | 'key' | 'videoId'>): Promise<void> {
    this.remove(o.videoId);
    await this.s3.send(new DeleteObjectCommand({ Bucket: o.bucket, Key: o.key })).catch(() => undefined);
  }
}

export interface Recovery {
  restored: number;
  resumed: ReindexOutcome[];
  /** Final videos whose event was not delivered: handed to the event outbox. */
  notified: number;
  /** Videos that could not be resumed (their object is gone, say), with why. */
  failed: { videoId: string; error: string }[];
  /** Kept files moved to quarantine/, with why. */
  quarantined: { file: string; why: string }[];
  /** Copies of failed videos deleted (older than the retention). */
  pruned: string[];
  /** Kept uploads without a video in the index, segmented again. */
  segmented: SegmentOutcome[];
}

export interface RecoveryOptions {
  /** Hours the copy of a failed video is kept (default DEFAULT_KEEP_FAILED_HOURS). */
  keepFailedHours?: number | undefined;
  /** Told of every video whose event may be due (the event outbox). */
  watch?: (videoId: string) => void;
  now?: () => Date;
}

/** Deletes the kept copies of failed videos older than the retention; returns their ids. */
export async function pruneFailedCopies(keeper: LocalObjectKeeper, store: VideoIndex, o: RecoveryOptions = {}, copies: readonly KeptObject[] = keeper.list().kept): Promise<string[]> {
  const pruned: string[] = [];
  const before = (o.now?.() ?? new Date()).getTime() - (o.keepFailedHours ?? DEFAULT_KEEP_FAILED_HOURS) * 3600_000;
  for (const kept of copies) {
    const video = await store.getVideo(kept.videoId);
    if (video?.status === 'failed' && Date.parse(video.updatedAt) < before) {
      await keeper.forget(kept);
      pruned.push(kept.videoId);
    }
  }
  return pruned;
}

/** Finishes what a previous run left in flight (see the file comment). */
export async function recoverLocalWork(keeper: LocalObjectKeeper, store: VideoIndex, deps: SegmenterDeps, o: RecoveryOptions = {}): Promise<Recovery> {
  const listing = keeper.list();
  const { quarantined } = listing;
  const pruned = await pruneFailedCopies(keeper, store, o, listing.kept);
  const kept = listing.kept.filter((k) => !pruned.includes(k.videoId));
  for (const q of quarantined) deps.log.warn('kept object record unreadable: quarantined', { file: q.file, why: q.why, hint: 'upload that video again if it is missing' });
  let restored = 0;
  const orphans: KeptObject[] = [];
  const failed: Recovery['failed'] = [];
  for (const copy of kept) {
    const video = await store.getVideo(copy.videoId);
    const why = await keeper.damage(copy);
    if (why) {
      keeper.quarantine(copy.videoId, why);
      quarantined.push({ file: copy.file, why });
      deps.log.warn('kept object damaged: quarantined', { file: copy.file, why, videoId: copy.videoId });
      if (video && video.status !== 'failed') {
        const message = `the copy kept of ${copy.key} (${copy.file}) is damaged: ${why}; upload the video again`;
        if (await store.markFailed(video.videoId, video.etag, 'KEPT_COPY_DAMAGED', message)) await store.forgetDerived(video.videoId);
        o.watch?.(video.videoId);
      }
      continue;
    }
    try {
      if (await keeper.restore(copy)) restored++;
    } catch (e) {
      failed.push({ videoId: copy.videoId, error: e instanceof Error ? e.message : String(e) });
      continue;
    }
    if (!video) orphans.push(copy);
  }
  // Kept uploads the index does not know (it was moved aside): indexed again, as new uploads.
  const segmented: SegmentOutcome[] = [];
  for (const copy of orphans) {
    try {
      const head = await keeper.head(copy);
      const outcome = await segmentObject(deps, { bucket: copy.bucket, key: copy.key, etag: head.etag, size: head.size });
      segmented.push(outcome);
      if (outcome.outcome === 'ignored') await keeper.forget(copy);
      else o.watch?.(copy.videoId);
    } catch (e) {
      failed.push({ videoId: copy.videoId, error: e instanceof Error ? e.message : String(e) });
    }
  }
  const resumed: ReindexOutcome[] = [];
  let notified = 0;
  for (const video of await store.allVideos()) {
    try {
      if (!isFinal(video.status)) {
        resumed.push(await reindexVideo(deps, video.videoId));
        o.watch?.(video.videoId);
      } else if (video.notifiedEvent !== videoEventId(video.videoId, video.etag, eventStatusOf(video.status)!)) {
        o.watch?.(video.videoId); // delivered in the background: a sink that hangs holds up no start
        notified++;
      }
    } catch (e) {
      // One video's trouble (object gone) must not keep the stack from starting.
      failed.push({ videoId: video.videoId, error: e instanceof Error ? e.message : String(e) });
      deps.log.warn('could not resume a video from the previous run', { videoId: video.videoId, error: String(e) });
    }
  }
  return { restored, resumed, notified, failed, quarantined, pruned, segmented };
}
