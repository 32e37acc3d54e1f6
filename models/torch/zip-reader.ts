import { crc32 } from 'node:zlib';
import { ByteCursor } from './byte-cursor.ts';
import type { CheckpointFile } from './checkpoint-file.ts';
import { checkpointError, CheckpointError } from './errors.ts';

/** One file in a zip's central directory. */
export interface ZipEntry {
  name: string;
  /** 0 = stored; torch never compresses. */
  method: number;
  compressedSize: number;
  size: number;
  crc32: number;
  localHeaderOffset: number;
  encrypted: boolean;
}

const SIG = {
  localHeader: 0x04034b50,
  centralHeader: 0x02014b50,
  endOfCentralDirectory: 0x06054b50,
  zip64EndOfCentralDirectory: 0x06064b50,
  zip64Locator: 0x07064b50,
} as const;

const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

interface CentralDirectory {
  entryCount: number;
  offset: number;
  size: number;
}

function findEndOfCentralDirectory(tail: Buffer): number {
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    // The record must end exactly where the file does: data that merely contains the signature does not.
    if (tail.readUInt32LE(i) === SIG.endOfCentralDirectory && i + EOCD_SIZE + tail.readUInt16LE(i + 20) === tail.length) return i;
  }
  return -1;
}

async function readCentralDirectoryLocation(file: CheckpointFile): Promise<CentralDirectory> {
  const tailLength = Math.min(file.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = file.size - tailLength;
  const tail = await file.read(tailStart, tailLength, 'the end of the zip');
  const at = findEndOfCentralDirectory(tail);
  if (at < 0) {
    throw checkpointError(CheckpointError.TRUNCATED, `${file.name} starts like a zip but has no end-of-central-directory record: it is cut short`);
  }
  const eocd = new ByteCursor(tail, `${file.name} (end of central directory)`, at + 4, false, tailStart);
  const disk = eocd.u16();
  const cdDisk = eocd.u16();
  eocd.u16(); // entries on this disk
  let entryCount = eocd.u16();
  let size = eocd.u32();
  let offset = eocd.u32();
  const locatorAt = at - 20;
  const hasZip64 = locatorAt >= 0 && tail.readUInt32LE(locatorAt) === SIG.zip64Locator;
  if (hasZip64) {
    const locator = new ByteCursor(tail, `${file.name} (zip64 locator)`, locatorAt + 8, false, tailStart);
    const zip64At = locator.u64();
    const record = new ByteCursor(await file.read(zip64At, 56, 'the zip64 end of central directory'), `${file.name} (zip64 end of central directory)`, 0, false, zip64At);
    if (record.u32() !== SIG.zip64EndOfCentralDirectory) throw checkpointError(CheckpointError.FORMAT, `${file.name}: zip64 end of central directory record not found at byte ${zip64At}`);
    record.u64(); // record size
    record.u16(); // version made by
    record.u16(); // version needed
    const disk64 = record.u32();
    const cdDisk64 = record.u32();
    record.u64(); // entries on this disk
    entryCount = record.u64();
    size = record.u64();
    offset = record.u64();
    if (disk64 !== 0 || cdDisk64 !== 0) throw checkpointError(CheckpointError.UNSUPPORTED, `${file.name} is a multi-part zip`);
  } else if (entryCount === U16_MAX || size === U32_MAX || offset === U32_MAX) {
    throw checkpointError(CheckpointError.FORMAT, `${file.name}: the zip needs zip64 records but has none`);
  }
  if (!hasZip64 && (disk !== 0 || cdDisk !== 0)) throw checkpointError(CheckpointError.UNSUPPORTED, `${file.name} is a multi-part zip`);
  if (offset + size > file.size) {
    throw checkpointError(CheckpointError.FORMAT, `${file.name}: the central directory (bytes ${offset}..${offset + size}) lies outside the file of ${file.size} bytes`);
  }
  return { entryCount, offset, size };
}

/** The ZIP64 extended-information extra field replaces 32-bit fields that read 0xFFFFFFFF. */
function applyZip64Extra(extra: Buffer, entry: ZipEntry, what: string): void {
  const fields = new ByteCursor(extra, what);
  while (fields.remaining >= 4) {
    const id = fields.u16();
    const length = fields.u16();
    const body = new ByteCursor(fields.view(length), `${what} (zip64 field)`);
    if (id !== 0x0001) continue;
    if (entry.size === U32_MAX) entry.size = body.u64();
    if (entry.compressedSize === U32_MAX) entry.compressedSize = body.u64();
    if (entry.localHeaderOffset === U32_MAX) entry.localHeaderOffset = body.u64();
  }
}

/** Reads the central directory: every entry by name. */
export async function readZipDirectory(file: CheckpointFile): Promise<Map<string, ZipEntry>> {
  const location = await readCentralDirectoryLocation(file);
  const what = `${file.name} (central directory)`;
  const cd = new ByteCursor(await file.read(location.offset, location.size, 'the central directory'), what, 0, false, location.offset);
  const entries = new Map<string, ZipEntry>();
  for (let i = 0; i < location.entryCount; i++) {
    if (cd.u32() !== SIG.centralHeader) throw checkpointError(CheckpointError.FORMAT, `${what}: entry ${i} has no header signature at byte ${cd.offset - 4}`);
    cd.u16(); // version made by
    cd.u16(); // version needed
    const flags = cd.u16();
    const method = cd.u16();
    cd.u32(); // time, date
    const crc = cd.u32();
    const compressedSize = cd.u32();
    const size = cd.u32();
    const nameLength = cd.u16();
    const extraLength = cd.u16();
    const commentLength = cd.u16();
    cd.u16(); // disk
    cd.u16(); // internal attributes
    cd.u32(); // external attributes
    const localHeaderOffset = cd.u32();
    const nameBytes = cd.view(nameLength);
    const name = nameBytes.toString(flags & 0x800 ? 'utf8' : 'latin1');
    const entry: ZipEntry = { name, method, compressedSize, size, crc32: crc, localHeaderOffset, encrypted: (flags & 1) !== 0 };
    applyZip64Extra(cd.view(extraLength), entry, `${what}: ${name}`);
    cd.view(commentLength);
    if (entries.has(name)) throw checkpointError(CheckpointError.FORMAT, `${file.name}: the zip names ${name} twice`);
    entries.set(name, entry);
  }
  return entries;
}

/** Reads a stored (uncompressed) entry whole and checks its CRC. */
export async function readZipEntry(file: CheckpointFile, entry: ZipEntry): Promise<Buffer> {
  if (entry.encrypted) throw checkpointError(CheckpointError.UNSUPPORTED, `${file.name}: ${entry.name} is encrypted`);
  if (entry.method !== 0 || entry.compressedSize !== entry.size) {
    throw checkpointError(CheckpointError.UNSUPPORTED, `${file.name}: ${entry.name} is compressed (method ${entry.method}); torch.save stores entries uncompressed`);
  }
  const header = new ByteCursor(await file.read(entry.localHeaderOffset, 30, `the local header of ${entry.name}`), `${file.name}: local header of ${entry.name}`);
  if (header.u32() !== SIG.localHeader) throw checkpointError(CheckpointError.FORMAT, `${file.name}: no local header for ${entry.name} at byte ${entry.localHeaderOffset}`);
  header.pos = 26;
  const dataStart = entry.localHeaderOffset + 30 + header.u16() + header.u16();
  const data = await file.read(dataStart, entry.size, entry.name);
  if (crc32(data) >>> 0 !== entry.crc32 >>> 0) {
    throw checkpointError(CheckpointError.FORMAT, `${file.name}: ${entry.name} fails its CRC check: the file is corrupt`);
  }
  return data;
}
