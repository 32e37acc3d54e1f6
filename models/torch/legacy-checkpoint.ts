import { ByteCursor, WindowExhausted } from './byte-cursor.ts';
import type { CheckpointFile } from './checkpoint-file.ts';
import { checkpointError, CheckpointError } from './errors.ts';
import { TorchUnpicklePolicy } from './global-policy.ts';
import type { StorageSource } from './materialize.ts';
import { unpickle } from './pickle/unpickler.ts';
import { describeValue } from './pickle/values.ts';
import type { StorageRef } from './tensor-ref.ts';
import type { UnpickledCheckpoint } from './zip-checkpoint.ts';

/** The first pickle of every legacy torch.save file. */
export const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
export const LEGACY_PROTOCOL_VERSION = 1001;
/** The magic number as torch pickles it with its default protocol 2. */
const MAGIC_PICKLE_PROTOCOL_2 = Buffer.from('80028a0a6cfc9c46f9206aa850192e', 'hex');

const FIRST_WINDOW = 256 * 1024;

interface LegacyPickles {
  root: unknown;
  storageKeys: string[];
  policy: TorchUnpicklePolicy;
  /** File offset where the raw storages start. */
  storagesStart: number;
}

function parsePickles(cursor: ByteCursor, fileName: string): LegacyPickles {
  const policy = new TorchUnpicklePolicy();
  let magic: unknown;
  try {
    magic = unpickle(cursor, policy);
  } catch (e) {
    if (e instanceof WindowExhausted || (e as { code?: string }).code === CheckpointError.UNSAFE) throw e;
    throw checkpointError(CheckpointError.FORMAT, `${fileName} is not a PyTorch checkpoint (neither a zip nor a legacy torch.save pickle)`, e);
  }
  if (magic !== LEGACY_MAGIC) throw checkpointError(CheckpointError.FORMAT, `${fileName} is a pickle but not a torch.save file (no torch magic number)`);
  const protocol = unpickle(cursor, policy);
  if (protocol !== LEGACY_PROTOCOL_VERSION) throw checkpointError(CheckpointError.UNSUPPORTED, `${fileName} uses torch legacy protocol ${String(protocol)}, not ${LEGACY_PROTOCOL_VERSION}`);
  const sysInfo = unpickle(cursor, policy);
  if (sysInfo instanceof Map && sysInfo.get('little_endian') === false) throw checkpointError(CheckpointError.UNSUPPORTED, `${fileName} was written on a big-endian machine`);
  const root = unpickle(cursor, policy);
  const keys = unpickle(cursor, policy);
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw checkpointError(CheckpointError.FORMAT, `${fileName}: the storage key list is ${describeValue(keys)}`);
  return { root, storageKeys: keys as string[], policy, storagesStart: cursor.offset };
}

/** Pickles come first and their length is unknown: read a window, and a larger one if it falls short. */
async function readPickles(file: CheckpointFile): Promise<LegacyPickles> {
  for (let window = Math.min(FIRST_WINDOW, file.size); ; window = Math.min(window * 4, file.size)) {
    const bytes = await file.read(0, window, 'the pickles');
    try {
      return parsePickles(new ByteCursor(bytes, file.name, 0, window < file.size), file.name);
    } catch (e) {
      if (!(e instanceof WindowExhausted)) {
        const cutMagic = file.size < MAGIC_PICKLE_PROTOCOL_2.length && MAGIC_PICKLE_PROTOCOL_2.subarray(0, file.size).equals(bytes);
        if (cutMagic) throw checkpointError(CheckpointError.TRUNCATED, `${file.name} ends after ${file.size} bytes, inside the torch magic number`);
        throw e;
      }
    }
  }
}

interface StorageRecord {
  dataStart: number;
  byteLength: number;
}

/** Walks the storage records (each an int64 element count, then the raw elements) to find where each lies. */
async function indexStorages(file: CheckpointFile, pickles: LegacyPickles): Promise<Map<string, StorageRecord>> {
  const records = new Map<string, StorageRecord>();
  let at = pickles.storagesStart;
  for (const key of pickles.storageKeys) {
    const ref = pickles.policy.storages.get(key);
    if (ref === undefined) throw checkpointError(CheckpointError.FORMAT, `${file.name}: storage ${key} is listed but never used, so its element type is unknown`);
    const count = (await file.read(at, 8, `the size of storage ${key}`)).readBigInt64LE(0);
    if (count !== BigInt(ref.numel)) {
      throw checkpointError(CheckpointError.FORMAT, `${file.name}: storage ${key} holds ${count} elements, the pickle says ${ref.numel}`);
    }
    records.set(key, { dataStart: at + 8, byteLength: ref.byteLength });
    at += 8 + ref.byteLength;
  }
  if (at > file.size) {
    throw checkpointError(CheckpointError.TRUNCATED, `${file.name}: the storages need ${at} bytes but the file has ${file.size}`);
  }
  return records;
}

/** Reads the pickles of a legacy-format checkpoint (PyTorch < 1.6 or _use_new_zipfile_serialization=False). */
export async function unpickleLegacyCheckpoint(file: CheckpointFile): Promise<UnpickledCheckpoint> {
  const pickles = await readPickles(file);
  const records = await indexStorages(file, pickles);
  const storages: StorageSource = {
    async read(ref: StorageRef): Promise<Buffer> {
      const record = records.get(ref.key);
      if (record === undefined) throw checkpointError(CheckpointError.FORMAT, `${file.name}: storage ${ref.key} is not in the storage list`);
      return file.read(record.dataStart + ref.byteOffset, ref.byteLength, `storage ${ref.key}`);
    },
  };
  return { root: pickles.root, storages };
}
