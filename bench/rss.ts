import { readFileSync } from 'node:fs';

/**
 * This process's peak RSS in MB (VmHWM). ru_maxrss (resourceUsage().maxRSS) survives the
 * fork+exec that started a child on Linux and may show the parent's peak; VmHWM is ours alone.
 */
export function peakRssMB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // not Linux: fall back to maxRSS
  }
  return process.resourceUsage().maxRSS / 1024;
}

/** Peak resident set (bytes) of another process (an ffmpeg child) from /proc; 0 once it is gone. */
export function peakRssOfPid(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch (_e) {
    return 0; // the child exited between samples: its last sample stands
  }
}
