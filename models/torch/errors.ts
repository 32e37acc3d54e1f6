import { VidxError } from '../../core/errors.ts';

/** Codes raised by the checkpoint reader and writer. */
export const CheckpointError = {
  /** The path does not exist (or a parent is not a directory). */
  NOT_FOUND: 'CHECKPOINT_NOT_FOUND',
  /** The path exists but cannot be read (a directory, no permission, I/O error). */
  UNREADABLE: 'CHECKPOINT_UNREADABLE',
  /** Not a torch.save file, or its structure or pickle is malformed. */
  FORMAT: 'CHECKPOINT_FORMAT',
  /** The file ends before the data it declares. */
  TRUNCATED: 'CHECKPOINT_TRUNCATED',
  /** A valid torch.save feature this reader does not implement (compression, quantized tensors...). */
  UNSUPPORTED: 'CHECKPOINT_UNSUPPORTED',
  /** The pickle names a global that could run code (os.system, builtins.eval...). */
  UNSAFE: 'CHECKPOINT_UNSAFE',
  /** The checkpoint holds no state dict where one was asked for. */
  NO_STATE_DICT: 'CHECKPOINT_NO_STATE_DICT',
  /** writeCheckpoint was given something it cannot write. */
  WRITE_INVALID: 'CHECKPOINT_WRITE_INVALID',
} as const;

export type CheckpointErrorCode = (typeof CheckpointError)[keyof typeof CheckpointError];

/** A checkpoint error; its hint is the code's (core/errors.ts). */
export function checkpointError(code: CheckpointErrorCode, message: string, cause?: unknown): VidxError {
  return new VidxError(code, message, cause === undefined ? {} : { cause });
}
