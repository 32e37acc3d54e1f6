/**
 * The embedded vector index of `vidx local`: exact search (core/vectors/memory.ts) over files.
 *
 * Layout, under the root folder: `<space>/<videoId hex>/<revision>.<part>.vec`, one file per part
 * (clip) of a video revision, written to a temporary name and renamed, so a reader never sees half
 * a file and a redelivered clip replaces its own file. The worker writes from its own process and
 * the API reads from another: before each read the store looks at every video folder's mtime and
 * reloads only those that changed, so a query costs one stat per video plus the dot products.
 *
 * A file: "VIDXVEC1", a uint32 (LE) header length, the JSON header { part, dimension, moments },
 * zero padding to a multiple of 4, then moments.length x dimension float32 (LE) unit vectors.
 */
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { VidxError } from '../core/errors.ts';
import { MemoryVectorIndex, holdPart, type HeldPart } from '../core/vectors/memory.ts';
import { VECTOR_SPACES, type MomentVector, type VectorHit, type VectorPart, type VectorQuery, type VectorSpace } from '../core/vectors/port.ts';

const MAGIC = Buffer.from('VIDXVEC1', 'ascii');
const EXTENSION = '.vec';
const SETTLE_MS = 2000;

const HeaderSchema = z.object({
  videoId: z.string().min(1),
  revision: z.string().min(1),
  part: z.number().int().nonnegative(),
  dimension: z.number().int().nonnegative(),
  moments: z.array(
    z.object({
      videoId: z.string().min(1),
      revision: z.string().min(1),
      kind: z.enum(['window', 'person']),
      start: z.number(),
      end: z.number(),
      person: z.number().int().optional(),
    }),
  ),
});

/** Video ids and revisions become folder and file names: hex keeps any id safe on any file system. */
const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

export function encodePart(held: HeldPart): Buffer {
  const header = Buffer.from(JSON.stringify({ videoId: held.videoId, revision: held.revision, part: held.part, dimension: held.dimension, moments: held.moments }), 'utf8');
  const lead = MAGIC.length + 4 + header.length;
  const padded = Math.ceil(lead / 4) * 4;
  const out = Buffer.alloc(padded + held.unit.byteLength);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(header.length, MAGIC.length);
  header.copy(out, MAGIC.length + 4);
  Buffer.from(held.unit.buffer, held.unit.byteOffset, held.unit.byteLength).copy(out, padded);
  return out;
}

export function decodePart(bytes: Buffer, file: string): HeldPart {
  const damaged = (why: string) => new VidxError('VECTOR_STORE_DAMAGED', `${file} is not a vector file vidx wrote: ${why}`);
  if (bytes.length < MAGIC.length + 4 || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw damaged('no VIDXVEC1 header');
  const headerLength = bytes.readUInt32LE(MAGIC.length);
  const lead = MAGIC.length + 4 + headerLength;
  if (lead > bytes.length) throw damaged('truncated header');
  let header: z.infer<typeof HeaderSchema>;
  try {
    header = HeaderSchema.parse(JSON.parse(bytes.subarray(MAGIC.length + 4, lead).toString('utf8')));
  } catch (e) {
    throw damaged(`bad header (${(e as Error).message.slice(0, 200)})`);
  }
  const padded = Math.ceil(lead / 4) * 4;
  const values = header.moments.length * header.dimension;
  if (bytes.length !== padded + values * 4) throw damaged(`holds ${bytes.length - padded} bytes of vectors, not ${values * 4}`);
  const unit = new Float32Array(values);
  Buffer.from(unit.buffer).set(bytes.subarray(padded));
  return { videoId: header.videoId, revision: header.revision, part: header.part, dimension: header.dimension, moments: header.moments, unit };
}

interface VideoFolder {
  mtimeMs: number;
  parts: HeldPart[];
}

export class LocalVectorIndex extends MemoryVectorIndex {
  /** What is loaded from disk, per space and video folder. */
  private readonly loaded = new Map<VectorSpace, Map<string, VideoFolder>>(VECTOR_SPACES.map((s) => [s, new Map()]));

  /**
   * @param onDamaged told of a file that cannot be read; the file is left out of answers (and
   *   named, with what to do) instead of failing every query.
   */
  constructor(
    private readonly root: string,
    private readonly onDamaged: (error: VidxError) => void = () => {},
  ) {
    super();
  }

  override async putPart(space: VectorSpace, part: VectorPart, vectors: readonly MomentVector[]): Promise<void> {
    const held = holdPart(part, vectors);
    const folder = join(this.root, space, hex(part.videoId));
    const file = join(folder, `${hex(part.revision)}.${part.part}${EXTENSION}`);
    try {
      await mkdir(folder, { recursive: true });
      if (held.moments.length === 0) {
        await rm(file, { force: true });
        return;
      }
      const temp = `${file}.${process.pid}.tmp`;
      await writeFile(temp, encodePart(held));
      await rename(temp, file);
    } catch (e) {
      throw new VidxError('VECTOR_STORE_FAILED', `could not write ${file}: ${(e as Error).message}`, { cause: e });
    }
  }

  override async search(space: VectorSpace, query: VectorQuery): Promise<VectorHit[]> {
    await this.refresh(space);
    return super.search(space, query);
  }

  override async vectorsOf(space: VectorSpace, videoId: string, revision?: string): Promise<MomentVector[]> {
    await this.refresh(space);
    return super.vectorsOf(space, videoId, revision);
  }

  override async videos(space: VectorSpace): Promise<string[]> {
    await this.refresh(space);
    return super.videos(space);
  }

  override async removeVideo(videoId: string, keepRevision?: string): Promise<number> {
    let dropped = 0;
    for (const space of VECTOR_SPACES) {
      const folder = join(this.root, space, hex(videoId));
      const files = await readdir(folder).catch(() => [] as string[]);
      const keep = keepRevision === undefined ? undefined : `${hex(keepRevision)}.`;
      for (const name of files) {
        if (!name.endsWith(EXTENSION) || (keep !== undefined && name.startsWith(keep))) continue;
        const path = join(folder, name);
        const part = await this.readPart(path);
        dropped += part?.moments.length ?? 0;
        await rm(path, { force: true });
      }
    }
    await Promise.all(VECTOR_SPACES.map((s) => this.refresh(s)));
    return dropped;
  }

  /** Brings the in-memory parts of a space in line with its files. */
  private async refresh(space: VectorSpace): Promise<void> {
    const dir = join(this.root, space);
    const loaded = this.loaded.get(space)!;
    const videos = await readdir(dir).catch(() => [] as string[]);
    const present = new Set(videos);
    for (const gone of [...loaded.keys()].filter((v) => !present.has(v))) this.unload(space, gone);
    for (const video of videos) {
      const folder = join(dir, video);
      const info = await stat(folder).catch(() => undefined);
      if (!info?.isDirectory()) continue;
      if (loaded.get(video)?.mtimeMs === info.mtimeMs) continue;
      this.unload(space, video);
      const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith(EXTENSION));
      const parts = (await Promise.all(names.map((n) => this.readPart(join(folder, n))))).filter((p): p is HeldPart => p !== undefined);
      for (const p of parts) this.hold(space, p);
      // Folder times are coarse (a few ms on ext4): a folder changed just now may change again
      // within the same tick unseen, so it is read again next time until it has settled.
      const settled = Date.now() - info.mtimeMs > SETTLE_MS;
      loaded.set(video, { mtimeMs: settled ? info.mtimeMs : Number.NaN, parts });
    }
  }

  private unload(space: VectorSpace, video: string): void {
    const folder = this.loaded.get(space)!.get(video);
    if (!folder) return;
    for (const p of folder.parts) this.hold(space, { ...p, moments: [], unit: new Float32Array(0) });
    this.loaded.get(space)!.delete(video);
  }

  private async readPart(path: string): Promise<HeldPart | undefined> {
    try {
      return decodePart(await readFile(path), path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      const error = e instanceof VidxError ? e : new VidxError('VECTOR_STORE_DAMAGED', `${path} cannot be read: ${(e as Error).message}`, { cause: e });
      this.onDamaged(error);
      return undefined;
    }
  }
}
