/**
 * Whether this machine plausibly has an NVIDIA GPU: its device node exists (Linux, containers
 * started with the GPU), or VIDX_TRY_CUDA=1 says to try anyway (VIDX_TRY_CUDA=0: never on auto).
 * `--device auto` only tries the CUDA provider then; an explicit `cuda` always tries.
 */
import { existsSync } from 'node:fs';

export const TRY_CUDA_ENV = 'VIDX_TRY_CUDA';

/** The device nodes the NVIDIA driver creates (the first GPU, the control node; WSL's GPU bridge). */
export const GPU_DEVICE_NODES = ['/dev/nvidia0', '/dev/nvidiactl', '/dev/dxg'] as const;

export function gpuPlausible(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): boolean {
  const forced = env[TRY_CUDA_ENV];
  if (forced === '1') return true;
  if (forced === '0') return false;
  return GPU_DEVICE_NODES.some((p) => exists(p));
}
