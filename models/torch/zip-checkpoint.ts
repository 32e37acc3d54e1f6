import { ByteCursor } from './byte-cursor.ts';
import type { CheckpointFile } from './checkpoint-file.ts';
import { checkpointError, CheckpointError } from './errors.ts';
import { TorchUnpicklePolicy } from './global-policy.ts';
import type { StorageSource } from './materialize.ts';
import { unpickle } from './pickle/unpickler.ts';
import type { StorageRef } from './tensor-ref.ts';
import { readZipDirectory, readZipEntry, type ZipEntry } from './zip-reader.ts';

export interface UnpickledCheckpoint {
  /** The pickled object, tensors still TensorRefs. */
  root: unknown;
  storages: StorageSource;
  /** A TorchScript archive (torch.jit.save): `root` is the module tree, see TorchUnpicklePolicy. */
  torchScript?: boolean;
}

/**
 * A TorchScript archive holds, beside `<archive>/data.pkl` (the module tree) and its
 * `data/<key>` storages, `constants.pkl` (+ `constants/<key>`: the traced constants) and `code/`
 * (the compiled Python source). Neither is read: nothing from the file is ever run, and the
 * weights are all in the module tree.
 */
function isTorchScript(prefix: string, entries: Map<string, ZipEntry>): boolean {
  return entries.has(`${prefix}constants.pkl`) || [...entries.keys()].some((name) => name.startsWith(`${prefix}code/`));
}

/** Finds `<archive>/data.pkl`; torch names the one top folder after the file or "archive". */
function findArchivePrefix(file: CheckpointFile, entries: Map<string, ZipEntry>): string {
  const pickles = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length === 1) return (pickles[0] as string).slice(0, -'data.pkl'.length);
  if (pickles.length > 1) throw checkpointError(CheckpointError.FORMAT, `${file.name} holds ${pickles.length} data.pkl records`);
  if ([...entries.keys()].some((name) => /(^|\/)constants\.pkl$/.test(name) || /(^|\/)code\//.test(name))) {
    throw checkpointError(CheckpointError.FORMAT, `${file.name} looks like a TorchScript archive (constants.pkl, code/) but has no <archive>/data.pkl module tree`);
  }
  throw checkpointError(CheckpointError.FORMAT, `${file.name} is a zip file but not a torch.save checkpoint (no <archive>/data.pkl)`);
}

/** Reads the pickle of a zip-format checkpoint (PyTorch >= 1.6); storages are read on demand. */
export async function unpickleZipCheckpoint(file: CheckpointFile): Promise<UnpickledCheckpoint> {
  const entries = await readZipDirectory(file);
  const prefix = findArchivePrefix(file, entries);
  const byteOrder = entries.get(`${prefix}byteorder`);
  if (byteOrder !== undefined) {
    const order = (await readZipEntry(file, byteOrder)).toString('latin1').trim();
    if (order !== 'little') throw checkpointError(CheckpointError.UNSUPPORTED, `${file.name} was written on a ${order}-endian machine`);
  }
  const pickle = await readZipEntry(file, entries.get(`${prefix}data.pkl`) as ZipEntry);
  const torchScript = isTorchScript(prefix, entries);
  const policy = new TorchUnpicklePolicy({ torchScript });
  const root = unpickle(new ByteCursor(pickle, `${prefix}data.pkl in ${file.name}`), policy);
  const storages: StorageSource = {
    async read(ref: StorageRef): Promise<Buffer> {
      const entry = entries.get(`${prefix}data/${ref.key}`);
      if (entry === undefined) throw checkpointError(CheckpointError.FORMAT, `${file.name}: storage ${ref.key} is named by the pickle but has no record`);
      if (entry.size !== ref.byteOffset + ref.byteLength) {
        throw checkpointError(CheckpointError.FORMAT, `${file.name}: storage ${ref.key} holds ${entry.size} bytes, the pickle says ${ref.numel} ${ref.dtype}`);
      }
      return readZipEntry(file, entry);
    },
  };
  return { root, storages, torchScript };
}
