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

const HINTS: Record<CheckpointErrorCode, string> = {
  CHECKPOINT_NOT_FOUND: 'check the path, or run `vidx models pull <arch>` to download the checkpoint',
  CHECKPOINT_UNREADABLE: 'check that the path is a regular file you can read',
  CHECKPOINT_FORMAT: 'pass a file written by torch.save (.pyth/.pth/.pt); it may be corrupt: download it again',
  CHECKPOINT_TRUNCATED: 'the file is incomplete (interrupted download or copy?): download it again',
  CHECKPOINT_UNSUPPORTED: 're-save the checkpoint with plain torch.save(state_dict) from PyTorch',
  CHECKPOINT_UNSAFE: 'do not use this file: it is not a plain checkpoint and may be malicious',
  CHECKPOINT_NO_STATE_DICT: 'save the model with torch.save({"model_state": model.state_dict()}) or torch.save(model.state_dict())',
  CHECKPOINT_WRITE_INVALID: 'pass contiguous tensors whose data length matches their shape and dtype',
};

export function checkpointError(code: CheckpointErrorCode, message: string, cause?: unknown): VidxError {
  return new VidxError(code, message, cause === undefined ? { hint: HINTS[code] } : { hint: HINTS[code], cause });
}
