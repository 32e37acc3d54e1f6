import { execFileSync } from 'node:child_process';
import { createReadStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVidxError } from '../../core/errors.ts';
import { interpret, probe, rotationOf, toVideoFacts, LIMITS } from '../../core/video/probe.ts';
import { readWindows } from '../../core/video/window-source.ts';
import { planWindows } from '../../core/video/windows.ts';
import { i3dManifest } from './manifests.ts';
import { CRICKET_GIF, ffmpeg, makeAudioOnly, makePng, makeTextFile, makeVideo, tempDir } from '../helpers/media.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Live child processes of this test process (ffprobe/ffmpeg must never outlive a call). */
function children(): string[] {
  try {
    return execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .map((s) => s.trim())
      .filter((s) => s && !s.endsWith(' ps'));
  } catch (_e) {
    return []; // ps exits 1 when there are none
  }
}

async function probeError(input: string): Promise<{ code: string; message: string; ms: number }> {
  const t0 = performance.now();
  try {
    await probe(input);
  } catch (e) {
    if (!isVidxError(e)) throw e;
    return { code: e.code, message: e.message, ms: performance.now() - t0 };
  }
  throw new Error(`probe(${input}) succeeded`);
}

describe('probe: good videos', () => {
  for (const [fps, rate] of [[24, 24], [25, 25], ['30000/1001', 30000 / 1001], [30, 30], [60, 60]] as const) {
    it(`${fps} fps`, async () => {
      const v = await makeVideo(tmp.dir, { seconds: 1, fps, width: 64, height: 48, pattern: 'testsrc' });
      const info = await probe(v.path);
      expect(info).toMatchObject({ width: 64, height: 48, rotation: 0, codec: 'h264', hasVideo: true, startTime: 0 });
      expect(info.fps).toBeCloseTo(rate, 6);
      expect(info.avgFps).toBeCloseTo(rate, 3);
      expect(info.duration).toBeCloseTo(Math.round(rate) / rate, 2);
      expect(info.frameCount).toBe(Math.round(rate));
    });
  }

  it('rotation: width/height as displayed, clockwise degrees', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 0.5, fps: 30, width: 64, height: 32, rotate: 90, pattern: 'testsrc' });
    const info = await probe(v.path);
    expect(info.rotation % 180).toBe(90);
    expect([info.width, info.height]).toEqual([32, 64]);
  });

  it('reads the legacy rotate tag and the display matrix (counter-clockwise)', () => {
    expect(rotationOf({ tags: { rotate: '90' } })).toBe(90);
    expect(rotationOf({ tags: { rotate: '270' } })).toBe(270);
    expect(rotationOf({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: -90 }] })).toBe(90);
    expect(rotationOf({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 90 }] })).toBe(270);
    expect(rotationOf({ side_data_list: [{ side_data_type: 'Display Matrix', rotation: 180 }] })).toBe(180);
    expect(rotationOf({})).toBe(0);
  });

  it('variable frame rate and odd sizes', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 1, fps: 25, width: 63, height: 47, vfr: true });
    const info = await probe(v.path);
    expect([info.width, info.height]).toEqual([63, 47]);
    expect(info.duration).toBeGreaterThan(0.95);
    expect(info.timeBase).toEqual([1, 1000]);
  });

  it('cricket_shot.gif and its VideoFacts', async () => {
    const info = await probe(CRICKET_GIF);
    expect(toVideoFacts('cricket_shot.gif', info)).toEqual({
      source: 'cricket_shot.gif',
      duration: info.duration,
      fps: 25,
      avgFps: info.avgFps,
      width: 224,
      height: 224,
      rotation: 0,
      codec: 'gif',
    });
  });
});

describe('probe over http(s) with Range requests (as presigned S3 URLs)', () => {
  let server: Server;
  let base = '';
  const ranges: string[] = [];
  let video = '';
  beforeAll(async () => {
    video = (await makeVideo(tmp.dir, { seconds: 2, fps: 30, width: 64, height: 48, name: 'served', pattern: 'testsrc' })).path;
    server = createServer((req, res) => {
      if (req.url !== '/videos/served.mp4') {
        res.writeHead(404).end('no such key');
        return;
      }
      const size = statSync(video).size;
      const m = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
      if (req.headers.range) ranges.push(req.headers.range);
      if (m) {
        const start = Number(m[1]);
        const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
        res.writeHead(206, { 'Content-Range': `bytes ${start}-${end}/${size}`, 'Content-Length': end - start + 1, 'Accept-Ranges': 'bytes', 'Content-Type': 'video/mp4' });
        createReadStream(video, { start, end }).pipe(res);
      } else {
        res.writeHead(200, { 'Content-Length': size, 'Accept-Ranges': 'bytes', 'Content-Type': 'video/mp4' });
        createReadStream(video).pipe(res);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('probes a URL', async () => {
    const info = await probe(`${base}/videos/served.mp4`);
    expect(info).toMatchObject({ width: 64, height: 48, fps: 30, codec: 'h264' });
    expect(info.duration).toBeCloseTo(2, 2);
    expect(ranges.length).toBeGreaterThan(0);
  });

  it('decodes windows over the URL exactly as from the file', async () => {
    const m = i3dManifest({ T: 4, r: 4, F: 30, S: 24, C: 24 });
    const url = `${base}/videos/served.mp4`;
    const read = async (src: string): Promise<{ x: number[]; t: number[][] }> => {
      const info = await probe(src);
      const out = { x: [] as number[], t: [] as number[][] };
      for await (const b of readWindows(src, m, { info, windows: planWindows(info.duration, m), batch: 8 })) {
        out.x.push(...b.inputs.video!);
        out.t.push(...b.frameTimes);
      }
      return out;
    };
    const before = ranges.length;
    expect(await read(url)).toEqual(await read(video));
    expect(ranges.length).toBeGreaterThan(before);
    expect(children()).toEqual([]);
  });

  it('a missing key is VIDEO_NOT_FOUND, a closed port VIDEO_UNREACHABLE', async () => {
    expect((await probeError(`${base}/videos/missing.mp4`)).code).toBe('VIDEO_NOT_FOUND');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect((await probeError(`http://127.0.0.1:${port}/x.mp4`)).code).toBe('VIDEO_UNREACHABLE');
    expect(children()).toEqual([]);
  });
});

describe('probe: bad input gives a typed error, fast, with no child left', () => {
  const cases: [string, () => Promise<string> | string, string][] = [
    ['nonexistent path', () => join(tmp.dir, 'nope.mp4'), 'VIDEO_NOT_FOUND'],
    ['zero-byte file', () => (writeFileSync(join(tmp.dir, 'empty.mp4'), ''), join(tmp.dir, 'empty.mp4')), 'VIDEO_EMPTY'],
    ['a directory', () => tmp.dir, 'NOT_A_VIDEO'],
    ['text file', () => makeTextFile(tmp.dir), 'NOT_A_VIDEO'],
    ['png image', () => makePng(tmp.dir), 'NOT_A_VIDEO'],
    ['audio only', () => makeAudioOnly(tmp.dir), 'NOT_A_VIDEO'],
    [
      'truncated mp4 (index at the end is lost)',
      async () => {
        const v = await makeVideo(tmp.dir, { seconds: 1, fps: 30, width: 64, height: 48, name: 'full', pattern: 'testsrc' });
        const bytes = readFileSync(v.path);
        const out = join(tmp.dir, 'truncated.mp4');
        writeFileSync(out, bytes.subarray(0, Math.floor(bytes.length / 2)));
        return out;
      },
      'VIDEO_CORRUPT',
    ],
    [
      'truncated avi header',
      async () => {
        const v = await makeVideo(tmp.dir, { seconds: 1, fps: 25, width: 64, height: 48, codec: 'mpeg4', name: 'fullavi', pattern: 'testsrc' });
        const out = join(tmp.dir, 'truncated.avi');
        writeFileSync(out, readFileSync(v.path).subarray(0, 3000));
        return out;
      },
      'VIDEO_CORRUPT',
    ],
    [
      'unknown codec (AVI fourcc changed to one nothing decodes)',
      async () => {
        const v = await makeVideo(tmp.dir, { seconds: 1, fps: 25, width: 64, height: 48, codec: 'mpeg4', name: 'fourcc', pattern: 'testsrc' });
        const bytes = readFileSync(v.path);
        const patched = Buffer.from(bytes.toString('latin1').replaceAll('FMP4', 'ZQZQ'), 'latin1');
        const out = join(tmp.dir, 'unknown-codec.avi');
        writeFileSync(out, patched);
        return out;
      },
      'VIDEO_UNSUPPORTED',
    ],
    [
      `absurd size (> ${LIMITS.maxSide} px)`,
      async () => {
        const out = join(tmp.dir, 'wide.nut');
        await ffmpeg(['-f', 'lavfi', '-i', 'color=size=8200x16:rate=1', '-frames:v', '1', '-c:v', 'rawvideo', out]);
        return out;
      },
      'VIDEO_TOO_LARGE',
    ],
    [
      'absurd duration (25 h)',
      async () => {
        const out = join(tmp.dir, 'long.mkv');
        await ffmpeg(['-f', 'lavfi', '-i', 'color=size=32x32:rate=1', '-frames:v', '2', '-vf', 'settb=1/1000,setpts=N*90000000', '-c:v', 'libx264', '-vsync', 'passthrough', '-r', '1000', out]);
        return out;
      },
      'VIDEO_TOO_LARGE',
    ],
  ];
  for (const [name, make, code] of cases) {
    it(`${name}: ${code}`, async () => {
      const input = await make();
      const err = await probeError(input);
      expect(err.code).toBe(code);
      expect(err.message.length).toBeGreaterThan(10);
      expect(err.ms).toBeLessThan(5000);
      expect(children()).toEqual([]);
    });
  }

  it('damage inside the stream: decoding ends with the frames or a typed error, never a hang, no child left', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 3, fps: 25, width: 64, height: 48, container: 'mkv', name: 'damaged', pattern: 'testsrc' });
    const bytes = readFileSync(v.path);
    for (let i = Math.floor(bytes.length * 0.4); i < Math.floor(bytes.length * 0.6); i += 7) bytes[i] = (bytes[i]! * 31 + 17) & 0xff;
    const out = join(tmp.dir, 'damaged-mid.mkv');
    writeFileSync(out, bytes);
    const m = i3dManifest({ T: 4, r: 4, F: 30, S: 24, C: 24 });
    const t0 = performance.now();
    let outcome = 'ok';
    try {
      const info = await probe(out);
      for await (const b of readWindows(out, m, { info, windows: planWindows(info.duration, m), batch: 4 })) expect(b.windows.length).toBeGreaterThan(0);
    } catch (e) {
      if (!isVidxError(e)) throw e;
      outcome = e.code;
    }
    expect(['ok', 'VIDEO_CORRUPT', 'VIDEO_DECODE_FAILED']).toContain(outcome);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(children()).toEqual([]);
  });

  it('a corrupt file fails with a short, clean reason: no ffmpeg pointers, progress or banner lines', async () => {
    const v = await makeVideo(tmp.dir, { seconds: 3, fps: 24, width: 96, height: 64, name: 'to-corrupt', pattern: 'testsrc' });
    const bytes = readFileSync(v.path);
    // The container index survives; most of the coded frames become noise.
    const moov = bytes.indexOf('moov');
    const [from, to] = moov > bytes.length / 2 ? [Math.floor(bytes.length * 0.1), moov - 8] : [moov + 4096, bytes.length];
    for (let i = from; i < to; i++) bytes[i] = (i * 7919) & 0xff;
    const corrupt = join(tmp.dir, 'corrupt.mp4');
    writeFileSync(corrupt, bytes);
    const garbage = join(tmp.dir, 'garbage.mp4');
    writeFileSync(garbage, Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff)));
    const m = i3dManifest({ T: 4, r: 4, F: 30, S: 24, C: 24 });
    for (const input of [corrupt, garbage]) {
      let error: unknown;
      try {
        const info = await probe(input);
        for await (const _ of readWindows(input, m, { info, windows: planWindows(info.duration, m), batch: 4 })) void _;
      } catch (e) {
        error = e;
      }
      expect(isVidxError(error), input).toBe(true);
      const message = (error as Error).message;
      expect(['VIDEO_CORRUPT', 'VIDEO_DECODE_FAILED', 'NOT_A_VIDEO']).toContain((error as { code: string }).code);
      expect(message).not.toMatch(/@ 0x|0x[0-9a-f]{6,}/i); // [h264 @ 0x55d0c3a8]
      expect(message).not.toMatch(/frame=|fps=|bitrate=|speed=|Parsed_showinfo|Conversion failed|muxing overhead|\| /);
      // What is left after the path is one or two short sentences from the decoder.
      expect(message.split(input).join('').length, message).toBeLessThanOrEqual(260);
    }
  });

  it('absurd frame counts and zero durations, from ffprobe JSON', () => {
    const stream = { index: 0, codec_type: 'video', codec_name: 'h264', width: 64, height: 48, r_frame_rate: '1000/1', avg_frame_rate: '1000/1', time_base: '1/1000' };
    const ok = new Set(['h264']);
    expect(() => interpret('x', { streams: [{ ...stream, duration: '7200' }], format: { format_name: 'mov' } }, ok)).toThrow(expect.objectContaining({ code: 'VIDEO_TOO_LARGE' }));
    expect(() => interpret('x', { streams: [{ ...stream, duration: '0' }], format: { format_name: 'mov' } }, ok)).toThrow(expect.objectContaining({ code: 'VIDEO_CORRUPT' }));
    expect(() => interpret('x', { streams: [{ ...stream, duration: '1', codec_name: 'av1' }], format: { format_name: 'mov' } }, ok)).toThrow(
      expect.objectContaining({ code: 'VIDEO_UNSUPPORTED' }),
    );
    // Cover art in an audio file is a video stream marked attached_pic: still not a video.
    expect(() => interpret('x', { streams: [{ index: 0, codec_type: 'audio' }, { ...stream, disposition: { attached_pic: 1 } }], format: { format_name: 'mp3' } }, ok)).toThrow(
      expect.objectContaining({ code: 'NOT_A_VIDEO' }),
    );
  });
});
