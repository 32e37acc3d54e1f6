import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { ENV } from '../../core/names.ts';
import { ffmpegPath, ffprobePath, resetToolCache, runTool, spawnTool } from '../../core/video/ffmpeg.ts';
import { probe } from '../../core/video/probe.ts';
import { readWindows } from '../../core/video/window-source.ts';
import { planWindows } from '../../core/video/windows.ts';
import { makeVideo, tempDir } from '../helpers/media.ts';
import { i3dManifest } from './manifests.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function fakeTool(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

describe('discovery: VIDX_FFMPEG/VIDX_FFPROBE, then PATH, then the npm static binaries', () => {
  const saved = { path: process.env.PATH, ffmpeg: process.env[ENV.ffmpeg], ffprobe: process.env[ENV.ffprobe] };
  afterEach(() => {
    process.env.PATH = saved.path;
    for (const [k, v] of [
      [ENV.ffmpeg, saved.ffmpeg],
      [ENV.ffprobe, saved.ffprobe],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    resetToolCache();
  });

  it('the environment variables win', () => {
    const bin = join(tmp.dir, 'env-bin');
    process.env[ENV.ffmpeg] = fakeTool(bin, 'my-ffmpeg');
    process.env[ENV.ffprobe] = fakeTool(bin, 'my-ffprobe');
    process.env.PATH = fakeTool(join(tmp.dir, 'path-bin'), 'ffmpeg').replace(/\/ffmpeg$/, '');
    resetToolCache();
    expect(ffmpegPath()).toBe(join(bin, 'my-ffmpeg'));
    expect(ffprobePath()).toBe(join(bin, 'my-ffprobe'));
  });

  it('a variable that points nowhere is FFMPEG_NOT_FOUND (not a silent fallback)', () => {
    process.env[ENV.ffmpeg] = join(tmp.dir, 'missing-ffmpeg');
    resetToolCache();
    expect(() => ffmpegPath()).toThrow(expect.objectContaining({ code: 'FFMPEG_NOT_FOUND' }));
  });

  it('then the system PATH', () => {
    delete process.env[ENV.ffmpeg];
    delete process.env[ENV.ffprobe];
    const dir = join(tmp.dir, 'sys-bin');
    fakeTool(dir, 'ffmpeg');
    fakeTool(dir, 'ffprobe');
    process.env.PATH = dir;
    resetToolCache();
    expect(ffmpegPath()).toBe(join(dir, 'ffmpeg'));
    expect(ffprobePath()).toBe(join(dir, 'ffprobe'));
  });

  it('then the npm static binaries', () => {
    delete process.env[ENV.ffmpeg];
    delete process.env[ENV.ffprobe];
    process.env.PATH = join(tmp.dir, 'empty-bin');
    resetToolCache();
    expect(ffmpegPath()).toMatch(/node_modules\/@ffmpeg-installer\/.+\/ffmpeg$/);
    expect(ffprobePath()).toMatch(/node_modules\/@ffprobe-installer\/.+\/ffprobe$/);
  });
});

describe('the wrapper kills its child on timeout, abort and early stop', () => {
  const endless = ['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=30', '-f', 'null', '-'];

  it('timeout: FFMPEG_TIMEOUT and the process is gone', async () => {
    let pid = 0;
    const t0 = performance.now();
    const p = spawnTool(ffmpegPath(), endless, { timeoutMs: 300 });
    pid = p.pid!;
    expect(alive(pid)).toBe(true);
    const exit = await p.closed;
    expect(exit.killedFor).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(alive(pid)).toBe(false);
    await expect(runTool(ffmpegPath(), endless, 'endless', { timeoutMs: 200 })).rejects.toThrow(expect.objectContaining({ code: 'FFMPEG_TIMEOUT' }));
  });

  it('abort: ABORTED and the process is gone', async () => {
    const ac = new AbortController();
    const p = spawnTool(ffmpegPath(), endless, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    const exit = await p.closed;
    expect(exit.killedFor).toBe('abort');
    expect(alive(p.pid!)).toBe(false);
  });

  it('a failing run is FFMPEG_FAILED with stderr in the message', async () => {
    await expect(runTool(ffmpegPath(), ['-hide_banner', '-i', join(tmp.dir, 'nothing.mp4')], 'reading nothing')).rejects.toThrow(
      expect.objectContaining({ code: 'FFMPEG_FAILED', message: expect.stringMatching(/No such file/) }),
    );
  });

  it('abort mid-decode: readWindows throws ABORTED and ffmpeg is gone', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 30, fps: 30, width: 160, height: 120, pattern: 'testsrc', name: 'abort' });
    const info = await probe(v.path);
    const m = i3dManifest({ T: 8, r: 2, F: 30, S: 64, C: 64 });
    const ac = new AbortController();
    const pids: number[] = [];
    let batches = 0;
    let caught: unknown;
    try {
      for await (const _b of readWindows(v.path, m, { info, windows: planWindows(info.duration, m), batch: 2, signal: ac.signal, onSpawn: (pid) => pid && pids.push(pid) })) {
        batches++;
        if (batches === 2) {
          expect(alive(pids[0]!)).toBe(true); // decoding is under way
          ac.abort();
        }
      }
    } catch (e) {
      caught = e;
    }
    expect(isVidxError(caught, 'ABORTED')).toBe(true);
    expect(batches).toBeLessThan(10);
    expect(pids).toHaveLength(1);
    expect(alive(pids[0]!)).toBe(false);
  });

  it('a consumer that stops early (break) leaves no ffmpeg behind', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 20, fps: 30, width: 160, height: 120, pattern: 'testsrc', name: 'early' });
    const info = await probe(v.path);
    const m = i3dManifest({ T: 8, r: 2, F: 30, S: 64, C: 64 });
    const pids: number[] = [];
    for await (const _b of readWindows(v.path, m, { info, windows: planWindows(info.duration, m), batch: 1, onSpawn: (pid) => pid && pids.push(pid) })) break;
    expect(pids).toHaveLength(1);
    expect(alive(pids[0]!)).toBe(false);
  });

  it('hwaccel asked where CUDA is unavailable: says why, decodes in software, same result', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 1.2, fps: 30, width: 64, height: 48, name: 'hw' });
    const info = await probe(v.path);
    const m = i3dManifest({ T: 4, r: 2, F: 30, S: 32, C: 32 });
    const windows = planWindows(info.duration, m);
    const logs: string[] = [];
    const sw: Float32Array[] = [];
    const hw: Float32Array[] = [];
    for await (const b of readWindows(v.path, m, { info, windows, batch: 4 })) sw.push(b.inputs.video!);
    for await (const b of readWindows(v.path, m, { info, windows, batch: 4, hwaccel: true, log: (s) => logs.push(s) })) hw.push(b.inputs.video!);
    const { cudaUnavailableReason } = await import('../../core/video/decode.ts');
    const why = await cudaUnavailableReason();
    if (why !== null) {
      expect(logs.join('\n')).toMatch(/hardware decoding not used: .+; decoding in software/);
      expect(hw).toEqual(sw);
    } else {
      expect(logs).toEqual([]);
      expect(hw.length).toBe(sw.length);
    }
  });
});
