/**
 * Finding ffmpeg/ffprobe, and the one wrapper that runs them.
 *
 * Discovery order (ARCHITECTURE "Video", issue 3 "Video in"): the `VIDX_FFMPEG` / `VIDX_FFPROBE`
 * environment variables, then the binaries on the system PATH, then the npm-installed static
 * binaries (@ffmpeg-installer/ffmpeg, @ffprobe-installer/ffprobe), so `npm ci` alone gives a
 * working machine.
 *
 * Every child is spawned with an argument array (never a shell). stderr is collected (bounded) for
 * error messages. The child is killed (SIGKILL) when the caller aborts, when a timeout expires,
 * or when the caller stops early / fails; `ToolProcess.closed` resolves only once the child has
 * exited, so "no process is left behind" is something callers can await.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { VidxError } from '../errors.ts';
import { ENV } from '../names.ts';


type Tool = 'ffmpeg' | 'ffprobe';

const cache = new Map<Tool, string>();

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch (_e) {
    return false; // not there or not executable: discovery moves on to the next place
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  return undefined;
}

function fromNpm(tool: Tool): string | undefined {
  const require = createRequire(import.meta.url);
  const pkg = tool === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe';
  try {
    const mod = require(pkg) as { path?: string };
    return mod.path && isExecutable(mod.path) ? mod.path : undefined;
  } catch (_e) {
    return undefined; // package absent or unsupported platform: reported below as FFMPEG_NOT_FOUND
  }
}

function discover(tool: Tool): string {
  const cached = cache.get(tool);
  if (cached) return cached;
  const envName = tool === 'ffmpeg' ? ENV.ffmpeg : ENV.ffprobe;
  const fromEnv = process.env[envName];
  let found: string | undefined;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) {
      throw new VidxError('FFMPEG_NOT_FOUND', `${envName} points at ${fromEnv}, which is not an executable file`, {
        hint: `fix or unset ${envName}`,
      });
    }
    found = fromEnv;
  } else {
    found = onPath(tool) ?? fromNpm(tool);
  }
  if (!found) {
    throw new VidxError('FFMPEG_NOT_FOUND', `no ${tool} found (${envName}, PATH, npm static binary)`, {
      hint: `run npm ci, install ${tool}, or set ${envName}`,
    });
  }
  cache.set(tool, found);
  return found;
}

/** ffmpeg: `VIDX_FFMPEG`, then `ffmpeg` on PATH, then the npm static binary. */
export function ffmpegPath(): string {
  return discover('ffmpeg');
}

/** ffprobe: `VIDX_FFPROBE`, then `ffprobe` on PATH, then the npm static binary. */
export function ffprobePath(): string {
  return discover('ffprobe');
}

/** Forget discovered paths (tests that change the environment). */
export function resetToolCache(): void {
  cache.clear();
}

export interface ToolOptions {
  signal?: AbortSignal;
  /** Kill the child after this many milliseconds (FFMPEG_TIMEOUT). */
  timeoutMs?: number;
  /** Keep at most this many trailing stderr bytes for messages (default 64 KiB). */
  stderrLimit?: number;
  /** Called with each complete stderr line (e.g. to read `showinfo`). */
  onStderrLine?: (line: string) => void;
  /** Further output pipes, the child's fds 3, 4, ... (ffmpeg writes to them as `pipe:3`, ...). */
  extraOutputs?: number;
}

export interface ToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Trailing stderr (bounded). */
  stderr: string;
  /** Why we killed it, if we did. */
  killedFor: 'abort' | 'timeout' | 'caller' | null;
}

/** A running ffmpeg/ffprobe child. */
export interface ToolProcess {
  readonly pid: number | undefined;
  readonly stdout: Readable;
  readonly stdin: Writable;
  /** The extra output pipes asked for (ToolOptions.extraOutputs): fd 3 first. */
  readonly extra: Readable[];
  /** Resolves when the child has exited (never rejects). */
  readonly closed: Promise<ToolExit>;
  /** Kill the child now (idempotent); `closed` resolves once it is gone. */
  kill(): void;
}

/**
 * Spawn a tool with an argument array. The caller reads stdout and awaits `closed`; abort and
 * timeout kill the child. A spawn failure (missing binary) shows up as `closed` with code null.
 */
export function spawnTool(bin: string, args: readonly string[], opts: ToolOptions = {}): ToolProcess {
  const limit = opts.stderrLimit ?? 64 * 1024;
  let stderr = '';
  let partial = '';
  let killedFor: ToolExit['killedFor'] = null;
  let spawnError: Error | undefined;

  const stdio = ['pipe', 'pipe', 'pipe', ...new Array<'pipe'>(opts.extraOutputs ?? 0).fill('pipe')] as const;
  const child: ChildProcess = spawn(bin, args, { stdio: [...stdio], shell: false });
  const extra = child.stdio.slice(3).filter((x): x is Readable => x !== null && x !== undefined && 'read' in x);
  const kill = (why: NonNullable<ToolExit['killedFor']>): void => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killedFor ??= why;
    child.kill('SIGKILL');
  };

  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (s: string) => {
    stderr += s;
    if (stderr.length > limit) stderr = stderr.slice(stderr.length - limit);
    if (opts.onStderrLine) {
      partial += s;
      let nl = partial.indexOf('\n');
      while (nl >= 0) {
        opts.onStderrLine(partial.slice(0, nl).replace(/\r$/, ''));
        partial = partial.slice(nl + 1);
        nl = partial.indexOf('\n');
      }
    }
  });
  // A consumer that stops reading early closes stdin/stdout; EPIPE there is expected, not a crash.
  child.stdin?.on('error', () => undefined);
  child.stdout?.on('error', () => undefined);
  for (const e of extra) e.on('error', () => undefined);

  const onAbort = (): void => kill('abort');
  if (opts.signal?.aborted) queueMicrotask(onAbort);
  else opts.signal?.addEventListener('abort', onAbort, { once: true });
  const timer = opts.timeoutMs ? setTimeout(() => kill('timeout'), opts.timeoutMs) : undefined;

  const closed = new Promise<ToolExit>((resolve) => {
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (partial && opts.onStderrLine) opts.onStderrLine(partial);
      const text = spawnError ? `${stderr}\n${spawnError.message}` : stderr;
      resolve({ code, signal, stderr: text, killedFor });
    });
  });

  if (!child.stdout || !child.stdin) throw new Error('spawn gave no pipes'); // stdio is 'pipe' above
  return { pid: child.pid, stdout: child.stdout, stdin: child.stdin, extra, closed, kill: () => kill('caller') };
}

/** Seconds ffmpeg keeps reconnecting a dropped HTTP(S) input before it gives up (its backoff doubles up to this). */
export const HTTP_RECONNECT_DELAY_MAX_SECONDS = 30;

/**
 * Input options that make ffmpeg reconnect an HTTP(S) input (a presigned S3 URL) that drops before
 * its end, instead of failing the decode on a reset. They go before `-i`; a local file gets none.
 * Only options every ffmpeg since 4.0 knows (`-reconnect_on_network_error` is newer).
 */
export function httpInputArgs(source: string): string[] {
  if (!/^https?:\/\//i.test(source)) return [];
  return ['-reconnect', '1', '-reconnect_streamed', '1', '-reconnect_delay_max', String(HTTP_RECONNECT_DELAY_MAX_SECONDS)];
}

/** The error for a child that did not succeed: aborted, timed out, or failed with its stderr. */
export function toolError(tool: string, exit: ToolExit, what: string): VidxError {
  if (exit.killedFor === 'abort') return new VidxError('ABORTED', `${what}: aborted`);
  if (exit.killedFor === 'timeout') {
    return new VidxError('FFMPEG_TIMEOUT', `${what}: ${tool} took too long and was stopped`, {
      hint: 'the input may be unreachable or pathological; retry, or raise the timeout',
    });
  }
  return new VidxError('FFMPEG_FAILED', `${what}: ${tool} failed (${exit.code ?? exit.signal}): ${ffmpegDiagnosis(exit.stderr)}`);
}

/** Longest diagnosis quoted in a message (a failure reason is read by a person, and stored). */
export const MAX_DIAGNOSIS_LENGTH = 200;

// stderr lines that say nothing about why a run failed: progress and stream banners, filter
// output (showinfo), configuration and the "Conversion failed!" summary.
const NOISE = [
  /^\s/, // indented: stream details, metadata, side data
  /^(frame|size|fps|time|bitrate|speed|progress|out_time\w*|total_size|dup_frames|drop_frames)=/,
  /^frame=\s*\d+/,
  /^(Input|Output|Stream) #/,
  /^(Duration|Metadata|Side data|Stream mapping|Press \[q\]|encoder|configuration|built with|lib\w+\s+\d)/i,
  /Parsed_showinfo|showinfo/,
  /^(Conversion failed!|Exiting normally|\[out#)/,
  /^video:\S+ audio:\S+/, // the muxing summary
];

/**
 * The part of an ffmpeg/ffprobe stderr worth telling a person: its last distinct error lines,
 * without progress or banner lines, with `[h264 @ 0x55d0c3a8]`-style prefixes reduced to the
 * component's name and `source` (the path or URL the message already names) left out; at most
 * MAX_DIAGNOSIS_LENGTH characters.
 */
export function ffmpegDiagnosis(stderr: string, source?: string, lines = 2): string {
  const seen = new Set<string>();
  const kept: string[] = [];
  const all = stderr.split(/\r?\n|\r/);
  for (let i = all.length - 1; i >= 0 && kept.length < lines; i--) {
    let line = all[i]!;
    if (line.trim() === '' || NOISE.some((re) => re.test(line))) continue;
    line = line
      .replace(/\[([\w-]+)(?:,[\w,-]+)?\s*@\s*0x[0-9a-f]+\]\s*/gi, '$1: ') // [mov,mp4,... @ 0x1a2b] -> mov:
      .replace(/\b0x[0-9a-f]{6,}\b/gi, '') // any other pointer
      .trim();
    if (source) line = line.split(`${source}: `).join('').split(source).join('the input');
    if (line === '' || seen.has(line)) continue;
    seen.add(line);
    kept.unshift(line);
  }
  const text = kept.join('; ') || 'no diagnostic from ffmpeg';
  return text.length > MAX_DIAGNOSIS_LENGTH ? `${text.slice(0, MAX_DIAGNOSIS_LENGTH - 3)}...` : text;
}

/** Run a tool to completion and collect stdout and the exit (never throws for a failed exit). */
export async function collectTool(bin: string, args: readonly string[], opts: ToolOptions = {}): Promise<{ stdout: Buffer; exit: ToolExit }> {
  const p = spawnTool(bin, args, opts);
  p.stdin.end();
  const chunks: Buffer[] = [];
  p.stdout.on('data', (b: Buffer) => chunks.push(b));
  const exit = await p.closed;
  return { stdout: Buffer.concat(chunks), exit };
}

/** Run a tool to completion and collect stdout; throws (typed) unless it exits 0. */
export async function runTool(
  bin: string,
  args: readonly string[],
  what: string,
  opts: ToolOptions = {},
): Promise<{ stdout: Buffer; exit: ToolExit }> {
  if (opts.signal?.aborted) throw new VidxError('ABORTED', `${what}: aborted`);
  const r = await collectTool(bin, args, opts);
  if (r.exit.code !== 0) throw toolError(bin, r.exit, what);
  return r;
}
