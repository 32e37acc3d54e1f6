import { crc32 } from 'node:zlib';
import { AtomicFileWriter } from './atomic-file-writer.ts';

const U32_MAX = 0xffffffff;
/** torch aligns every record's data to 64 bytes so storages can be memory-mapped. */
const ALIGNMENT = 64;
const DOS_DATE_1980_01_01 = 0x21;

interface WrittenEntry {
  name: Buffer;
  crc: number;
  size: number;
  offset: number;
  zip64: boolean;
}

export interface ZipWriterOptions {
  /** Write ZIP64 fields even where 32 bits suffice (to exercise readers). */
  forceZip64?: boolean;
}

/**
 * Writes a zip of stored (uncompressed) entries the way PyTorch does: each entry's data
 * 64-byte aligned by an "FB" padding extra field, ZIP64 where sizes or offsets need it. Large
 * data is written straight from the caller's buffers. The file appears at `path` only when
 * finished.
 */
export class StoredZipWriter {
  private readonly entries: WrittenEntry[] = [];

  private constructor(
    private readonly out: AtomicFileWriter,
    private readonly options: ZipWriterOptions,
  ) {}

  static async create(path: string, options: ZipWriterOptions = {}): Promise<StoredZipWriter> {
    return new StoredZipWriter(await AtomicFileWriter.create(path), options);
  }

  private get position(): number {
    return this.out.offset;
  }

  async add(name: string, data: Uint8Array): Promise<void> {
    const nameBytes = Buffer.from(name, 'utf8');
    const zip64 = this.options.forceZip64 === true || data.length >= U32_MAX || this.position >= U32_MAX;
    const zip64Extra = zip64 ? 20 : 0;
    const unpadded = this.position + 30 + nameBytes.length + zip64Extra + 4;
    const padding = (ALIGNMENT - (unpadded % ALIGNMENT)) % ALIGNMENT;
    const header = Buffer.alloc(30 + nameBytes.length + zip64Extra + 4 + padding);
    const crc = crc32(data) >>> 0;
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(zip64 ? 45 : 20, 4);
    header.writeUInt16LE(0, 6); // flags
    header.writeUInt16LE(0, 8); // stored
    header.writeUInt16LE(0, 10); // time
    header.writeUInt16LE(DOS_DATE_1980_01_01, 12);
    header.writeUInt32LE(crc, 14);
    header.writeUInt32LE(zip64 ? U32_MAX : data.length, 18);
    header.writeUInt32LE(zip64 ? U32_MAX : data.length, 22);
    header.writeUInt16LE(nameBytes.length, 26);
    header.writeUInt16LE(zip64Extra + 4 + padding, 28);
    nameBytes.copy(header, 30);
    let at = 30 + nameBytes.length;
    if (zip64) {
      header.writeUInt16LE(0x0001, at);
      header.writeUInt16LE(16, at + 2);
      header.writeBigUInt64LE(BigInt(data.length), at + 4);
      header.writeBigUInt64LE(BigInt(data.length), at + 12);
      at += 20;
    }
    header.write('FB', at, 'latin1');
    header.writeUInt16LE(padding, at + 2);
    header.fill('Z', at + 4);
    this.entries.push({ name: nameBytes, crc, size: data.length, offset: this.position, zip64: zip64 || this.position >= U32_MAX });
    await this.out.write(header);
    await this.out.write(data);
  }

  private centralDirectory(): Buffer {
    const parts = this.entries.map((e) => {
      const zip64 = e.zip64 || e.offset >= U32_MAX;
      const extra = zip64 ? 28 : 0;
      const h = Buffer.alloc(46 + e.name.length + extra);
      h.writeUInt32LE(0x02014b50, 0);
      h.writeUInt16LE(zip64 ? 45 : 20, 4);
      h.writeUInt16LE(zip64 ? 45 : 20, 6);
      h.writeUInt16LE(0, 8);
      h.writeUInt16LE(0, 10);
      h.writeUInt16LE(0, 12);
      h.writeUInt16LE(DOS_DATE_1980_01_01, 14);
      h.writeUInt32LE(e.crc, 16);
      h.writeUInt32LE(zip64 ? U32_MAX : e.size, 20);
      h.writeUInt32LE(zip64 ? U32_MAX : e.size, 24);
      h.writeUInt16LE(e.name.length, 28);
      h.writeUInt16LE(extra, 30);
      h.writeUInt32LE(zip64 ? U32_MAX : e.offset, 42);
      e.name.copy(h, 46);
      if (zip64) {
        const at = 46 + e.name.length;
        h.writeUInt16LE(0x0001, at);
        h.writeUInt16LE(24, at + 2);
        h.writeBigUInt64LE(BigInt(e.size), at + 4);
        h.writeBigUInt64LE(BigInt(e.size), at + 12);
        h.writeBigUInt64LE(BigInt(e.offset), at + 20);
      }
      return h;
    });
    return Buffer.concat(parts);
  }

  private endRecords(cdOffset: number, cdSize: number): Buffer {
    const count = this.entries.length;
    const zip64 = this.options.forceZip64 === true || this.entries.some((e) => e.zip64) || cdOffset >= U32_MAX || cdSize >= U32_MAX || count >= 0xffff;
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(zip64 ? 0xffff : count, 8);
    eocd.writeUInt16LE(zip64 ? 0xffff : count, 10);
    eocd.writeUInt32LE(zip64 ? U32_MAX : cdSize, 12);
    eocd.writeUInt32LE(zip64 ? U32_MAX : cdOffset, 16);
    if (!zip64) return eocd;
    const record = Buffer.alloc(56);
    record.writeUInt32LE(0x06064b50, 0);
    record.writeBigUInt64LE(44n, 4);
    record.writeUInt16LE(45, 12);
    record.writeUInt16LE(45, 14);
    record.writeBigUInt64LE(BigInt(count), 24);
    record.writeBigUInt64LE(BigInt(count), 32);
    record.writeBigUInt64LE(BigInt(cdSize), 40);
    record.writeBigUInt64LE(BigInt(cdOffset), 48);
    const locator = Buffer.alloc(20);
    locator.writeUInt32LE(0x07064b50, 0);
    locator.writeBigUInt64LE(BigInt(cdOffset + cdSize), 8);
    locator.writeUInt32LE(1, 16);
    return Buffer.concat([record, locator, eocd]);
  }

  /** Writes the central directory, closes the file and moves it into place. */
  async finish(): Promise<void> {
    const cd = this.centralDirectory();
    const cdOffset = this.position;
    await this.out.write(cd);
    await this.out.write(this.endRecords(cdOffset, cd.length));
    await this.out.finish();
  }

  /** Closes and removes the partial file after a failure. */
  abort(): Promise<void> {
    return this.out.abort();
  }
}
