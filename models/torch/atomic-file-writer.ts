import { open, rename, rm, type FileHandle } from 'node:fs/promises';

/** Writes at most this much in one go from small pieces (headers, tiny storages). */
const COALESCE_BYTES = 1024 * 1024;

/**
 * Writes a file sequentially, coalescing small pieces into large writes (thousands of tiny
 * tensors must not cost thousands of syscalls) and passing large ones straight through. The
 * file is written beside `path` and renamed into place by `finish`, so a failed write never
 * leaves a plausible-looking checkpoint.
 */
export class AtomicFileWriter {
  private position = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly path: string,
    private readonly tempPath: string,
  ) {}

  static async create(path: string): Promise<AtomicFileWriter> {
    const tempPath = `${path}.partial-${process.pid}`;
    return new AtomicFileWriter(await open(tempPath, 'w'), path, tempPath);
  }

  /** Bytes written so far (the offset the next write lands at). */
  get offset(): number {
    return this.position + this.pendingBytes;
  }

  private async writeFully(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, done, bytes.length - done, this.position + done);
      done += bytesWritten;
    }
    this.position += bytes.length;
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const joined = Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    await this.writeFully(joined);
  }

  /** Queues `bytes`; the caller must not change them until `finish` (large ones are written at once). */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.pendingBytes + bytes.length > COALESCE_BYTES) await this.flush();
    if (bytes.length >= COALESCE_BYTES) {
      await this.writeFully(bytes);
      return;
    }
    this.pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.pendingBytes += bytes.length;
  }

  async finish(): Promise<void> {
    await this.flush();
    this.closed = true;
    await this.handle.close();
    await rename(this.tempPath, this.path);
  }

  /** Closes and removes the partial file after a failure. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.handle.close();
    }
    await rm(this.tempPath, { force: true });
  }
}
