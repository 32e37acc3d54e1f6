import { checkpointError, CheckpointError } from './errors.ts';

/**
 * Thrown when a cursor over a window of a file runs past the window while the file goes on:
 * the caller reads a larger window and starts again. Never escapes the module that reads windows.
 */
export class WindowExhausted extends Error {
  override readonly name = 'WindowExhausted';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A little-endian reading position over bytes. Every read is bounds-checked: past the end it
 * throws CHECKPOINT_TRUNCATED (or WindowExhausted when the bytes are only a window of a longer file).
 */
export class ByteCursor {
  pos: number;

  constructor(
    readonly bytes: Buffer,
    /** What the bytes are, for error messages ("data.pkl of model.pyth"). */
    readonly what: string,
    start = 0,
    /** True when `bytes` ends before the file does. */
    readonly isWindow = false,
    /** Where `bytes[0]` lies in the file, for error messages. */
    readonly fileOffset = 0,
  ) {
    this.pos = start;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  /** The file offset of the current position. */
  get offset(): number {
    return this.fileOffset + this.pos;
  }

  private need(n: number): number {
    if (n > this.remaining) {
      if (this.isWindow) throw new WindowExhausted();
      throw checkpointError(
        CheckpointError.TRUNCATED,
        `${this.what} ends at byte ${this.fileOffset + this.bytes.length} but needs ${n} more byte(s) at byte ${this.offset}`,
      );
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    return this.bytes[this.need(1)] as number;
  }

  u16(): number {
    return this.bytes.readUInt16LE(this.need(2));
  }

  u32(): number {
    return this.bytes.readUInt32LE(this.need(4));
  }

  i32(): number {
    return this.bytes.readInt32LE(this.need(4));
  }

  /** An unsigned 64-bit length or offset; must fit in a JS number. */
  u64(): number {
    const v = this.bytes.readBigUInt64LE(this.need(8));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw checkpointError(CheckpointError.FORMAT, `${this.what}: 64-bit value ${v} at byte ${this.offset - 8} is impossibly large`);
    }
    return Number(v);
  }

  f64be(): number {
    return this.bytes.readDoubleBE(this.need(8));
  }

  /** A view (no copy) of the next n bytes. */
  view(n: number): Buffer {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }

  utf8(n: number): string {
    const at = this.offset;
    const raw = this.view(n);
    try {
      return UTF8.decode(raw);
    } catch (e) {
      throw checkpointError(CheckpointError.FORMAT, `${this.what}: invalid UTF-8 text at byte ${at}`, e);
    }
  }

  /** Bytes up to (not including) the next newline, which is consumed: protocol-0 text arguments. */
  line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) {
      if (this.isWindow) throw new WindowExhausted();
      throw checkpointError(CheckpointError.TRUNCATED, `${this.what} ends inside a text line starting at byte ${this.offset}`);
    }
    const text = this.bytes.toString('latin1', this.pos, end);
    this.pos = end + 1;
    return text;
  }
}
