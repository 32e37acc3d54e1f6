/**
 * PyTorch checkpoints without Python: read torch.save files (zip and legacy formats) through a
 * pickle machine that never imports or runs anything, and write torch.save-compatible files.
 */
export { readCheckpoint, loadStateDict } from './read-checkpoint.ts';
export { CheckpointError, type CheckpointErrorCode } from './errors.ts';
export { PickledGlobal, PickledObject } from './pickle/values.ts';
export { writeCheckpoint, writeTorchScriptArchive, type WriteCheckpointOptions, type WriteTorchScriptOptions } from './write-checkpoint.ts';
