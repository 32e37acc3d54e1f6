import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkpointError, CheckpointError } from './errors.ts';

/**
 * Reads up to SMALL_READ are served from a READ_AHEAD block. The block is small because the
 * header before every large storage misses it too, and each miss reads a whole block.
 */
const SMALL_READ = 16 * 1024;
const READ_AHEAD = 64 * 1024;

/**
 * A checkpoint file opened for positioned reads; every read is exact or a typed error. Small
 * reads (headers, tiny storages) come from a read-ahead block, so thousands of them cost a
 * few syscalls; large reads go straight into a buffer of their own.
 */
export class CheckpointFile {
  private block: { start: number; bytes: Buffer } | undefined;

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    readonly size: number,
  ) {}

  static async open(path: string): Promise<CheckpointFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw checkpointError(CheckpointError.NOT_FOUND, `checkpoint ${path} does not exist`, e);
      throw checkpointError(CheckpointError.UNREADABLE, `checkpoint ${path} cannot be opened (${code ?? String(e)})`, e);
    }
    try {
      const stat = await handle.stat();
      if (!stat.isFile()) throw checkpointError(CheckpointError.UNREADABLE, `checkpoint ${path} is not a regular file`);
      return new CheckpointFile(handle, path, stat.size);
    } catch (e) {
      await handle.close();
      throw e;
    }
  }

  get name(): string {
    return basename(this.path);
  }

  /**
   * `length` bytes at `position`, in a buffer of their own (byteOffset 0, so typed-array views
   * on it are aligned). Past the end of the file: CHECKPOINT_TRUNCATED.
   */
  async read(position: number, length: number, what: string): Promise<Buffer> {
    if (position + length > this.size) {
      throw checkpointError(
        CheckpointError.TRUNCATED,
        `${this.name}: ${what} needs bytes ${position}..${position + length} but the file ends at ${this.size}`,
      );
    }
    const buffer = Buffer.allocUnsafeSlow(length);
    if (length <= SMALL_READ) {
      const block = await this.blockCovering(position, length, what);
      block.bytes.copy(buffer, 0, position - block.start, position - block.start + length);
    } else {
      await this.readInto(buffer, position, what);
    }
    return buffer;
  }

  private async blockCovering(position: number, length: number, what: string): Promise<{ start: number; bytes: Buffer }> {
    const current = this.block;
    if (current !== undefined && position >= current.start && position + length <= current.start + current.bytes.length) return current;
    const bytes = Buffer.allocUnsafeSlow(Math.min(READ_AHEAD, this.size - position));
    await this.readInto(bytes, position, what);
    this.block = { start: position, bytes };
    return this.block;
  }

  private async readInto(buffer: Buffer, position: number, what: string): Promise<void> {
    let done = 0;
    while (done < buffer.length) {
      const { bytesRead } = await this.handle.read(buffer, done, buffer.length - done, position + done);
      if (bytesRead === 0) throw checkpointError(CheckpointError.TRUNCATED, `${this.name}: the file ended while reading ${what} (did it shrink?)`);
      done += bytesRead;
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}
